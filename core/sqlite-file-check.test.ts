/**
 * F6 (c): a damaged outbox or state database at start stops the service with a message naming the
 * file, what is wrong and the remedy, and leaves the file as it was (the outbox holds unsent
 * readings). Real files: garbage bytes, and a real database cut short.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Point } from './model/reading.ts';
import { Outbox } from '../ingest/pipeline/outbox.ts';
import { closeStateDb, openStateDb } from './state/state-db.ts';
import { DatabaseFileError } from './sqlite-file-check.ts';
import { DeviceTokenStore } from './state/device-tokens.ts';

const ROOT = join(import.meta.dirname, '..');
// starts node with tsx: slow on a loaded machine, so generous
const PROCESS_TIMEOUT = 120_000;

function outboxAt(path: string): Outbox {
  return new Outbox({ path, maxReadings: 1_000_000, batchMaxSize: 1000, batchMaxDelayMs: 0 });
}

function readings(n: number, from: number): Point[] {
  return Array.from({ length: n }, (_, i) => ({ measurement: 'pressure', sensor: `p${i % 7}`, ts: from + i * 1000, value: i / 10, quality: 'good', site: 'plant', dma: 'north' }));
}

/** The error a start-up open throws, for its message; fails the test when the open succeeds. */
function openingError(open: () => unknown): DatabaseFileError {
  try {
    open();
  } catch (e) {
    expect(e).toBeInstanceOf(DatabaseFileError);
    return e as DatabaseFileError;
  }
  throw new Error('the damaged file opened without an error');
}

describe('F6 damaged database files at start', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'aw-f6-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('F6 an outbox of garbage bytes: names the file, says it is not a database and how to recover it, leaves it as it was', () => {
    const file = join(dir, 'outbox.sqlite');
    const garbage = randomBytes(64 * 1024);
    writeFileSync(file, garbage);
    const e = openingError(() => outboxAt(file));
    expect(e.message).toContain(`${file}: is not an SQLite database`);
    expect(e.message).toContain('do not delete it');
    expect(e.message).toContain(`sqlite3 ${file}.damaged .recover | sqlite3 ${file}`);
    expect(readFileSync(file).equals(garbage)).toBe(true);
  });

  it('F6 an outbox cut short (a real database truncated): names the file and the damage, leaves it as it was', () => {
    const file = join(dir, 'outbox.sqlite');
    const outbox = outboxAt(file);
    for (let i = 0; i < 40; i++) outbox.appendRow(readings(500, i * 500_000));
    outbox.db.pragma('wal_checkpoint(TRUNCATE)');
    outbox.close();
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const cut = readFileSync(file);
    const e = openingError(() => outboxAt(file));
    expect(e.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is a damaged SQLite database \\(`));
    expect(e.message).toContain('Stop ingest, move it aside');
    expect(readFileSync(file).equals(cut)).toBe(true);
  });

  it('F6 a state database of garbage bytes or cut short: names the file and says to restore the latest backup', () => {
    const garbage = join(dir, 'garbage-state.sqlite');
    writeFileSync(garbage, randomBytes(8192));
    const cut = join(dir, 'cut-state.sqlite');
    const db = openStateDb(cut);
    db.exec('CREATE TABLE alarms (id INTEGER PRIMARY KEY, text TEXT)');
    const insert = db.prepare('INSERT INTO alarms (text) VALUES (?)');
    for (let i = 0; i < 3000; i++) insert.run(`alarm ${i} ${'x'.repeat(200)}`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    closeStateDb(db);
    truncateSync(cut, Math.floor(statSync(cut).size / 2));
    for (const [file, problem] of [[garbage, 'is not an SQLite database'], [cut, 'is a damaged SQLite database']]) {
      const e = openingError(() => openStateDb(file));
      expect(e.message).toContain(`${file}: ${problem}`);
      expect(e.message).toContain('aquawatch restore BACKUP_FILE');
    }
  });

  it('F6 healthy outbox and state files open again with what they held', async () => {
    const outboxPath = join(dir, 'outbox.sqlite');
    const first = outboxAt(outboxPath);
    first.appendRow(readings(10, 0));
    first.close();
    const again = outboxAt(outboxPath);
    expect(again.depth).toBe(10);
    again.close();
    const statePath = join(dir, 'state.sqlite');
    const db = openStateDb(statePath);
    db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('kept')");
    closeStateDb(db);
    const reopened = openStateDb(statePath);
    expect(reopened.prepare('SELECT text FROM notes').pluck().get()).toBe('kept');
    closeStateDb(reopened);
  });

  it('F6 the aquawatch command prints the message as one line and exits 1 (outbox and state); the state remedy as printed works', async () => {
    writeFileSync(join(dir, 'outbox.sqlite'), randomBytes(4096));
    writeFileSync(join(dir, 'state.sqlite'), randomBytes(4096));
    writeFileSync(join(dir, 'site.yaml'), `dataDir: ${JSON.stringify(dir)}\n`);
    const run = (args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/aquawatch.js', ...args, '--config', join(dir, 'site.yaml')], { cwd: ROOT, timeout: PROCESS_TIMEOUT },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
    });
    const [deadLetters, tokens] = await Promise.all([run(['dead-letters', 'list']), run(['token', 'list'])]);
    expect(deadLetters.code).toBe(1);
    expect(deadLetters.stderr.trim().split('\n')).toHaveLength(1);
    expect(deadLetters.stderr).toContain(`aquawatch: ${join(dir, 'outbox.sqlite')}: is not an SQLite database`);
    expect(deadLetters.stderr).toContain('.recover');
    expect(tokens.code).toBe(1);
    expect(tokens.stderr.trim().split('\n')).toHaveLength(1);
    expect(tokens.stderr).toContain(`aquawatch: ${join(dir, 'state.sqlite')}: is not an SQLite database`);
    expect(tokens.stderr).toContain('aquawatch restore BACKUP_FILE');

    // the state remedy as printed: move the file aside (kept), restore a backup, and it starts again
    const backup = join(dir, 'backup.sqlite');
    const backedUp = new DeviceTokenStore(backup);
    backedUp.create('pda-7');
    backedUp.close();
    const state = join(dir, 'state.sqlite');
    expect(tokens.stderr).toContain(`mv ${state} ${state}.damaged`);
    renameSync(state, `${state}.damaged`);
    expect(await run(['restore', backup])).toMatchObject({ code: 0, stderr: '' });
    const after = await run(['token', 'list']);
    expect(after).toMatchObject({ code: 0, stderr: '' });
    expect(after.stdout).toContain('pda-7');
  }, PROCESS_TIMEOUT);
});
