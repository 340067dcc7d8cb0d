/**
 * The split deployment of docker-compose, as processes on this machine: `aquawatch ingest` and
 * `aquawatch server` talking through a real Mosquitto. A condition raised by ingest (its outbox
 * filling up while the store is unreachable) becomes an alarm in the server.
 */
import { describe, it, expect, afterAll } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { MOSQUITTO_BIN, MosquittoBroker } from '../support/mosquitto.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { startService } from '../support/processes.ts';

if (!MOSQUITTO_BIN && process.env.REQUIRE_MOSQUITTO === '1') throw new Error('REQUIRE_MOSQUITTO=1 but mosquitto is not installed');

/**
 * Ingest whose store (InfluxDB) is unreachable, so that its outbox of 50 readings fills, and the
 * server (embedded store), both on `broker`: their configuration files.
 */
async function writeConfigs(broker: MosquittoBroker): Promise<{ ingestConfig: string; serverConfig: string }> {
  const topology = { sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }], sensors: [{ id: 'F1', kind: 'flow', site: 'S1', dma: 'D1' }] };
  const unreachableInflux = `http://127.0.0.1:${await freePort()}`;
  const ingestDir = mkdtempSync(join(tmpdir(), 'aw-split-ingest-'));
  const serverDir = mkdtempSync(join(tmpdir(), 'aw-split-server-'));
  const ingestConfig = join(ingestDir, 'config.yaml');
  const serverConfig = join(serverDir, 'config.yaml');
  writeFileSync(ingestConfig, stringify({
    dataDir: ingestDir, log: { level: 'warn' }, http: { ingestPort: await freePort() }, broker: { url: broker.url },
    store: { type: 'influxdb1', url: unreachableInflux, timeoutMs: 500 },
    ingest: { outboxMaxReadings: 50 },
    sources: { mqtt: [{ name: 'loggers', qos: 1, topics: [{ pattern: 'loggers/{sensor}', format: 'json', valuePath: 'v', timePath: 't' }] }] },
    topology,
  }));
  writeFileSync(serverConfig, stringify({
    dataDir: serverDir, log: { level: 'warn' }, http: { port: await freePort() }, broker: { url: broker.url },
    store: { type: 'sqlite' }, topology,
  }));
  return { ingestConfig, serverConfig };
}

describe.skipIf(!MOSQUITTO_BIN)('split deployment: ingest and server processes over Mosquitto', () => {
  const broker = new MosquittoBroker();
  const children: ChildProcess[] = [];
  afterAll(async () => { for (const c of children) c.kill('SIGKILL'); await broker.stop(); });

  it('an ingest condition becomes a server alarm', async () => {
    await broker.start();
    const { ingestConfig, serverConfig } = await writeConfigs(broker);
    const serverHttp = await startService('server', serverConfig, children);
    await startService('ingest', ingestConfig, children);

    const pub = await mqtt.connectAsync(broker.url);
    const t0 = Date.now() - 600_000;
    for (let i = 0; i < 80; i++) await pub.publishAsync('loggers/F1', JSON.stringify({ v: i, t: t0 + i * 1000 }), { qos: 1 });
    await pub.endAsync();

    // the dashboard's API needs a session: the demo viewer (the server's config is in demo mode)
    expect((await fetch(`${serverHttp}/api/v1/alarms`)).status).toBe(401);
    const login = await fetch(`${serverHttp}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'viewer', password: 'demo-viewer-2026' }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const alarms = await waitFor(async () => {
      const list = await (await fetch(`${serverHttp}/api/v1/alarms`, { headers: { cookie } })).json() as { type: string; priority: string; state: string }[];
      return list.some((a) => a.type === 'ingest.outbox_full') ? list : undefined;
    }, 30_000, 200, 'the outbox_full alarm in the server');
    expect(alarms!.find((a) => a.type === 'ingest.outbox_full')).toMatchObject({ priority: 'critical', state: 'active-unacknowledged' });
    const health = await (await fetch(`${serverHttp}/health`)).json() as { status: string; openAlarms: number; analytics: { busConnected: boolean; problems: string[] } };
    expect(health.status).toBe('ok');
    expect(health.openAlarms).toBeGreaterThan(0);
    expect(health.analytics).toMatchObject({ busConnected: true, problems: [] });
    // the server's own /metrics (to this machine): the analytics worker and the open critical alarm
    const metrics = await (await fetch(`${serverHttp}/metrics`)).text();
    expect(metrics).toMatch(/^aquawatch_analytics_bus_connected 1$/m);
    expect(metrics).toMatch(/^aquawatch_alarms_open\{priority="critical",acknowledged="false"\} [1-9]/m);
    expect(metrics).toMatch(/^aquawatch_alarm_transitions_total\{type="ingest.outbox_full",kind="raise"\} 1$/m);
    const bad = await fetch(`${serverHttp}/api/v1/alarms?nonsense=1`, { headers: { cookie } });
    expect(bad.status).toBe(400);
  }, 90_000);

  it('a condition ingest raised while the server was down becomes an alarm when the server starts (the retained list of active conditions)', async () => {
    // a broker of its own: the first test's ingest keeps its list on the other
    const broker = new MosquittoBroker();
    const processes: ChildProcess[] = [];
    await broker.start();
    try {
      await lateServer(broker, processes);
    } finally {
      for (const c of processes) c.kill('SIGKILL');
      await broker.stop();
    }
  }, 90_000);

  async function lateServer(broker: MosquittoBroker, processes: ChildProcess[]): Promise<void> {
    const { ingestConfig, serverConfig } = await writeConfigs(broker);
    const ingestHttp = await startService('ingest', ingestConfig, processes);
    const pub = await mqtt.connectAsync(broker.url);
    const t0 = Date.now() - 600_000;
    for (let i = 0; i < 80; i++) await pub.publishAsync('loggers/F1', JSON.stringify({ v: i, t: t0 + i * 1000 }), { qos: 1 });
    await pub.endAsync();
    // the outbox is full before any server listens: its condition message reaches nobody
    await waitFor(async () => {
      const h = await (await fetch(`${ingestHttp}/health`)).json() as { conditions?: { id: string }[] };
      return h.conditions?.some((c) => c.id === 'ingest.outbox_full') || undefined;
    }, 30_000, 200, 'ingest reports its full outbox');

    const serverHttp = await startService('server', serverConfig, processes);
    const login = await fetch(`${serverHttp}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'viewer', password: 'demo-viewer-2026' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const alarms = await waitFor(async () => {
      const list = await (await fetch(`${serverHttp}/api/v1/alarms`, { headers: { cookie } })).json() as { type: string; state: string }[];
      return list.some((a) => a.type === 'ingest.outbox_full') ? list : undefined;
    }, 30_000, 200, 'the outbox_full alarm in the server started after it');
    expect(alarms!.find((a) => a.type === 'ingest.outbox_full')).toMatchObject({ state: 'active-unacknowledged' });
  }
});
