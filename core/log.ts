/**
 * pino logs; one root logger, a child per component (`{ component: 'opcua', source: 'plant1' }`).
 * JSON lines for machines (a service's log collector, the tests), readable lines on a terminal.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * `AQUAWATCH_LOG_FORMAT` (json or pretty) when set, else pretty when standard output is a terminal
 * and JSON otherwise. Throws on any other value, naming the variable.
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTerminal = Boolean(process.stdout.isTTY)): LogFormat {
  const chosen = env.AQUAWATCH_LOG_FORMAT;
  if (chosen === undefined || chosen === '') return isTerminal ? 'pretty' : 'json';
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  throw new Error(`AQUAWATCH_LOG_FORMAT: must be json or pretty (got ${chosen})`);
}

/** The pino-pretty options used here. */
interface PrettyOptions { colorize: boolean; translateTime: string; ignore: string; singleLine: boolean; sync: boolean }

/**
 * pino-pretty as an in-process stream, one line per entry: `[time] LEVEL: message {fields}`. Required
 * only when pretty output is chosen (synchronously, as createLogger is), so JSON logging (services,
 * tests) never loads it; writes are synchronous, so the last lines before `process.exit` are kept.
 */
function prettyStream(): DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: PrettyOptions) => DestinationStream;
  return pretty({ colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app', singleLine: true, sync: true });
}

export function createLogger(level: string = process.env.AQUAWATCH_LOG_LEVEL ?? 'info'): Logger {
  const options = { level, base: { app: 'aquawatch' }, timestamp: pino.stdTimeFunctions.isoTime };
  return logFormat() === 'pretty' ? pino(options, prettyStream()) : pino(options);
}

/** A logger that writes nothing, for tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
