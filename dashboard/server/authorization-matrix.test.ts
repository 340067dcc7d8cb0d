/**
 * Every route of the OpenAPI document (/docs/json) × every role: 401 without a session, 403 for a
 * state change without the CSRF token, and for each role exactly what PERMISSIONS grants (403 when
 * the route's permission is not the role's, never 401/403 when it is). A route added to the API is
 * covered without editing this test; a public route not in the list below fails it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINTS, PERMISSIONS, type Permission } from '../contract/index.ts';
import { Client, startHarness, T0, type Harness } from '../../test/support/dashboard.ts';
import { DEMO_USERS } from './index.ts';

/** Routes under /api/v1 anyone may call (issue #11: the inventory of public routes). */
const PUBLIC = ['POST /auth/login', 'GET /auth/info', 'GET /public/outages'];

let h: Harness;
const sessions = new Map<string, Client>();
beforeAll(async () => {
  h = await startHarness();
  for (const u of DEMO_USERS) sessions.set(u.role, await Client.signIn(h.app, u.username));
}, 120_000);
afterAll(async () => { await h?.close(); });

/** The OpenAPI document's operations under /api/v1, as `METHOD /path` with `:name` parameters. */
async function openApiOperations(): Promise<string[]> {
  const doc = (await h.app.inject('/docs/json')).json() as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/v1/'))
    .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.slice('/api/v1'.length).replace(/\{(\w+)\}/g, ':$1')}`));
}

const concrete = (url: string) => `/api/v1${url.replace(/:(\w+)/g, 'x1')}`;
const changes = (method: string) => method !== 'GET' && method !== 'HEAD';

describe('route × role authorisation, from the OpenAPI document', () => {
  it('the document lists every route of the contract, and only the known ones are public', async () => {
    const ops = await openApiOperations();
    expect(ops.sort()).toEqual(ENDPOINTS.map((e) => `${e.method} ${e.url}`).sort());
    expect(ENDPOINTS.filter((e) => e.public).map((e) => `${e.method} ${e.url}`).sort()).toEqual([...PUBLIC].sort());
  });

  it('acting on a real meter anomaly (a body that passes validation): exactly the roles of customers.act', async () => {
    h.alarms.onCondition({ id: 'meter_zero_use:M-2002', type: 'meter_zero_use', state: 'raise', ts: T0, priority: 'low', dma: 'south', sensor: 'M-2002', message: 'zero use' });
    const url = `/api/v1/meter-anomalies/${encodeURIComponent(`meter_zero_use:M-2002@${new Date(T0).toISOString()}`)}/actions`;
    const answers: Record<string, number> = {};
    for (const [role, client] of sessions) answers[role] = (await client.send('POST', url, { action: 'call', note: `called by ${role}` })).statusCode;
    const expected = Object.fromEntries([...sessions.keys()].map((role) => [role, (PERMISSIONS['customers.act'] as readonly string[]).includes(role) ? 200 : 403]));
    expect(answers).toEqual(expected);
  });

  it('customer data (review L5): only the roles of customers.read read the lookup, a customer\'s page, meter anomalies and complaints', async () => {
    expect([...PERMISSIONS['customers.read']].sort()).toEqual(['admin', 'customer_service', 'dispatcher']);
    const reads = ['/lookup?q=ACC', '/customers/ACC-101', '/meter-anomalies', '/meter-anomalies/x1', '/complaints', '/complaints/x1'];
    const refused: Record<string, string[]> = {};
    for (const [role, client] of sessions) {
      for (const url of reads) {
        const status = (await client.get(`/api/v1${url}`)).statusCode;
        if (status === 401 || status === 403) (refused[role] ??= []).push(url);
      }
    }
    expect(refused).toEqual({ viewer: reads, maintenance: reads });
  });

  it('401 without a session, 403 without the CSRF token, and the permission table per role', async () => {
    // sign-out ends the session the later checks use: it goes last
    const ops = (await openApiOperations()).sort((a, b) => Number(a.endsWith('/auth/logout')) - Number(b.endsWith('/auth/logout')));
    const failures: string[] = [];
    for (const op of ops) {
      const e = ENDPOINTS.find((x) => `${x.method} ${x.url}` === op)!;
      if (e.public) continue;
      const url = concrete(e.url);
      const anonymous = await h.app.inject({ method: e.method, url, ...(changes(e.method) ? { payload: {} } : {}) });
      if (anonymous.statusCode !== 401) failures.push(`${op} without a session: ${anonymous.statusCode}`);
      for (const [role, client] of sessions) {
        if (changes(e.method)) {
          const noCsrf = await client.send(e.method as 'POST', url, {}, null);
          if (noCsrf.statusCode !== 403) failures.push(`${op} as ${role} without CSRF: ${noCsrf.statusCode}`);
        }
        const r = changes(e.method) ? await client.send(e.method as 'POST', url, {}) : await client.get(url);
        const allowed = !e.permission || (PERMISSIONS[e.permission as Permission] as readonly string[]).includes(role);
        const refused = r.statusCode === 401 || r.statusCode === 403;
        if (allowed === refused) failures.push(`${op} as ${role}: ${r.statusCode} (permission ${e.permission ?? 'signed in'}: ${allowed ? 'allowed' : 'refused'})`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

});
