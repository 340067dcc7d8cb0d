/**
 * `aquawatch` services as child processes, the way a split deployment runs them: resolves with the
 * HTTP address from the service's "ready" line, rejects if it exits first (with its last stderr).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export function startService(command: string, configFile: string, children: ChildProcess[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const child = spawn(process.execPath, ['bin/aquawatch.js', command, '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d) => { err = (err + d).slice(-4000); });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => { if (l.includes('"ready":true')) resolve(JSON.parse(l).http as string); });
    child.once('exit', (code) => reject(new Error(`${command} exited ${code}: ${err.slice(-1500)}`)));
  });
}
