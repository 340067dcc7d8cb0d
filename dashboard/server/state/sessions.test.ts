/** Sessions: 256-bit random ids kept only as hashes, CSRF token per session, idle expiry. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SessionStore } from './sessions.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('SessionStore', () => {
  it('issues 256-bit ids and CSRF tokens, and stores only the id\'s hash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-sessions-'));
    dirs.push(dir);
    const path = join(dir, 'state.sqlite');
    const s = new SessionStore(path);
    const a = s.create('ann');
    const b = s.create('ann');
    expect(Buffer.from(a.id, 'base64url')).toHaveLength(32);
    expect(a.id).not.toBe(b.id);
    expect(a.session.csrfToken).not.toBe(b.session.csrfToken);
    expect(s.get(a.id)).toMatchObject({ username: 'ann', csrfToken: a.session.csrfToken });
    s.close();
    const stored = JSON.stringify(new Database(path).prepare('SELECT * FROM sessions').all());
    expect(stored).not.toContain(a.id);
    expect(stored).toContain(a.session.csrfToken);
  });

  it('ends a session at its absolute lifetime however much it is used (review L1)', () => {
    let now = 1_000_000;
    const s = new SessionStore(':memory:', { idleMs: 3_600_000, maxAgeMs: 24 * 3_600_000, now: () => now });
    const { id } = s.create('ann');
    // used every 30 minutes: the idle expiry alone would keep it forever
    for (let t = 0; t < 47; t++) { now += 30 * 60_000; expect(s.get(id)).toBeDefined(); }
    now += 30 * 60_000; // 24 h after sign-in
    expect(s.get(id)).toBeUndefined();
    const fresh = s.create('ann');
    expect(s.purgeExpired()).toBe(0);
    now += 24 * 3_600_000 + 1;
    s.get(fresh.id);
    expect(s.get(fresh.id)).toBeUndefined();
  });

  it('expires a session after the idle time; use keeps it alive', () => {
    let now = 1_000_000;
    const s = new SessionStore(':memory:', { idleMs: 3_600_000, now: () => now });
    const { id } = s.create('ann');
    now += 50 * 60_000;
    expect(s.get(id)).toBeDefined(); // used: idle time starts again
    now += 50 * 60_000;
    expect(s.get(id)).toBeDefined();
    now += 61 * 60_000;
    expect(s.get(id)).toBeUndefined();
    expect(s.get(id)).toBeUndefined(); // and it is gone
    s.close();
  });

  it('signs out one session or every session of a user; ignores malformed ids', () => {
    const s = new SessionStore(':memory:');
    const a = s.create('ann');
    const b = s.create('ann');
    const c = s.create('bob');
    expect(s.delete(a.id)).toBe(true);
    expect(s.get(a.id)).toBeUndefined();
    expect(s.deleteForUser('ann')).toBe(1);
    expect(s.get(b.id)).toBeUndefined();
    expect(s.get(c.id)?.username).toBe('bob');
    expect(s.get(undefined)).toBeUndefined();
    expect(s.get("' OR 1=1 --")).toBeUndefined();
    s.close();
  });
});
