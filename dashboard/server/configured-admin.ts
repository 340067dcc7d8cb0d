/**
 * The administrator of the config's `auth.admin`: created with the configured password at first
 * start. Later the password is the one kept in the state database (an admin may change it in the
 * dashboard): a configured password that differs is not applied, with a warning, unless
 * `resetPassword: true` asks for it, or the stored one is a published demo password (a data directory
 * that ran the demo); then the admin's sessions end too. Review L1: a restart used to
 * undo a password change silently and keep the sessions. A configured password is held to the
 * password rules (state/password-policy.ts) when it is applied: one they refuse stops the start,
 * naming `auth.admin.password` and the rule; one applied before the rules existed is kept, with a warning.
 */
import type { Logger } from 'pino';
import type { AuthConfig } from '../../core/config/schema.ts';
import { UserError, type UserStore } from './state/users.ts';
import type { SessionStore } from './state/sessions.ts';

/** A configured password the rules refuse stops the start, naming the config key. */
async function namingTheKey<T>(change: Promise<T>): Promise<T> {
  try {
    return await change;
  } catch (e) {
    if (e instanceof UserError && e.field === 'password') throw new Error(`auth.admin.${e.message}`);
    throw e;
  }
}

export type ConfiguredAdminOutcome = 'created' | 'unchanged' | 'kept_dashboard_password' | 'password_reset';

/** `publishedPassword`: the demo account's password of the same name, never kept (anyone may know it). */
export async function applyConfiguredAdmin(admin: NonNullable<AuthConfig['admin']>, users: UserStore, sessions: SessionStore, log: Logger,
  publishedPassword?: string): Promise<ConfiguredAdminOutcome> {
  const { username } = admin;
  const existing = users.get(username);
  if (!existing) {
    await namingTheKey(users.create({ username, displayName: admin.displayName, role: 'admin', password: admin.password }));
    return 'created';
  }
  // the config names this account the administrator: its role follows the config, not the dashboard
  if (existing.role !== 'admin') await users.update(username, { role: 'admin' });
  if (await users.hasPassword(username, admin.password)) {
    const rule = await users.passwordRuleBroken(admin.password, existing);
    if (rule) log.warn({ username, rule }, `auth.admin.password breaks the password rule ${rule} (it was set before the rule existed): change it`);
    return 'unchanged';
  }
  const published = publishedPassword !== undefined && await users.hasPassword(username, publishedPassword);
  if (admin.resetPassword || published) {
    await namingTheKey(users.update(username, { password: admin.password }));
    const sessionsEnded = sessions.deleteForUser(username);
    if (published) log.warn({ username, sessionsEnded }, 'auth.admin: the administrator had the published demo password; it is the configured one now and its sessions ended');
    else log.warn({ username, sessionsEnded }, 'auth.admin.resetPassword: the administrator\'s password is the configured one again and its sessions ended; remove resetPassword from the config');
    return 'password_reset';
  }
  log.warn({ username }, 'auth.admin.password is not applied: the administrator\'s password was changed in the dashboard and that one is kept (set auth.admin.resetPassword: true to go back to the configured one)');
  return 'kept_dashboard_password';
}
