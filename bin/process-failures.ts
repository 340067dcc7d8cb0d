/**
 * Failures nobody awaits. A command's background task (the demo's simulation) is logged when it fails
 * and the process keeps serving; an unhandled rejection or uncaught exception anywhere is logged with
 * the command it happened in, then the process exits 1 (as Node would, but with a line a log collector
 * can read instead of a bare stack on stderr).
 */
import { createLogger, type Logger } from '../core/log.ts';

/** Runs `task` without awaiting it: `onDone` with its result, or its failure logged as an error (never unhandled). */
export function runInBackground<T>(task: Promise<T>, log: Logger, what: string, onDone: (result: T) => void): void {
  task.then(onDone).catch((err: unknown) => log.error({ err }, `${what} stopped with an error; the process keeps serving without it`));
}

/** Logs, as fatal and with context (command, origin, uptime), what would otherwise crash the process silently, then exits 1. */
export function logProcessFailures(command: string, log: () => Logger = () => createLogger()): void {
  const fatal = (origin: 'unhandledRejection' | 'uncaughtException', err: unknown) => {
    try {
      log().fatal({ err, origin, command, pid: process.pid, uptimeS: Math.round(process.uptime()) }, `aquawatch ${command}: ${origin}, exiting`);
    } finally {
      process.exit(1);
    }
  };
  process.on('unhandledRejection', (reason) => fatal('unhandledRejection', reason));
  process.on('uncaughtException', (err) => fatal('uncaughtException', err));
}
