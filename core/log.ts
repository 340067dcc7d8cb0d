/** pino JSON logs; one root logger, a child per component (`{ component: 'opcua', source: 'plant1' }`). */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.AQUAWATCH_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'aquawatch' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that writes nothing, for tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
