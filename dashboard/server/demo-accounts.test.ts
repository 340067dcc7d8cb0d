/**
 * A data directory that ran the demo and moves to production (review finding F4): the demo
 * accounts, whose passwords are published, are deleted with their sessions, not just hidden; a
 * demo account someone gave a password of their own stays. Real fastify, real state database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { parseConfig } from '../../core/config/load.ts';
import { createStore } from '../../core/tsdb/factory.ts';
import { registerDashboard, DEMO_USERS } from './index.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

async function boot(dir: string, raw: Record<string, unknown>) {
  const config = parseConfig({ dataDir: dir, log: { level: 'silent' }, ...raw }, join(dir, 'config.yaml'), {});
  const store = await createStore(config.store, config.dataDir, {});
  const app = Fastify({ logger: false });
  const dash = await registerDashboard(app, { config, store, log: pino({ level: 'silent' }), webDist: join(dir, 'no-dist') });
  await app.ready();
  const login = (username: string, password: string) => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
  return { app, dash, login, close: async () => { await app.close(); dash.close(); await store.close(); } };
}

describe('demo accounts when a data directory moves to production', () => {
  it('are deleted with their sessions; the configured admin and a demo account with its own password stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-demo-prod-'));
    dirs.push(dir);
    const demo = await boot(dir, {});
    const session = await demo.login('dispatcher', 'demo-dispatcher-2026');
    expect(session.statusCode).toBe(200);
    const cookie = String(session.headers['set-cookie']).split(';')[0];
    expect(demo.dash.ctx.users.list().map((u) => u.username).sort()).toEqual(DEMO_USERS.map((u) => u.username).sort());
    await demo.dash.ctx.users.update('maintenance', { password: 'a-password-of-our-own' });
    await demo.close();

    const prod = await boot(dir, { mode: 'production', auth: { admin: { username: 'admin', password: 'a-long-admin-secret' } } });
    expect((await prod.login('dispatcher', 'demo-dispatcher-2026')).statusCode).toBe(401);
    expect((await prod.login('viewer', 'demo-viewer-2026')).statusCode).toBe(401);
    expect((await prod.login('admin', 'demo-admin-2026')).statusCode).toBe(401);
    expect((await prod.app.inject({ url: '/api/v1/auth/me', headers: { cookie } })).statusCode).toBe(401);
    expect(prod.dash.ctx.users.list().map((u) => u.username).sort()).toEqual(['admin', 'maintenance']);
    expect((await prod.login('admin', 'a-long-admin-secret')).statusCode).toBe(200);
    expect((await prod.login('maintenance', 'a-password-of-our-own')).statusCode).toBe(200);
    await prod.close();
  });
});
