/** Review L1: the configured admin's password is applied at creation, not at every start (a change in the dashboard stays). */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import pino from 'pino';
import { applyConfiguredAdmin } from './configured-admin.ts';
import { UserStore } from './state/users.ts';
import { SessionStore } from './state/sessions.ts';

const CONFIGURED = 'configured-password-1';
const CHANGED = 'changed-in-the-dashboard';

describe('the configured administrator', () => {
  it('is created with the configured password, keeps one changed in the dashboard with a warning, and is reset only when asked', async () => {
    const db = new Database(':memory:');
    const users = new UserStore(db);
    const sessions = new SessionStore(db);
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => { warnings.push((JSON.parse(line) as { msg: string }).msg); } });
    const admin = { username: 'root', password: CONFIGURED, resetPassword: false };

    expect(await applyConfiguredAdmin(admin, users, sessions, log)).toBe('created');
    expect(await users.verify('root', CONFIGURED)).toMatchObject({ role: 'admin' });
    expect(await applyConfiguredAdmin(admin, users, sessions, log)).toBe('unchanged');
    expect(warnings).toEqual([]);

    // the admin changes the password in the dashboard and stays signed in; a restart keeps both
    await users.update('root', { password: CHANGED });
    const { id } = sessions.create('root');
    expect(await applyConfiguredAdmin(admin, users, sessions, log)).toBe('kept_dashboard_password');
    expect(await users.verify('root', CHANGED)).toBeDefined();
    expect(await users.verify('root', CONFIGURED)).toBeUndefined();
    expect(sessions.get(id)).toBeDefined();
    expect(warnings).toEqual([expect.stringContaining('auth.admin.password is not applied')]);

    // resetPassword: the configured password again, and the sessions opened with the other one end
    expect(await applyConfiguredAdmin({ ...admin, resetPassword: true }, users, sessions, log)).toBe('password_reset');
    expect(await users.verify('root', CONFIGURED)).toBeDefined();
    expect(sessions.get(id)).toBeUndefined();
    expect(warnings[1]).toContain('auth.admin.resetPassword');
    db.close();
  });

  it('never keeps a published demo password: a data directory that ran the demo gets the configured one', async () => {
    const users = new UserStore(':memory:');
    const sessions = new SessionStore(':memory:');
    await users.create({ username: 'admin', role: 'admin', password: 'demo-admin-2026' });
    const log = pino({ level: 'silent' });
    expect(await applyConfiguredAdmin({ username: 'admin', password: CONFIGURED, resetPassword: false }, users, sessions, log, 'demo-admin-2026')).toBe('password_reset');
    expect(await users.verify('admin', 'demo-admin-2026')).toBeUndefined();
    expect(await users.verify('admin', CONFIGURED)).toBeDefined();
    users.close();
    sessions.close();
  });
});
