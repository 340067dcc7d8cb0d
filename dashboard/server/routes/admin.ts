/** Administration: users and PDA device tokens (admin only). */
import type { FastifyInstance } from 'fastify';
import type { User } from '../state/users.ts';
import { API, type UserRow } from '../../contract/index.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { serve, type ServeOptions } from '../schemas.ts';

const view = (u: User): UserRow => ({ username: u.username, displayName: u.displayName, role: u.role, createdAt: u.createdAt, disabled: u.disabled });

export function registerAdminRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  serve(app, API.admin.users, async () => ctx.users.list().map(view), opts);

  serve(app, API.admin.createUser, async (req) => {
    const u = await ctx.users.create(req.body);
    ctx.log.info({ user: u.username, role: u.role, by: req.dashUser!.username }, 'user created');
    return view(u);
  }, opts);

  serve(app, API.admin.updateUser, async (req) => {
    const name = req.params.username;
    const patch = req.body;
    const current = ctx.users.get(name);
    if (!current) throw new ApiError('not_found', `username: no user ${name}`, 'params.username');
    const losesAdmin = current.role === 'admin' && !current.disabled && ((patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true);
    if (losesAdmin && ctx.users.list().filter((u) => u.role === 'admin' && !u.disabled).length <= 1) {
      throw new ApiError('conflict', `username: ${name} is the last enabled admin`, 'params.username');
    }
    const u = await ctx.users.update(name, patch);
    // a new password or a disabled account signs the user out everywhere
    if (patch.password !== undefined || patch.disabled === true) ctx.sessions.deleteForUser(name);
    ctx.log.info({ user: name, fields: Object.keys(patch), by: req.dashUser!.username }, 'user changed');
    return view(u);
  }, opts);

  serve(app, API.admin.deviceTokens, async () => ctx.tokens.list(), opts);

  serve(app, API.admin.createDeviceToken, async (req) => {
    const { device, note } = req.body;
    if (ctx.tokens.list().some((t) => t.deviceId === device)) throw new ApiError('conflict', `device: ${device} already has a token (revoke it first)`, 'body.device');
    const token = ctx.tokens.create(device, note);
    ctx.log.info({ device, by: req.dashUser!.username }, 'device token issued');
    return { deviceId: device, token, ...(note ? { note } : {}) };
  }, opts);

  serve(app, API.admin.revokeDeviceToken, async (req) => {
    const { id } = req.params;
    if (!ctx.tokens.revoke(id)) throw new ApiError('not_found', `id: device ${id} has no token`, 'params.id');
    ctx.log.info({ device: id, by: req.dashUser!.username }, 'device token revoked');
    return { ok: true } as const;
  }, opts);
}
