/**
 * Review finding F9: a report's work stops when its client goes, and one user's reports cannot
 * pile up. The harness's real embedded store, its reads counted and held at a gate the test opens,
 * so the test (not the clock) decides when the route may go on reading.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Client, startHarness, T0, type Harness } from '../../../test/support/dashboard.ts';
import { waitFor } from '../../../test/support/ports.ts';
import type { RangeQuery } from '../../../core/tsdb/types.ts';
import type { LightMyRequestResponse } from 'fastify';
import { REPORT_RETRY_AFTER_S, REPORTS_AT_ONCE_PER_USER } from './report-slots.ts';

const DAY = 86_400_000;
const harnesses: Harness[] = [];
const gates: (() => void)[] = [];
afterEach(async () => {
  for (const open of gates.splice(0)) open(); // a failed test leaves no read held
  for (const h of harnesses.splice(0)) await h.close();
});

/** Counts the store's reads (all, and the pressure ones: one per day of a report) and holds each at a gate until `open()`. */
function gatedReads(h: Harness) {
  const real = h.store.query.bind(h.store);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => { open = resolve; });
  gates.push(open);
  const counted = { reads: 0, pressureReads: 0, open };
  h.store.query = async (q: RangeQuery) => {
    counted.reads++;
    if (q.measurement === 'pressure') counted.pressureReads++;
    await gate;
    return real(q);
  };
  return counted;
}

describe('F9 a request stops with its client', () => {
  it('F9 a KPI report over 400 days stops reading the store once its client has gone', async () => {
    const logged: string[] = [];
    const h = await startHarness({ log: pino({ level: 'info' }, { write: (line: string) => { logged.push(line); } }) });
    harnesses.push(h);
    const viewer = await Client.signIn(h.app, 'viewer');
    const store = gatedReads(h);
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as { port: number };
    const connections = () => new Promise<number>((resolve, reject) => h.app.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));

    const req = httpRequest({ host: '127.0.0.1', port, path: `/api/v1/kpis?from=${T0 - 400 * DAY}&to=${T0}`, headers: { cookie: viewer.cookie } });
    req.on('error', () => { /* the test closes it */ });
    req.end();
    await waitFor(() => store.pressureReads === 1, 10_000, 10, 'the report at its first day');
    req.destroy();
    await waitFor(async () => (await connections()) === 0, 10_000, 10, 'the server to see the connection closed');
    const readsWhenGone = store.reads;
    store.open();
    // the route ends (it says it was abandoned) or it keeps reading day after day
    await waitFor(() => logged.some((l) => l.includes('request abandoned')) || store.pressureReads > 50, 10_000, 10, 'the report to end or go on');
    expect(store.pressureReads).toBe(1);
    expect(store.reads).toBe(readsWhenGone);
    expect(logged.find((l) => l.includes('request abandoned'))).toContain('/api/v1/kpis');
    expect(logged.filter((l) => l.includes('"level":50'))).toEqual([]);
  });

  it(`F9 a user's third report at once is refused with 429 and retry-after; another user's is not`, async () => {
    const h = await startHarness();
    harnesses.push(h);
    const viewer = await Client.signIn(h.app, 'viewer');
    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    const store = gatedReads(h);
    const period = `from=${T0 - 30 * DAY}&to=${T0}`;
    const running = [viewer.get(`/api/v1/kpis?${period}`), viewer.get(`/api/v1/kpis.csv?${period}`)];
    await waitFor(() => store.pressureReads === REPORTS_AT_ONCE_PER_USER, 10_000, 10, 'two reports at their first day');

    // refused at once, or (without the limit) a third report reading the store
    let third: LightMyRequestResponse | undefined;
    running.push(viewer.get(`/api/v1/kpis?${period}`).then((r) => (third = r)));
    await waitFor(() => third !== undefined || store.pressureReads > 2, 10_000, 10, 'the third report refused or started');
    expect(third?.statusCode).toBe(429);
    expect(third!.headers['retry-after']).toBe(String(REPORT_RETRY_AFTER_S));
    expect(third!.json()).toMatchObject({ error: { code: 'rate_limited', rule: 'reports_at_once' } });
    expect(store.pressureReads).toBe(2);

    running.push(dispatcher.get(`/api/v1/kpis?${period}`));
    await waitFor(() => store.pressureReads === 3, 10_000, 10, "the other user's report at its first day");
    store.open();
    expect((await Promise.all(running)).map((r) => r.statusCode)).toEqual([200, 200, 429, 200]);
    // the slots are given back when the reports end
    expect((await viewer.get(`/api/v1/kpis?${period}`)).statusCode).toBe(200);
  });
});
