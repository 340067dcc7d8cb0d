/**
 * Bearer tokens of field devices (PDA meter readers). A token is shown once, when it is created;
 * only its SHA-256 hash is kept, so a copy of the state database gives nobody a working token.
 *
 * Two verifiers share one interface:
 * - DeviceTokenStore: tokens issued by the server, in a table of the state database (SQLite);
 * - HashedTokenList: tokens listed as hashes in the YAML configuration, for an ingest instance that
 *   runs without the server's state database.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeStateDb, storeDb } from './state-db.ts';

export interface TokenVerifier {
  /** The device a token belongs to, or undefined when the token is unknown or revoked. */
  verify(token: string): string | undefined;
}

export interface DeviceTokenInfo {
  deviceId: string;
  note: string | null;
  /** ms since the epoch. */
  createdAt: number;
}

/** SHA-256 of a token, as 64 lower-case hex digits (the form the YAML `tokenSha256` takes). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares `hash` with every entry without stopping at the first match, so timing reveals nothing. */
function findByHash(hash: Buffer, entries: Iterable<{ deviceId: string; hash: Buffer }>): string | undefined {
  let found: string | undefined;
  for (const e of entries) {
    if (e.hash.length === hash.length && timingSafeEqual(e.hash, hash) && found === undefined) found = e.deviceId;
  }
  return found;
}

const DEVICE_ID = /^[A-Za-z0-9_.:\-]{1,128}$/;

/** This store's tables, created through the state database's owner (core/state/state-db.ts). */
const TABLES = `
  CREATE TABLE IF NOT EXISTS device_tokens (
    device_id TEXT PRIMARY KEY,
    token_sha256 BLOB NOT NULL,
    note TEXT,
    created_at INTEGER NOT NULL)`;

export class DeviceTokenStore implements TokenVerifier {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;
  private readonly allHashes: Database.Statement;

  /** `db`: a path to the state database file, or an open better-sqlite3 database to share. */
  constructor(db: string | Database.Database, private readonly now: () => number = Date.now) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
    this.allHashes = this.db.prepare('SELECT device_id AS deviceId, token_sha256 AS hash FROM device_tokens');
  }

  /**
   * Issue a token for a device and return it. This is the only time the token is available: store
   * it on the device. A device has one token; creating a second one is refused (use rotate).
   */
  create(deviceId: string, note?: string): string {
    if (!DEVICE_ID.test(deviceId)) throw new Error(`deviceId: ${JSON.stringify(deviceId)} must be 1-128 letters, digits or _ . : -`);
    const exists = this.db.prepare('SELECT 1 FROM device_tokens WHERE device_id = ?').get(deviceId);
    if (exists) throw new Error(`deviceId: ${deviceId} already has a token (revoke it first, or rotate)`);
    return this.issue(deviceId, note ?? null);
  }

  /** Replace a device's token with a new one (the old one stops working at once) and return it. */
  rotate(deviceId: string, note?: string): string {
    const row = this.db.prepare('SELECT note FROM device_tokens WHERE device_id = ?').get(deviceId) as { note: string | null } | undefined;
    if (!row) throw new Error(`deviceId: ${deviceId} has no token to rotate`);
    return this.issue(deviceId, note ?? row.note);
  }

  private issue(deviceId: string, note: string | null): string {
    const token = randomBytes(32).toString('base64url');
    this.db.prepare('INSERT OR REPLACE INTO device_tokens (device_id, token_sha256, note, created_at) VALUES (?, ?, ?, ?)')
      .run(deviceId, Buffer.from(hashToken(token), 'hex'), note, this.now());
    return token;
  }

  /**
   * The device of a token. Reads the table on every call, so a token created or revoked by another
   * process (the CLI) takes effect at once; a utility has hundreds of PDAs, not millions.
   */
  verify(token: string): string | undefined {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) return undefined;
    const hash = Buffer.from(hashToken(token), 'hex');
    return findByHash(hash, this.allHashes.all() as { deviceId: string; hash: Buffer }[]);
  }

  /** Remove a device's token. Returns whether there was one. */
  revoke(deviceId: string): boolean {
    return this.db.prepare('DELETE FROM device_tokens WHERE device_id = ?').run(deviceId).changes > 0;
  }

  list(): DeviceTokenInfo[] {
    return this.db.prepare('SELECT device_id AS deviceId, note, created_at AS createdAt FROM device_tokens ORDER BY device_id')
      .all() as DeviceTokenInfo[];
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }
}

/** Tokens configured as SHA-256 hashes (`sources.pda.devices` in the YAML). */
export class HashedTokenList implements TokenVerifier {
  private readonly entries: { deviceId: string; hash: Buffer }[];

  constructor(devices: readonly { id: string; tokenSha256: string }[]) {
    this.entries = devices.map((d, i) => {
      if (!/^[0-9a-fA-F]{64}$/.test(d.tokenSha256)) throw new Error(`devices[${i}].tokenSha256: must be 64 hex digits (the SHA-256 of the token)`);
      return { deviceId: d.id, hash: Buffer.from(d.tokenSha256, 'hex') };
    });
  }

  verify(token: string): string | undefined {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) return undefined;
    return findByHash(Buffer.from(hashToken(token), 'hex'), this.entries);
  }
}

/** The first verifier that knows the token wins. */
export function anyVerifier(...verifiers: readonly (TokenVerifier | undefined)[]): TokenVerifier {
  const list = verifiers.filter((v): v is TokenVerifier => v !== undefined);
  return { verify: (token) => { for (const v of list) { const d = v.verify(token); if (d !== undefined) return d; } return undefined; } };
}
