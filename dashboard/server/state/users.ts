/**
 * Dashboard users in the server's state database (SQLite): username, display name, role, and a
 * scrypt hash of the password with a per-user random salt. Verification always runs scrypt (a dummy
 * hash for an unknown user) and compares in constant time, so timing reveals neither the password
 * nor whether the user exists.
 */
import Database from 'better-sqlite3';
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { closeStateDb, storeDb } from '../../../core/state/state-db.ts';
import { DomainError, type DomainErrorCode } from '../../../core/errors.ts';

import { ROLES, MIN_PASSWORD_LENGTH } from '../../contract/auth.ts';
import { PASSWORD_RULE_TEXT, PasswordPolicy, type PasswordRule } from './password-policy.ts';

export { ROLES, MIN_PASSWORD_LENGTH };
export type Role = (typeof ROLES)[number];
const USERNAME = /^[A-Za-z0-9_.\-]{2,64}$/;
/** scrypt cost: N=2^15, r=8, p=1 (about 50 ms and 32 MiB per hash), key 64 bytes. */
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 64, maxmem: 64 * 1024 * 1024 };

export interface User {
  username: string;
  displayName: string;
  role: Role;
  createdAt: number;
  disabled: boolean;
}

export class UserError extends DomainError {
  constructor(readonly field: string, reason: string, code: DomainErrorCode = 'validation', rule?: PasswordRule) {
    super(code, `${field}: ${reason}`, field, rule);
    this.name = 'UserError';
  }
}

/** A new password the policy refuses: the message and `rule` name the rule (password-policy.ts). */
export class WeakPasswordError extends UserError {
  constructor(readonly rule: PasswordRule) {
    super('password', `refused by the password rule ${rule}: ${PASSWORD_RULE_TEXT[rule]}`, 'validation', rule);
    this.name = 'WeakPasswordError';
  }
}

interface UserRow { username: string; display_name: string; role: string; password_hash: string; created_at: number; disabled: number }

function scryptAsync(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((res, rej) => scrypt(password.normalize('NFKC'), salt, keylen, options, (err, key) => (err ? rej(err) : res(key))));
}

export async function hashPassword(password: string, salt: Buffer = randomBytes(16)): Promise<string> {
  const key = await scryptAsync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: SCRYPT.maxmem });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time check of `password` against a stored `scrypt$N$r$p$salt$key` hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltB64, keyB64] = stored.split('$');
  if (scheme !== 'scrypt' || !saltB64 || !keyB64) return false;
  const expected = Buffer.from(keyB64, 'base64');
  const actual = await scryptAsync(password, Buffer.from(saltB64, 'base64'), expected.length,
    { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Hash compared against when the user does not exist, so that case costs the same. */
let dummyHash: Promise<string> | undefined;

function checkUsername(v: unknown): string {
  if (typeof v !== 'string' || !USERNAME.test(v)) throw new UserError('username', 'must be 2-64 letters, digits or _ . -');
  return v;
}
function checkRole(v: unknown): Role {
  if (typeof v !== 'string' || !(ROLES as readonly string[]).includes(v)) throw new UserError('role', `must be one of ${ROLES.join(', ')}`);
  return v as Role;
}
function checkPassword(v: unknown): string {
  if (typeof v !== 'string' || v.length < MIN_PASSWORD_LENGTH) throw new UserError('password', `must be at least ${MIN_PASSWORD_LENGTH} characters`, 'validation', 'length');
  if (v.length > 1024) throw new UserError('password', 'must be at most 1024 characters');
  return v;
}

/** This store's tables, created through the state database's owner (core/state/state-db.ts). */
const TABLES = `
  CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0)`;

export class UserStore {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;

  /**
   * `db`: a path to the state database file (`:memory:` for tests), or an open database to share.
   * `policy`: which new passwords are refused (the dashboard's has the site's name and
   * auth.breachedPasswordFile).
   */
  constructor(db: string | Database.Database, private readonly now: () => number = Date.now,
    private readonly policy: PasswordPolicy = PasswordPolicy.builtIn()) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
  }

  /** A new account; its password must pass the policy. */
  async create(input: { username: string; displayName?: string; role: string; password: string }): Promise<User> {
    return this.add(input, true);
  }

  private async add(input: { username: string; displayName?: string; role: string; password: string }, checkPolicy: boolean): Promise<User> {
    const username = checkUsername(input.username);
    const role = checkRole(input.role);
    const password = checkPassword(input.password);
    const displayName = (input.displayName ?? username).trim() || username;
    if (checkPolicy) await this.requireAcceptable(password, { username, displayName });
    if (this.row(username)) throw new UserError('username', `${username} already exists`, 'conflict');
    const hash = await hashPassword(password);
    if (this.row(username)) throw new UserError('username', `${username} already exists`, 'conflict');
    this.db.prepare('INSERT INTO users (username, display_name, role, password_hash, created_at, disabled) VALUES (?, ?, ?, ?, ?, 0)')
      .run(username, displayName, role, hash, this.now());
    return this.get(username)!;
  }

  /** A changed password must pass the policy. */
  async update(username: string, patch: { displayName?: string; role?: string; password?: string; disabled?: boolean }): Promise<User> {
    let row = this.row(username);
    if (!row) throw new UserError('username', `no user ${username}`, 'not_found');
    const role = patch.role !== undefined ? checkRole(patch.role) : row.role;
    if (patch.password !== undefined) {
      await this.requireAcceptable(checkPassword(patch.password), { username, displayName: patch.displayName ?? row.display_name });
    }
    const newHash = patch.password !== undefined ? await hashPassword(patch.password) : undefined;
    row = this.row(username);
    if (!row) throw new UserError('username', `no user ${username}`, 'not_found');
    const displayName = patch.displayName !== undefined ? patch.displayName.trim() || username : row.display_name;
    const hash = newHash ?? row.password_hash;
    const disabled = patch.disabled !== undefined ? (patch.disabled ? 1 : 0) : row.disabled;
    this.db.prepare('UPDATE users SET display_name = ?, role = ?, password_hash = ?, disabled = ? WHERE username = ?')
      .run(displayName, role, hash, disabled, username);
    return this.get(username)!;
  }

  get(username: string): User | undefined {
    const row = this.row(username);
    return row ? toUser(row) : undefined;
  }

  list(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY username').all() as UserRow[]).map(toUser);
  }

  /** The user when the password is right and the account enabled; otherwise undefined (same cost). */
  async verify(username: string, password: string): Promise<User | undefined> {
    const row = typeof username === 'string' && username.length <= 64 ? this.row(username) : undefined;
    const stored = row?.password_hash ?? await (dummyHash ??= hashPassword('not a password of anyone'));
    const ok = await verifyPassword(typeof password === 'string' ? password : '', stored);
    return row && ok && !row.disabled ? toUser(row) : undefined;
  }

  /**
   * Make sure a demo user exists with this role and password: created when missing, role and
   * password set when they differ; an account disabled stays disabled. A demo password is published
   * on the sign-in page anyway, so only its length is checked, not the password rules.
   */
  async ensure(input: { username: string; displayName?: string; role: Role; password: string }): Promise<User> {
    const row = this.row(input.username);
    if (!row) return this.add(input, false);
    const role = input.role;
    if (row.role === role && await verifyPassword(input.password, row.password_hash)) return toUser(row);
    const hash = await hashPassword(checkPassword(input.password));
    this.db.prepare('UPDATE users SET role = ?, password_hash = ? WHERE username = ?').run(role, hash, input.username);
    return this.get(input.username)!;
  }

  /** The rule this password would break for the user, or undefined (a warning for a password set before the rules). */
  passwordRuleBroken(password: string, user: { username: string; displayName?: string }): Promise<PasswordRule | undefined> {
    return this.policy.check(password, user);
  }

  private async requireAcceptable(password: string, user: { username: string; displayName?: string }): Promise<void> {
    const rule = await this.policy.check(password, user);
    if (rule) throw new WeakPasswordError(rule);
  }

  /** True when the account exists and this is its password, enabled or not. */
  async hasPassword(username: string, password: string): Promise<boolean> {
    const row = this.row(username);
    return row !== undefined && await verifyPassword(password, row.password_hash);
  }

  /** Delete the account (its sessions are the session store's to end). True when there was one. */
  remove(username: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE username = ?').run(username).changes > 0;
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }

  private row(username: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
  }
}

function toUser(r: UserRow): User {
  return { username: r.username, displayName: r.display_name, role: r.role as Role, createdAt: r.created_at, disabled: !!r.disabled };
}
