/** Administration: users and PDA device tokens (admin only). */
import type { FastifyInstance } from 'fastify';
import { ROLES, MIN_PASSWORD_LENGTH, type User } from '../../../core/state/users.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { obj, str, params } from '../schemas.ts';

const username = { type: 'string', minLength: 2, maxLength: 64, pattern: '^[A-Za-z0-9_.\\-]+$' };
const view = (u: User) => ({ username: u.username, displayName: u.displayName, role: u.role, createdAt: u.createdAt, disabled: u.disabled });

export function registerAdminRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/users', { config: { permission: 'users.manage' }, schema: { tags: ['admin'], summary: 'Users' } }, async () => ctx.users.list().map(view));

  app.post('/users', {
    config: { permission: 'users.manage' },
    schema: {
      tags: ['admin'], summary: 'Create a user',
      body: obj({ username, displayName: str(100), role: { type: 'string', enum: [...ROLES] }, password: str(1024, MIN_PASSWORD_LENGTH) }, ['username', 'role', 'password']),
    },
  }, async (req, reply) => {
    const u = await ctx.users.create(req.body as { username: string; displayName?: string; role: string; password: string });
    ctx.log.info({ user: u.username, role: u.role, by: req.dashUser!.username }, 'user created');
    return reply.code(201).send(view(u));
  });

  app.patch('/users/:username', {
    config: { permission: 'users.manage' },
    schema: {
      tags: ['admin'], summary: 'Change a user (role, password, disable)', params: params('username'),
      body: obj({ displayName: str(100), role: { type: 'string', enum: [...ROLES] }, password: str(1024, MIN_PASSWORD_LENGTH), disabled: { type: 'boolean' } }),
    },
  }, async (req) => {
    const name = (req.params as { username: string }).username;
    const patch = req.body as { displayName?: string; role?: string; password?: string; disabled?: boolean };
    const current = ctx.users.get(name);
    if (!current) throw new ApiError(404, 'not_found', `username: no user ${name}`);
    const losesAdmin = current.role === 'admin' && !current.disabled && ((patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true);
    if (losesAdmin && ctx.users.list().filter((u) => u.role === 'admin' && !u.disabled).length <= 1) {
      throw new ApiError(409, 'conflict', `username: ${name} is the last enabled admin`);
    }
    const u = await ctx.users.update(name, patch);
    // a new password or a disabled account signs the user out everywhere
    if (patch.password !== undefined || patch.disabled === true) ctx.sessions.deleteForUser(name);
    ctx.log.info({ user: name, fields: Object.keys(patch), by: req.dashUser!.username }, 'user changed');
    return view(u);
  });

  app.get('/device-tokens', { config: { permission: 'tokens.manage' }, schema: { tags: ['admin'], summary: 'PDA device tokens (no secrets)' } }, async () => ctx.tokens.list());

  app.post('/device-tokens', {
    config: { permission: 'tokens.manage' },
    schema: { tags: ['admin'], summary: 'Issue a device token (the secret is shown once)', body: obj({ device: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:\\-]+$' }, note: str(200) }, ['device']) },
  }, async (req, reply) => {
    const { device, note } = req.body as { device: string; note?: string };
    if (ctx.tokens.list().some((t) => t.deviceId === device)) throw new ApiError(409, 'conflict', `device: ${device} already has a token (revoke it first)`);
    const token = ctx.tokens.create(device, note);
    ctx.log.info({ device, by: req.dashUser!.username }, 'device token issued');
    return reply.code(201).send({ deviceId: device, token, ...(note ? { note } : {}) });
  });

  app.delete('/device-tokens/:id', {
    config: { permission: 'tokens.manage' },
    schema: { tags: ['admin'], summary: 'Revoke a device token', params: params('id') },
  }, async (req) => {
    const { id } = req.params as { id: string };
    if (!ctx.tokens.revoke(id)) throw new ApiError(404, 'not_found', `id: device ${id} has no token`);
    ctx.log.info({ device: id, by: req.dashUser!.username }, 'device token revoked');
    return { ok: true };
  });
}
