/** Sign-in, sign-out, the signed-in user. */
import { z } from 'zod';
import { endpoint, ok, text, PERMISSION_NAMES } from './common.ts';

/** The roles a user may have; the server's user store and the browser both take them from here. */
export const ROLES = ['admin', 'dispatcher', 'maintenance', 'customer_service', 'viewer'] as const;
export const MIN_PASSWORD_LENGTH = 12;
/**
 * Why a new password is refused (dashboard/server/state/password-policy.ts): the API's error carries
 * the rule in `rule`, and the dashboard says it in the user's language.
 */
export const PASSWORD_RULES = ['length', 'breached', 'common', 'context', 'repeat', 'sequence', 'keyboard'] as const;
export type PasswordRule = (typeof PASSWORD_RULES)[number];

export const role = z.enum(ROLES);
export type Role = z.infer<typeof role>;

/** The signed-in user as the API shows it: the permissions come from the role (PERMISSIONS). */
export const apiUser = z.strictObject({
  username: z.string(), displayName: z.string(), role, permissions: z.array(z.enum(PERMISSION_NAMES)),
});
export type User = z.infer<typeof apiUser>;

export const session = z.strictObject({ user: apiUser, csrfToken: z.string() });
export type Session = z.infer<typeof session>;

export const authInfo = z.strictObject({
  mode: z.enum(['demo', 'production']),
  site: z.strictObject({ name: z.string(), timezone: z.string() }),
  /** Demo mode only: the demo users and their passwords. */
  demoUsers: z.array(z.strictObject({ username: z.string(), password: z.string(), role })).optional(),
});
export type AuthInfo = z.infer<typeof authInfo>;

export const password = text(1024, MIN_PASSWORD_LENGTH);

export const auth = {
  login: endpoint({
    method: 'POST', url: '/auth/login', tags: ['auth'], summary: 'Sign in (sets the session cookie)', public: true,
    body: z.strictObject({ username: text(64, 1), password: text(1024, 1) }),
    response: session,
  }),
  logout: endpoint({ method: 'POST', url: '/auth/logout', tags: ['auth'], summary: 'Sign out', response: ok }),
  me: endpoint({ method: 'GET', url: '/auth/me', tags: ['auth'], summary: 'The signed-in user and the CSRF token', response: session }),
  info: endpoint({
    method: 'GET', url: '/auth/info', tags: ['auth'], summary: 'Mode, site and (demo mode) the demo users', public: true,
    response: authInfo,
  }),
};
