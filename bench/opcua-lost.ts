/**
 * ingest.opcua_lost: 10,000 monitored items sampled at 1 s from a real node-opcua server whose
 * values change once a second; the ingest process (its own process, SQLite store) must store
 * every change. Reports changes made minus changes stored.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { startTestServer, tempFolder } from '../test/support/opcua-server.ts';
import { freePort } from '../test/support/ports.ts';
import type { Figure } from './run.ts';

const ITEMS = 10_000;

export async function opcuaLost(quick: boolean): Promise<Figure> {
  const seconds = quick ? 15 : 60;
  const server = await startTestServer({ port: await freePort(), pkiFolder: tempFolder('bench'), bulk: { count: ITEMS, prefix: 'b.' } });
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-opcua-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify({
    dataDir: dir, log: { level: 'warn' }, http: { ingestPort: await freePort() }, broker: { port: await freePort() },
    sources: { opcua: [{ name: 'bench', endpoint: server.endpoint, samplingIntervalMs: 1000, publishingIntervalMs: 1000 }] },
    topology: {
      sites: [{ id: 'S1' }],
      sensors: Array.from({ length: ITEMS }, (_, i) => ({ id: `B${i}`, kind: 'level', site: 'S1', source: { type: 'opcua', server: 'bench', nodeId: `ns=1;s=b.${i}` } })),
    },
  }));
  const child = spawn(process.execPath, ['bin/aquawatch.js', 'ingest', '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => { if (l.includes('"ready":true')) resolve(); });
    child.once('exit', (c) => reject(new Error(`ingest exited ${c}`)));
  });
  const count = () => {
    const db = new Database(join(dir, 'tsdb.sqlite'), { readonly: true });
    try { return (db.prepare("SELECT COUNT(*) AS n FROM readings WHERE measurement = 'level'").get() as { n: number }).n; } finally { db.close(); }
  };
  // wait for the initial values of all items
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try { if (count() >= ITEMS) break; } catch { /* store not created yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  const initial = count();
  let changes = 0;
  const t0 = Date.now();
  for (let s = 1; s <= seconds; s++) {
    const ts = new Date(t0 + s * 1000);
    for (let i = 0; i < ITEMS; i++) server.setValue(`b.${i}`, s + i / ITEMS, { sourceTimestamp: ts });
    changes += ITEMS;
    const wait = t0 + s * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  // let the last publish and the outbox drain
  let stored = 0;
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    stored = count() - initial;
    if (stored >= changes) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); });
  await server.stop();
  const lost = Math.max(0, changes - stored);
  console.error(`  opcua: ${changes} changes made, ${stored} stored, ${lost} lost (${ITEMS} items, ${seconds} s)`);
  return { bench: 'ingest.opcua_lost', value: lost, unit: 'changes', target: '0' };
}
