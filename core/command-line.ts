/**
 * One way for every `aquawatch` command to read its options (node:util parseArgs, strict), so they
 * all behave alike: `-h/--help` prints the command's usage on stdout (exit 0); an unknown or malformed
 * option, or an argument the command does not take, prints a one-line reason and the usage on stderr
 * (exit 2). Commands that check option values further (a port, a time) fail the same way with `fail`.
 *
 * In core because the commands live in bin/, in ingest (CSV import) and in bench/.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
/** The parsed values, typed from the options: string options are strings, boolean ones booleans. */
export type OptionValues<O extends OptionsConfig> =
  { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string } & { help?: boolean };

/** Exit code of a usage error: bad option, missing or extra argument. */
export const USAGE_EXIT = 2;

export interface CommandSpec<O extends OptionsConfig> {
  /** Starts every error line, e.g. `aquawatch analyze`. */
  command: string;
  usage: string;
  options: O;
  /** Whether the command takes positional arguments (default: none, and one given is an error). */
  positionals?: boolean;
}

/** Where usage and errors go, a line at a time; tests give their own. Default: stdout and stderr. */
export interface CommandIo {
  out?: (line: string) => void;
  err?: (line: string) => void;
}

export interface CommandLine<O extends OptionsConfig> {
  values: OptionValues<O>;
  positionals: string[];
  /** Print `reason` (one line) and the usage on stderr; returns the usage exit code for `return`. */
  fail(reason: string): number;
}

/**
 * Parse `argv` for a command. Returns the parsed command line, or an exit code when the command is
 * already answered: 0 after `--help`, 2 after a usage error (both printed).
 */
export function parseCommandLine<const O extends OptionsConfig>(spec: CommandSpec<O>, argv: string[], io: CommandIo = {}): CommandLine<O> | number {
  const out = io.out ?? ((l: string) => console.log(l));
  const err = io.err ?? ((l: string) => console.error(l));
  const fail = (reason: string): number => {
    err(`${spec.command}: ${reason}\n\n${spec.usage}`);
    return USAGE_EXIT;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, strict: true, allowPositionals: spec.positionals ?? false,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    // node's messages go on with advice about '--'; the first sentence is the reason
    // ("Unknown option '--bogus'", "Option '-c, --config <value>' argument missing", "Unexpected argument 'x'")
    return fail((e as Error).message.split('. ')[0]);
  }
  const values = parsed.values as OptionValues<O>;
  if (values.help) {
    out(spec.usage);
    return 0;
  }
  return { values, positionals: parsed.positionals, fail };
}

/**
 * An integer option's value: undefined when absent, or the reason it is not a whole number in
 * [min, max] (e.g. `--http-port: must be an integer from 0 to 65535 (got 80a)`).
 */
export function integerOption(name: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined | { error: string } {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    return { error: `--${name}: must be an integer ${range} (got ${text})` };
  }
  return n;
}

/** The range of a TCP port option. */
export const PORT: [number, number] = [0, 65535];
