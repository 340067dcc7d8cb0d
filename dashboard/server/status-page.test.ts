import { afterAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { parseConfig } from '../../core/config/load.ts';
import { Topology } from '../../core/topology/topology.ts';
import type { IngestView } from '../../core/ingest-view.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { registerStatusPage } from './status-page.ts';

/**
 * A fake ingest view, named as one: the status page reads its health and the latest values; what
 * is checked here is the page's own calendar line, from the site config.
 */
function fakeIngestView(config: ReturnType<typeof parseConfig>): IngestView {
  const store = { latest: async () => [] } as unknown as TimeSeriesStore;
  return {
    topology: new Topology(config.topology),
    store,
    health: async () => ({ status: 'ok', store: { describe: 'sqlite (fake)' }, outbox: { depth: 0, capacity: 1 }, bus: {}, sources: [], conditions: [] }),
  };
}

const apps: ReturnType<typeof Fastify>[] = [];
afterAll(async () => { for (const a of apps) await a.close(); });

async function statusPage(calendar: object): Promise<string> {
  const config = parseConfig({ site: { name: 'Testville', timezone: 'Asia/Shanghai' }, calendar }, '(inline)', {});
  const app = Fastify({ logger: false });
  apps.push(app);
  registerStatusPage(app, { config, ingest: fakeIngestView(config) });
  const res = await app.inject({ method: 'GET', url: '/status' });
  expect(res.statusCode, res.body).toBe(200);
  return res.body;
}

describe('status page', () => {
  it('#12.3 says what the site calendar names and through when, and warns once it names no day from a month ahead on', async () => {
    expect(await statusPage({})).toContain('Calendar: none (holidays are compared as the weekdays they fall on)</p>');
    const past = await statusPage({ holidays: ['2025-10-01'], workdays: ['2025-10-11'] });
    expect(past).toContain('Calendar: 1 holiday(s), 1 make-up working day(s), through 2025-10-11 · <b class="degraded">calendar: names no day after 2025-10-11');
    const ahead = await statusPage({ holidays: ['2099-10-01'] });
    expect(ahead).toContain('through 2099-10-01</p>');
  });
});
