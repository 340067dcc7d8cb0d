/** What every command shares: its options and loading the configuration with a clear error. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type LoadedConfig } from '../../core/config/load.ts';
import { SOURCES } from '../../ingest/sources/registry.ts';

export interface ParsedCommand {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** `--config/-c` and `--help/-h` plus the command's own options. Unknown options are an error. */
export function commonOptions(argv: string[], extra: ParseArgsConfig['options'] = {}): ParsedCommand {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, ...extra },
  });
  return { values: values as ParsedCommand['values'], positionals };
}

/** Load the config (`--config`, else $AQUAWATCH_CONFIG, else defaults) or print a clear error. */
export function loadConfigOrExplain(file: string | undefined): LoadedConfig | undefined {
  try {
    return loadConfig(file ?? process.env.AQUAWATCH_CONFIG, process.env, SOURCES);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`configuration error: ${e.message}`);
      return undefined;
    }
    throw e;
  }
}
