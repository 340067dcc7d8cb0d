import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DeviceTokenStore, HashedTokenList, anyVerifier, hashToken } from './device-tokens.ts';

describe('DeviceTokenStore on a SQLite file', () => {
  let dir: string;
  let file: string;
  let store: DeviceTokenStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aw-tokens-'));
    file = join(dir, 'state.sqlite');
    store = new DeviceTokenStore(file, () => 1_700_000_000_000);
  });
  afterEach(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });

  it('issues a random base64url token that verifies to its device', () => {
    const t1 = store.create('pda-01', 'reader Li');
    const t2 = store.create('pda-02');
    expect(t1).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(t1).not.toBe(t2);
    expect(store.verify(t1)).toBe('pda-01');
    expect(store.verify(t2)).toBe('pda-02');
    expect(store.verify(t1 + 'x')).toBeUndefined();
    expect(store.verify('')).toBeUndefined();
    expect(store.list()).toEqual([
      { deviceId: 'pda-01', note: 'reader Li', createdAt: 1_700_000_000_000 },
      { deviceId: 'pda-02', note: null, createdAt: 1_700_000_000_000 },
    ]);
  });

  it('stores only the SHA-256 of the token', () => {
    const token = store.create('pda-03');
    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT * FROM device_tokens').all() as Record<string, unknown>[];
    db.close();
    const dump = JSON.stringify(rows.map((r) => ({ ...r, token_sha256: (r.token_sha256 as Buffer).toString('hex') })));
    expect(dump).not.toContain(token);
    expect(dump).toContain(hashToken(token));
  });

  it('revokes a token, refuses a second token for one device, and rotates', () => {
    const token = store.create('pda-04');
    expect(() => store.create('pda-04')).toThrow(/deviceId: pda-04 already has a token/);
    const rotated = store.rotate('pda-04');
    expect(store.verify(token)).toBeUndefined();
    expect(store.verify(rotated)).toBe('pda-04');
    expect(store.revoke('pda-04')).toBe(true);
    expect(store.verify(rotated)).toBeUndefined();
    expect(store.revoke('pda-04')).toBe(false);
    expect(() => store.create('bad id!')).toThrow(/deviceId: .* must be/);
  });

  it('sees tokens created by another connection to the same file (the CLI) at once', () => {
    const other = new DeviceTokenStore(file);
    const token = other.create('pda-05');
    expect(store.verify(token)).toBe('pda-05');
    other.revoke('pda-05');
    expect(store.verify(token)).toBeUndefined();
    other.close();
  });
});

describe('HashedTokenList (tokens configured as hashes in YAML)', () => {
  it('verifies a token by its hash and rejects others', () => {
    const list = new HashedTokenList([{ id: 'pda-yaml', tokenSha256: hashToken('s3cret-token').toUpperCase() }]);
    expect(list.verify('s3cret-token')).toBe('pda-yaml');
    expect(list.verify('s3cret-tokeN')).toBeUndefined();
  });

  it('names the bad entry', () => {
    expect(() => new HashedTokenList([{ id: 'x', tokenSha256: 'abc' }])).toThrow('devices[0].tokenSha256: must be 64 hex digits');
  });

  it('combines with the database store', () => {
    const store = new DeviceTokenStore(':memory:');
    const issued = store.create('pda-db');
    const v = anyVerifier(store, new HashedTokenList([{ id: 'pda-yaml', tokenSha256: hashToken('yaml-token') }]));
    expect(v.verify(issued)).toBe('pda-db');
    expect(v.verify('yaml-token')).toBe('pda-yaml');
    expect(v.verify('nope')).toBeUndefined();
    store.close();
  });
});
