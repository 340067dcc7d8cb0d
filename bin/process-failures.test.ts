/** Review L10: a failed background task is logged and the process lives on; a crash is logged with context before exit. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { runInBackground } from './process-failures.ts';

/** A process that installs the crash loggers for `start`, then fails as `failure` says; its exit code and stdout. */
function crash(failure: string): Promise<{ code: number | null; stdout: string }> {
  const code = `const { logProcessFailures } = await import('./bin/process-failures.ts'); logProcessFailures('start'); ${failure}`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code],
      { cwd: join(import.meta.dirname, '..'), env: { ...process.env, AQUAWATCH_LOG_FORMAT: 'json' }, timeout: 60_000 },
      (error, stdout) => resolve({ code: error ? (error.code as number | null) : 0, stdout }));
  });
}

describe('process failures', () => {
  it('logs a background task that fails, as an error, without an unhandled rejection', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
    const done: number[] = [];
    runInBackground(Promise.reject(new Error('OPC UA plant stopped')), log, 'the simulation', () => done.push(1));
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]).toMatchObject({ level: 50, msg: 'the simulation stopped with an error; the process keeps serving without it', err: { message: 'OPC UA plant stopped' } });
    runInBackground(Promise.resolve(7), log, 'the simulation', (n) => done.push(n));
    await expect.poll(() => done).toEqual([7]);
  });

  it('logs an unhandled rejection and an uncaught exception as fatal with the command, then exits 1', async () => {
    const [rejected, thrown] = await Promise.all([
      crash("Promise.reject(new Error('simulator fell over'));"),
      crash("setTimeout(() => { throw new Error('timer blew up'); }, 0);"),
    ]);
    for (const [r, origin, message] of [[rejected, 'unhandledRejection', 'simulator fell over'], [thrown, 'uncaughtException', 'timer blew up']] as const) {
      expect(r.code).toBe(1);
      const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 60, origin, command: 'start', err: { message }, msg: `aquawatch start: ${origin}, exiting` });
    }
  }, 120_000);
});
