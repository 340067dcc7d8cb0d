/**
 * The platform HTTP servers' limits (review F12): a body beyond the default limit is refused on a
 * route that does not raise it, and a client that never finishes its request is cut off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { HTTP_LIMITS, httpServerSettings } from './http-limits.ts';
import { waitFor } from '../test/support/ports.ts';

const apps: FastifyInstance[] = [];
afterEach(async () => { for (const a of apps.splice(0)) await a.close(); });

async function serve(limits = HTTP_LIMITS): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false, ...httpServerSettings(undefined, limits) });
  apps.push(app);
  app.post('/small', async () => ({ ok: true }));
  app.post('/upload', { bodyLimit: 4 * 1024 * 1024 }, async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  return { app, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

describe('HTTP limits', () => {
  it('refuses a body over the default limit unless the route raises it', async () => {
    const { app } = await serve();
    const body = JSON.stringify({ x: 'a'.repeat(HTTP_LIMITS.bodyLimit) });
    const post = (url: string) => app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: body });
    expect((await post('/small')).statusCode).toBe(413);
    expect((await post('/upload')).statusCode).toBe(200);
  });

  it('closes a connection whose request never completes', async () => {
    const { port } = await serve({ ...HTTP_LIMITS, requestTimeout: 300, connectionTimeout: 300 });
    const socket = connect(port, '127.0.0.1');
    let closed = false;
    socket.on('close', () => { closed = true; });
    socket.on('error', () => { closed = true; });
    await new Promise((resolve) => socket.once('connect', resolve));
    // headers that never end, then silence
    socket.write('POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n');
    await waitFor(() => closed, 5000, 20, 'the server cutting the connection off');
    expect(closed).toBe(true);
  });

  it('sets the timeouts on the HTTPS server too (Fastify leaves a factory-made server alone)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-http-limits-'));
    const cert = join(dir, 'c.pem');
    const key = join(dir, 'k.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const app = Fastify({ logger: false, ...httpServerSettings({ cert, key }) });
    apps.push(app);
    await app.ready();
    expect(app.server.requestTimeout).toBe(HTTP_LIMITS.requestTimeout);
    expect(app.server.timeout).toBe(HTTP_LIMITS.connectionTimeout);
    expect(app.server.keepAliveTimeout).toBe(HTTP_LIMITS.keepAliveTimeout);
  });
});
