/**
 * `aquawatch backup` while another process writes to the state database, and `aquawatch restore` of
 * that copy: the copy is one consistent snapshot. The writer commits a device token and a counter in
 * one transaction each time, so a consistent copy has as many tokens as its counter says; a copy
 * torn between two transactions would not. Real processes: the writer, backup and restore.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { DeviceTokenStore } from '../../core/state/device-tokens.ts';
import { waitFor } from '../../test/support/ports.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function aquawatch(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/aquawatch.js', ...args], { cwd: ROOT, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

/** A process that keeps committing (token i, counter = i) until killed; prints i after each commit. */
const WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
db.exec('CREATE TABLE IF NOT EXISTS backup_probe (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)');
const add = db.transaction((i) => {
  db.prepare('INSERT INTO device_tokens (device_id, token_sha256, note, created_at) VALUES (?, ?, NULL, ?)').run('pda-' + i, Buffer.alloc(32, i % 256), Date.now());
  db.prepare('INSERT INTO backup_probe (id, n) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET n = excluded.n').run(i);
});
let i = 0;
const step = () => { for (let k = 0; k < 20; k++) add(++i); console.log(i); setImmediate(step); };
step();
`;

describe('aquawatch backup and restore of the state database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aw-backup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('backs up while another process writes, and restores a consistent database', async () => {
    const live = join(dir, 'live');
    const restored = join(dir, 'restored');
    for (const [name, dataDir] of [['live.yaml', live], ['restored.yaml', restored]]) {
      writeFileSync(join(dir, name), `dataDir: ${dataDir}\n`);
    }
    new DeviceTokenStore(join(live, 'state.sqlite')).close(); // the real schema

    const writer = spawn(process.execPath, ['-e', WRITER, join(live, 'state.sqlite')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let written = 0;
    createInterface({ input: writer.stdout! }).on('line', (l) => { written = Number(l); });
    try {
      await waitFor(() => written >= 2000, 60_000, 20, 'the writer to commit 2000 tokens');
      const before = written;
      const backup = await aquawatch(['backup', '--config', join(dir, 'live.yaml'), '--out', join(dir, 'copy.sqlite')]);
      expect(backup.stderr).toBe('');
      expect(backup.code).toBe(0);
      expect(backup.stdout).toMatch(/backed up to .*copy\.sqlite/);
      // the writer went on committing while the copy was made
      await waitFor(() => written > before + 100, 30_000, 20, 'more commits after the backup');
    } finally {
      writer.kill('SIGKILL');
    }

    const restore = await aquawatch(['restore', join(dir, 'copy.sqlite'), '--config', join(dir, 'restored.yaml')]);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    const db = new Database(join(restored, 'state.sqlite'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const tokens = (db.prepare('SELECT count(*) AS n FROM device_tokens').get() as { n: number }).n;
      const counter = (db.prepare('SELECT n FROM backup_probe').get() as { n: number }).n;
      expect(tokens).toBe(counter);
      expect(tokens).toBeGreaterThanOrEqual(2000);
      expect(tokens).toBeLessThan(written);
    } finally {
      db.close();
    }
  }, 180_000);

  it('refuses to restore a file that is not an aquawatch state database, leaving the database alone', async () => {
    const other = join(dir, 'other.sqlite');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const target = join(dir, 'untouched');
    writeFileSync(join(dir, 'untouched.yaml'), `dataDir: ${target}\n`);
    const store = new DeviceTokenStore(join(target, 'state.sqlite'));
    store.create('pda-1');
    store.close();
    const r = await aquawatch(['restore', other, '--config', join(dir, 'untouched.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not an aquawatch state database/);
    const kept = new DeviceTokenStore(join(target, 'state.sqlite'));
    expect(kept.list().map((t) => t.deviceId)).toEqual(['pda-1']);
    kept.close();
  }, 120_000);

  it('refuses to restore while a service has the state database open, naming it, and restores once it stopped', async () => {
    const target = join(dir, 'in-use');
    writeFileSync(join(dir, 'in-use.yaml'), `dataDir: ${target}\n`);
    const statePath = join(target, 'state.sqlite');
    const seeded = new DeviceTokenStore(statePath);
    seeded.create('pda-before');
    seeded.close();
    await aquawatch(['backup', '--config', join(dir, 'in-use.yaml'), '--out', join(dir, 'in-use-copy.sqlite')]);

    // A process holding the database the way the services do (a store opened through openStateDb).
    const holderScript = join(dir, 'state-holder.mts');
    writeFileSync(holderScript, `import { DeviceTokenStore } from ${JSON.stringify(join(ROOT, 'core/state/device-tokens.ts'))};
const store = new DeviceTokenStore(process.argv[2]);
store.create('pda-while-open');
console.log('open');
setInterval(() => {}, 1000);`);
    const holder = spawn(process.execPath, ['--import', 'tsx', holderScript, statePath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let open = false;
    createInterface({ input: holder.stdout! }).on('line', (l) => { if (l === 'open') open = true; });
    try {
      await waitFor(() => open, 60_000, 20, 'the holder to open the state database');
      const refused = await aquawatch(['restore', join(dir, 'in-use-copy.sqlite'), '--config', join(dir, 'in-use.yaml')]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/is in use: stop the services using it first/);
      expect(refused.stderr).toContain(`state-holder.mts (pid ${holder.pid} on `);
      const untouched = new Database(statePath, { readonly: true });
      const devices = (untouched.prepare('SELECT device_id FROM device_tokens ORDER BY device_id').all() as { device_id: string }[]).map((r) => r.device_id);
      untouched.close();
      expect(devices).toEqual(['pda-before', 'pda-while-open']);
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((resolve) => holder.once('exit', resolve));

    // Killed without closing: its row in the holders table stays, but the file is free and restore goes on.
    const restored = await aquawatch(['restore', join(dir, 'in-use-copy.sqlite'), '--config', join(dir, 'in-use.yaml')]);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const kept = new DeviceTokenStore(statePath);
    expect(kept.list().map((t) => t.deviceId)).toEqual(['pda-before']);
    kept.close();
  }, 120_000);
});
