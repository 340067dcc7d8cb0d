/**
 * Which test files may run side by side (vitest.config.ts). A file is *parallel-safe* when neither
 * it nor the test/support modules it imports touch anything another file could be using at the same
 * time or that a busy CPU would slow past a timeout: child processes (the platform, the CLI, git),
 * sockets and servers (even on port 0: their tests wait on timers and peers), the brokers,
 * InfluxDB, OPC UA, SMTP and the browser. Everything else (detectors on simulated data, fastify
 * `inject`, parsers, the state database in a temporary folder) runs on two workers first; the
 * rest runs one file at a time afterwards, alone on the machine, as the whole suite did before.
 *
 * Read from the source at every run, so a new test file is put in its group without a list to
 * keep; a file that only looks safe (a product module it calls opens a socket) shows as a clash or
 * timeout, and belongs in SEQUENTIAL_ALWAYS below.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** What a file's source names when it uses a shared or timing-sensitive resource. */
const SHARED_RESOURCE = /child_process|node:net|node:https?|node:dgram|from 'mqtt'|aedes|influx|INFLUXDB_URL|MQTT_URL|opcua|playwright|chromium|nodemailer|smtp|victoria|freePort|\.listen\(/i;

/** Files that look parallel-safe by their source but are not (none known). */
const SEQUENTIAL_ALWAYS: readonly string[] = [];

const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'bench']);

/** The project's test files, relative to `root`, split into the two groups. */
export function testGroups(root: string): { parallel: string[]; sequential: string[] } {
  const parallel: string[] = [];
  const sequential: string[] = [];
  for (const file of testFiles(root)) {
    const rel = relative(root, file);
    if (SEQUENTIAL_ALWAYS.includes(rel) || usesSharedResource(file, new Set())) sequential.push(rel);
    else parallel.push(rel);
  }
  return { parallel, sequential };
}

/** Whether the file, or a test/support module it imports (transitively), names a shared resource. */
export function usesSharedResource(file: string, seen: Set<string>): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  if (SHARED_RESOURCE.test(source)) return true;
  for (const m of source.matchAll(/from '(\.[^']+)'/g)) {
    const target = resolve(dirname(file), m[1]);
    if (target.includes(join('test', 'support')) && usesSharedResource(target, seen)) return true;
  }
  return false;
}

function testFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.') || SKIPPED_FOLDERS.has(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...testFiles(path));
    else if (entry.endsWith('.test.ts')) found.push(path);
  }
  return found.sort();
}
