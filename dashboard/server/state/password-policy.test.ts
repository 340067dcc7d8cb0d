/**
 * Review L1: a new password is refused when it is common, breached (the utility's own list, plain or
 * Have I Been Pwned's sorted SHA-1 file) or guessable from names and patterns, naming the rule; the
 * user store applies it to created and changed passwords, not to the published demo accounts; a
 * configured administrator's password the rules refuse stops the start naming the key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PasswordPolicy } from './password-policy.ts';
import { UserStore, WeakPasswordError } from './users.ts';
import { SessionStore } from './sessions.ts';
import { applyConfiguredAdmin } from '../configured-admin.ts';

const USER = { username: 'zhang.wei', displayName: 'Zhang Wei' };
const sha1 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex').toUpperCase();
const dir = () => mkdtempSync(join(tmpdir(), 'aw-passwords-'));

describe('L1 password rules', () => {
  it('refuse common, guessable and patterned passwords, naming the rule, and accept passphrases and random ones', async () => {
    const policy = PasswordPolicy.builtIn(['Example Water Supply Co.']);
    const refused: [string, string][] = [
      ['eleven char', 'length'],
      ['password1234', 'common'], ['P@ssw0rd2026!', 'common'], ['Summer2026!!!', 'common'], ['!!dragon12345', 'common'], ['1qaz2wsx3edc', 'common'],
      ['Aquawatch@2026', 'context'], ['zhang.wei.2026!', 'context'], ['Example-Water-1', 'context'], ['SCADA#2026#admin', 'context'],
      ['aaaaaaaaaaaa', 'repeat'], ['abcabcabcabc', 'repeat'], ['Dragon!Dragon!', 'repeat'],
      ['abcdef123456', 'sequence'], ['zyxwvutsrqpo', 'sequence'],
      ['zxcvbnm,./as', 'keyboard'], ['poiuytrewq;l', 'keyboard'],
    ];
    for (const [password, rule] of refused) expect(await policy.check(password, USER), password).toBe(rule);
    for (const password of ['correct horse battery', 'river-lamp-orbit-42', 'vN8#kq2!Lp0z', 'a-long-admin-password', 'Tr0ub4dor&3xyz']) {
      expect(await policy.check(password, USER), password).toBeUndefined();
    }
  });

  it('refuse what the utility\'s breached-password file holds: a plain list, or sorted SHA-1 hashes searched in the file', async () => {
    const d = dir();
    const plain = join(d, 'common.txt');
    writeFileSync(plain, 'Kanalisation2019\r\nwasserwerk-passwort\n');
    const fromPlain = await PasswordPolicy.open({ breachedFile: plain });
    expect(await fromPlain.check('kanalisation2019', USER)).toBe('breached');
    expect(await fromPlain.check('wasserwerk-passwort', USER)).toBe('breached');
    expect(await fromPlain.check('river-lamp-orbit-42', USER)).toBeUndefined();

    // Have I Been Pwned's format, sorted by hash: 20,000 lines, the breached passwords among them,
    // one of them the first line and one the last
    const breached = ['wasserwerk-passwort', 'Kläranlage#2019', 'first line pw', 'last line pw'];
    const lines = Array.from({ length: 20_000 }, () => `${randomBytes(20).toString('hex').toUpperCase()}:${1 + randomBytes(1)[0]}`);
    lines.push(...breached.map((p, i) => `${sha1(p)}:${i + 1}`), `0000000000000000000000000000000000000000:1`, 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:1');
    lines.sort();
    const hibp = join(d, 'pwned-passwords-sha1-ordered-by-hash.txt');
    writeFileSync(hibp, `${lines.join('\r\n')}\r\n`);
    const fromHashes = await PasswordPolicy.open({ breachedFile: hibp });
    for (const p of breached) expect(await fromHashes.check(p, USER), p).toBe('breached');
    expect(await fromHashes.check('wasserwerk-Passwort', USER)).toBeUndefined();
    expect(await fromHashes.check('river-lamp-orbit-42', USER)).toBeUndefined();

    const unsorted = join(d, 'unsorted.txt');
    writeFileSync(unsorted, `${sha1('b')}:1\n${sha1('a')}:1\n`.split('\n').sort().reverse().join('\n'));
    await expect(PasswordPolicy.open({ breachedFile: unsorted })).rejects.toThrow(/^auth\.breachedPasswordFile: .* not sorted/);
    await expect(PasswordPolicy.open({ breachedFile: join(d, 'missing.txt') })).rejects.toThrow(/^auth\.breachedPasswordFile: cannot read/);
  });

  it('hold for created and changed passwords, not for the published demo accounts, and stop a start with a refused auth.admin.password', async () => {
    const users = new UserStore(':memory:');
    const refusal = users.create({ username: 'op1', role: 'viewer', password: 'football2026' });
    await expect(refusal).rejects.toBeInstanceOf(WeakPasswordError);
    await expect(refusal).rejects.toMatchObject({ rule: 'common', field: 'password', code: 'validation' });
    await users.create({ username: 'op1', role: 'viewer', password: 'river-lamp-orbit-42' });
    await expect(users.update('op1', { password: 'kestrel-kestrel-' })).rejects.toMatchObject({ rule: 'repeat' });
    expect(await users.verify('op1', 'river-lamp-orbit-42')).toBeDefined();
    await users.ensure({ username: 'viewer', role: 'viewer', password: 'demo-viewer-2026' });
    expect(await users.verify('viewer', 'demo-viewer-2026')).toBeDefined();

    const sessions = new SessionStore(':memory:');
    const log = pino({ level: 'silent' });
    await expect(applyConfiguredAdmin({ username: 'root', password: 'Aquawatch2026!', resetPassword: false }, users, sessions, log))
      .rejects.toThrow(/^auth\.admin\.password: refused by the password rule context/);
    expect(users.get('root')).toBeUndefined();
    users.close();
    sessions.close();
  });
});
