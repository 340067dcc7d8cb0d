/** Administration: users and PDA device tokens (admin only). */
import { z } from 'zod';
import type { DeviceTokenInfo } from '../../core/state/device-tokens.ts';
import { endpoint, ok, idParams, text, type Equal, type Expect } from './common.ts';
import { role, password } from './auth.ts';

export const username = z.string().min(2).max(64).regex(/^[A-Za-z0-9_.\-]+$/);

export const userRow = z.strictObject({ username: z.string(), displayName: z.string(), role, createdAt: z.number(), disabled: z.boolean() });
export type UserRow = z.infer<typeof userRow>;

export const deviceToken = z.strictObject({ deviceId: z.string(), note: z.string().nullable(), createdAt: z.number() });
export type DeviceToken = z.infer<typeof deviceToken>;
/** The secret is shown this once. */
export const deviceTokenCreated = z.strictObject({ deviceId: z.string(), token: z.string(), note: z.string().optional() });
export type DeviceTokenCreated = z.infer<typeof deviceTokenCreated>;

export type AdminMatchServer = Expect<Equal<DeviceToken, DeviceTokenInfo>>;

export const admin = {
  users: endpoint({ method: 'GET', url: '/users', tags: ['admin'], summary: 'Users', permission: 'users.manage', response: z.array(userRow) }),
  createUser: endpoint({
    method: 'POST', url: '/users', tags: ['admin'], summary: 'Create a user', permission: 'users.manage',
    body: z.strictObject({ username, displayName: text(100).optional(), role, password }), status: 201, response: userRow,
  }),
  updateUser: endpoint({
    method: 'PATCH', url: '/users/:username', tags: ['admin'], summary: 'Change a user (role, password, disable)', permission: 'users.manage',
    params: z.strictObject({ username: z.string().min(1).max(256) }),
    body: z.strictObject({ displayName: text(100).optional(), role: role.optional(), password: password.optional(), disabled: z.boolean().optional() }),
    response: userRow,
  }),
  deviceTokens: endpoint({
    method: 'GET', url: '/device-tokens', tags: ['admin'], summary: 'PDA device tokens (no secrets)', permission: 'tokens.manage', response: z.array(deviceToken),
  }),
  createDeviceToken: endpoint({
    method: 'POST', url: '/device-tokens', tags: ['admin'], summary: 'Issue a device token (the secret is shown once)', permission: 'tokens.manage',
    body: z.strictObject({ device: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/), note: text(200).optional() }),
    status: 201, response: deviceTokenCreated,
  }),
  revokeDeviceToken: endpoint({
    method: 'DELETE', url: '/device-tokens/:id', tags: ['admin'], summary: 'Revoke a device token', permission: 'tokens.manage',
    params: idParams, response: ok,
  }),
};
