/** Users: scrypt hashes with a per-user salt, verification, validation naming the field. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashPassword, UserStore, verifyPassword } from './users.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const dbPath = () => { const d = mkdtempSync(join(tmpdir(), 'aw-users-')); dirs.push(d); return join(d, 'state.sqlite'); };

describe('UserStore', () => {
  it('stores scrypt hashes with a salt of their own, never the password', async () => {
    const path = dbPath();
    const users = new UserStore(path, () => 1000);
    await users.create({ username: 'ann', role: 'dispatcher', password: 'same password 1' });
    await users.create({ username: 'bob', role: 'viewer', password: 'same password 1' });
    users.close();
    const rows = new Database(path).prepare('SELECT username, password_hash AS h FROM users ORDER BY username').all() as { h: string }[];
    expect(rows[0].h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]{86}==$/);
    expect(rows[0].h).not.toBe(rows[1].h); // same password, different salts
    expect(rows.map((r) => r.h).join()).not.toContain('same password');
  });

  it('verifies the right password only, and refuses a disabled account', async () => {
    const users = new UserStore(dbPath(), () => 1000);
    await users.create({ username: 'ann', displayName: '安', role: 'dispatcher', password: 'correct horse battery' });
    expect(await users.verify('ann', 'correct horse battery')).toEqual({ username: 'ann', displayName: '安', role: 'dispatcher', createdAt: 1000, disabled: false });
    expect(await users.verify('ann', 'correct horse batterY')).toBeUndefined();
    expect(await users.verify('nobody', 'correct horse battery')).toBeUndefined();
    await users.update('ann', { disabled: true });
    expect(await users.verify('ann', 'correct horse battery')).toBeUndefined();
    await users.update('ann', { disabled: false, password: 'a brand new password' });
    expect(await users.verify('ann', 'correct horse battery')).toBeUndefined();
    expect((await users.verify('ann', 'a brand new password'))?.username).toBe('ann');
    users.close();
  });

  it('refuses bad input naming the field', async () => {
    const users = new UserStore(dbPath());
    await expect(users.create({ username: 'a b', role: 'viewer', password: 'long enough pw' })).rejects.toThrowError(/^username: must be 2-64/);
    await expect(users.create({ username: 'ann', role: 'boss', password: 'long enough pw' })).rejects.toThrowError(/^role: must be one of admin, dispatcher/);
    await expect(users.create({ username: 'ann', role: 'viewer', password: 'short' })).rejects.toThrowError(/^password: must be at least 12 characters/);
    await users.create({ username: 'ann', role: 'viewer', password: 'long enough pw' });
    await expect(users.create({ username: 'ann', role: 'viewer', password: 'long enough pw' })).rejects.toThrowError(/^username: ann already exists/);
    await expect(users.update('zed', { role: 'admin' })).rejects.toThrowError(/^username: no user zed/);
    users.close();
  });

  it('ensure() creates a user, then resets role and password to the configured ones', async () => {
    const users = new UserStore(dbPath());
    await users.ensure({ username: 'admin', role: 'admin', password: 'first admin password' });
    await users.update('admin', { role: 'viewer' });
    await users.ensure({ username: 'admin', role: 'admin', password: 'second admin password' });
    expect(users.get('admin')!.role).toBe('admin');
    expect(await users.verify('admin', 'first admin password')).toBeUndefined();
    expect(await users.verify('admin', 'second admin password')).toBeDefined();
    users.close();
  });

  it('hashPassword/verifyPassword round-trip and reject a malformed hash', async () => {
    const h = await hashPassword('密码也可以是中文的对吧');
    expect(await verifyPassword('密码也可以是中文的对吧', h)).toBe(true);
    expect(await verifyPassword('密码也可以是中文的对', h)).toBe(false);
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
  });
});
