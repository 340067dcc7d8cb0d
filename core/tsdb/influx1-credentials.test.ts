/**
 * Which credentials the InfluxDB 1.x store sends, seen at the HTTP level by a test double (not
 * InfluxDB: test/integration/tsdb-influx1-privileges.test.ts checks the grants on a real one):
 * none when no user is configured (the `influx` package would send root:root, review L3), the
 * writer's on writes and the reader's on reads when they are apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InfluxV1Store, type InfluxV1Config } from './influx1.ts';
import { storeSchema } from '../config/schema.ts';

const requests: { path: string; headers: IncomingHttpHeaders }[] = [];
let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ path: new URL(req.url ?? '/', 'http://x').pathname, headers: req.headers });
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/write')) { res.statusCode = 204; res.end(); return; }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ results: [{ statement_id: 0 }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const store = (extra: Record<string, unknown>) => new InfluxV1Store(storeSchema.parse({ type: 'influxdb1', url, ...extra }) as InfluxV1Config);
const point = { measurement: 'pressure', sensor: 'P1', ts: Date.UTC(2026, 0, 5), value: 1, quality: 'good' as const, site: 'S1', dma: 'D1' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('InfluxDB 1.x credentials on the wire', () => {
  it('sends no root:root (nor any user) when none is configured', async () => {
    requests.length = 0;
    const s = store({});
    await s.write([point]);
    await s.latest('pressure', ['P1']);
    expect(requests.map((r) => r.path)).toEqual(['/write', '/query']);
    for (const r of requests) expect(r.headers.authorization ?? '').not.toBe(basic('root', 'root'));
    expect(requests[1].headers.authorization).toBeUndefined();
  });

  it('writes as the writer and reads as the reader', async () => {
    requests.length = 0;
    const s = store({ writer: { username: 'ingest', password: 'w' }, reader: { username: 'reader', password: 'r' } });
    await s.write([point]);
    await s.query({ measurement: 'pressure', sensors: ['P1'], from: 0, to: point.ts + 1 });
    expect(requests.map((r) => [r.path, r.headers.authorization])).toEqual([['/write', basic('ingest', 'w')], ['/query', basic('reader', 'r')]]);
  });
});
