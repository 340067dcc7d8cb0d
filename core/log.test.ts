import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { logFormat } from './log.ts';

/** A process that logs one line through createLogger, as a command would; its stdout. */
function logOnce(env: NodeJS.ProcessEnv): Promise<string> {
  const code = "const { createLogger } = await import('./core/log.ts'); createLogger().info({ dma: 'north' }, 'backfill 42%');";
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code],
      { cwd: join(import.meta.dirname, '..'), env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

describe('log format', () => {
  it('is pretty on a terminal and JSON otherwise, unless AQUAWATCH_LOG_FORMAT says', () => {
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ AQUAWATCH_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ AQUAWATCH_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(() => logFormat({ AQUAWATCH_LOG_FORMAT: 'xml' }, false)).toThrow('AQUAWATCH_LOG_FORMAT: must be json or pretty (got xml)');
  });

  it('writes JSON lines when not on a terminal and readable lines with pretty', async () => {
    const [json, pretty] = await Promise.all([logOnce({ AQUAWATCH_LOG_FORMAT: '' }), logOnce({ AQUAWATCH_LOG_FORMAT: 'pretty' })]);
    expect(JSON.parse(json)).toMatchObject({ level: 30, app: 'aquawatch', dma: 'north', msg: 'backfill 42%' });
    // one line, e.g. '[13:45:01.123] INFO: backfill 42% {"dma":"north"}', without colour codes off a terminal
    expect(pretty).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: backfill 42% \{"dma":"north"\}\n$/);
  }, 120_000);
});
