/**
 * The ingest service as operations see it: /health and /metrics over HTTP, and a full outbox
 * (store unreachable) that refuses further readings, raises its condition, shows in /health as
 * `down` and clears once the store is back and the outbox drains; a disk below its free-space floor
 * (review F24) raises `ingest.disk_low`, shows in /health as `degraded` and clears above the floor;
 * the embedded store's retention pass at start deletes readings older than `store.retentionDays` (F24);
 * each source's offline sensors are kept retained on the bus, so analytics started after a node died
 * marks its sensors offline from when they went, and online after the birth it also missed; a
 * restart of ingest itself keeps a dead Sparkplug node's offline sensors and its death on those lists
 * until the node's birth.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/load.ts';
import { silentLogger } from '../../core/log.ts';
import { EmbeddedBroker } from '../../core/bus/embedded-broker.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import type { Point } from '../../core/model/reading.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { IngestService } from '../../ingest/service.ts';
import { BackpressureError } from '../../ingest/pipeline/contract.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { HTTP_LIMITS } from '../../core/http-limits.ts';
import { Topology } from '../../core/topology/topology.ts';
import type { Condition } from '../../core/bus/messages/condition.ts';
import { AnalyticsWorker } from '../../analytics/worker.ts';
import mqtt from 'mqtt';
import { activeConditionsTopic, offlineSensorsTopic } from '../../core/bus/topics.ts';
import { TestEdgeNode } from '../support/sparkplug-edge-node.ts';
import { SensorHealthDetector } from '../../analytics/detectors/sensor-health/index.ts';

/** A real SQLite store behind a switch that makes writes fail, as an unreachable InfluxDB would. */
class SwitchableStore extends SqliteStore {
  down = false;
  override async write(points: readonly Point[]): Promise<void> {
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8086'), { retryable: true });
    return super.write(points);
  }
}

const METRICS_TOKEN = 'test-scrape-token-0123456789abcdef0123';

describe('ingest service operations', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => { for (const s of stops.reverse()) await s(); });

  it('serves /health and /metrics, and handles a full outbox end to end', async () => {
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: await freePort() });
    await broker.start();
    stops.push(() => broker.stop());
    const dataDir = mkdtempSync(join(tmpdir(), 'aw-ops-'));
    const store = new SwitchableStore(join(dataDir, 'tsdb.sqlite'));
    await store.init();
    // F24: ingest's retention pass at start deletes what is older than store.retentionDays
    const old = { measurement: 'flow', sensor: 'F1', ts: Date.now() - 500 * 86_400_000, value: 1, quality: 'good' as const, site: 'S1', dma: 'D1' };
    const recent = { ...old, ts: Date.now() - 2 * 3_600_000 };
    await store.write([old, recent]);
    const port = await freePort();
    const config = parseConfig({
      dataDir,
      http: { metricsToken: METRICS_TOKEN },
      store: { type: 'sqlite', retentionDays: 30 },
      ingest: { outboxMaxReadings: 1000, batchMaxDelayMs: 5, diskCheckMs: 50 },
      topology: { sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }], sensors: [{ id: 'F1', kind: 'flow', unit: 'L/s', site: 'S1', dma: 'D1' }] },
    }, 'ops-test', {});
    const ingest = new IngestService({ config, log: silentLogger, brokerUrl: broker.url, http: { host: '127.0.0.1', port }, store: store as TimeSeriesStore });
    await ingest.start();
    stops.push(() => ingest.stop());
    const base = `http://127.0.0.1:${port}`;
    // its HTTP server has the platform's limits (F12): a small default body and timeouts
    expect(ingest.http!.initialConfig.bodyLimit).toBe(HTTP_LIMITS.bodyLimit);
    expect(ingest.http!.server.requestTimeout).toBe(HTTP_LIMITS.requestTimeout);
    expect(ingest.http!.server.timeout).toBe(HTTP_LIMITS.connectionTimeout);
    const ctx = ingest.sourceContext();
    const t0 = Date.now() - 3_600_000;
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ sensor: 'F1', ts: t0 + (from + i) * 1000, value: 1, quality: 'good' as const }));

    await ctx.submit('test', [...batch(0, 10), { sensor: 'F1', ts: t0, value: Number.NaN, quality: 'good' }]);
    await waitFor(() => ingest.outbox.depth === 0, 5000, 20, 'first readings stored');
    const storedBefore = async () => (await store.query({ measurement: 'flow', sensors: ['F1'], from: 0, to: t0 })).get('F1')!.map((v) => v.ts);
    await waitFor(async () => (await storedBefore()).length === 1, 5000, 20, 'retention pass');
    expect(await storedBefore()).toEqual([recent.ts]);
    await waitFor(async () => (await (await fetch(`${base}/health`)).json()).bus.connected, 5000, 50, 'bus connected');
    const health = await (await fetch(`${base}/health`)).json();
    expect(health).toMatchObject({ status: 'ok', outbox: { depth: 0, capacity: 1000, full: false }, store: { ok: true } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^aquawatch_readings_in_total\{source="test"\} 11$/m);
    expect(metrics).toMatch(/^aquawatch_readings_stored_total 10$/m);
    expect(metrics).toMatch(/^aquawatch_readings_rejected_total\{source="test",reason="value"\} 1$/m);
    expect(metrics).toMatch(/^aquawatch_outbox_depth 0$/m);
    expect(metrics).toMatch(/^aquawatch_store_retention_deleted_total\{measurement="flow"\} 1$/m);
    expect(metrics).toMatch(/^aquawatch_store_write_seconds_count \d+$/m);
    expect(metrics).toMatch(/^aquawatch_process_resident_memory_bytes \d+/m);
    // F13: a caller from another machine learns the status and nothing else (no store URL, sources, errors)
    const remote = await ingest.http!.inject({ url: '/health', remoteAddress: '10.20.30.40' });
    expect(remote.statusCode).toBe(200);
    expect(remote.json()).toEqual({ status: 'ok' });
    const remoteMetrics = await ingest.http!.inject({ url: '/metrics', remoteAddress: '10.20.30.40' });
    expect(remoteMetrics.statusCode).toBe(403);
    expect(remoteMetrics.body).not.toContain('aquawatch_');
    // a monitoring server elsewhere presents http.metricsToken; a wrong one is refused like none
    const scrape = (authorization: string, url = '/metrics') => ingest.http!.inject({ url, remoteAddress: '10.20.30.40', headers: { authorization } });
    expect((await scrape(`Bearer ${METRICS_TOKEN}`)).body).toMatch(/^aquawatch_readings_stored_total 10$/m);
    expect((await scrape(`Bearer ${METRICS_TOKEN}`, '/health')).json()).toMatchObject({ status: 'ok', outbox: { depth: 0 } });
    expect((await scrape(`Bearer ${METRICS_TOKEN.slice(0, -1)}x`)).statusCode).toBe(403);
    expect((await scrape(METRICS_TOKEN)).statusCode).toBe(403);
    expect((await scrape(`Bearer ${METRICS_TOKEN}x`, '/health')).json()).toEqual({ status: 'ok' });

    // the store goes away: readings pile up in the outbox until it is full
    store.down = true;
    await ctx.submit('test', batch(100, 600));
    await ctx.submit('test', batch(700, 400));
    await expect(ctx.submit('test', batch(1100, 10))).rejects.toBeInstanceOf(BackpressureError);
    expect(ingest.activeConditions.get('ingest.outbox_full')).toMatchObject({ state: 'raise', priority: 'critical' });
    const full = await fetch(`${base}/health`);
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ status: 'down', outbox: { depth: 1000, full: true } });
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^aquawatch_outbox_depth 1000$/m);

    // the store is back: the outbox drains, the condition clears, nothing was lost or doubled
    store.down = false;
    await waitFor(() => ingest.outbox.depth === 0 && !ingest.activeConditions.has('ingest.outbox_full'), 15_000, 50, 'outbox drained');
    const count = await store.query({ measurement: 'flow', sensors: ['F1'], from: t0, to: t0 + 10_000_000, aggregate: 'count' });
    expect(count.get('F1')).toEqual([{ ts: t0, value: 1010 }]);
    expect((await (await fetch(`${base}/health`)).json()).status).toBe('ok');

    // F24: a floor above this machine's free space (100 % of the filesystem) raises; 0 clears
    const diskLow = () => [...ingest.activeConditions.values()].find((c) => c.type === 'ingest.disk_low');
    config.ingest.diskFreeFloorPercent = 100;
    await waitFor(() => diskLow() !== undefined, 5000, 20, 'ingest.disk_low raised');
    expect(diskLow()).toMatchObject({ id: `ingest.disk_low:${dataDir}`, state: 'raise', priority: 'high', evidence: { dir: dataDir } });
    const low = await (await fetch(`${base}/health`)).json();
    expect(low).toMatchObject({ status: 'degraded', conditions: [expect.objectContaining({ type: 'ingest.disk_low' })] });
    expect(low.disk[0]).toMatchObject({ dir: dataDir, freeBytes: expect.any(Number), totalBytes: expect.any(Number) });
    config.ingest.diskFreeFloorPercent = 0;
    config.ingest.diskFreeFloorMiB = 1;
    await waitFor(() => diskLow() === undefined, 5000, 20, 'ingest.disk_low cleared');
    expect((await (await fetch(`${base}/health`)).json()).status).toBe('ok');
  });

  it('keeps each source\'s offline sensors retained on the bus: analytics started after a node died marks them offline from then, and online after a birth it missed', async () => {
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: await freePort() });
    await broker.start();
    stops.push(() => broker.stop());
    const dataDir = mkdtempSync(join(tmpdir(), 'aw-offline-'));
    const topologyConfig = { sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }], sensors: [{ id: 'F1', kind: 'flow', unit: 'L/s', site: 'S1', dma: 'D1' }, { id: 'P1', kind: 'pressure', unit: 'bar', site: 'S1', dma: 'D1' }] };
    const config = parseConfig({ dataDir, store: { type: 'sqlite' }, topology: topologyConfig }, 'offline-test', {});
    const ingest = new IngestService({ config, log: silentLogger, brokerUrl: broker.url, http: false });
    await ingest.start();
    stops.push(() => ingest.stop());
    await waitFor(() => ingest.bus?.connected, 10_000, 20, 'ingest on the bus');
    const died = Date.now() - 600_000;
    // a Sparkplug NDEATH while no analytics listens: its status message reaches nobody
    ingest.sourceContext().sensorsStatus('plant-sparkplug', ['F1', 'P1'], 'offline', died);
    /** The sensors the broker's retained offline list of the source names now. */
    const retainedOffline = async (): Promise<string[]> => {
      const probe = await mqtt.connectAsync(broker.url, { clean: true });
      try {
        const got = new Promise<string[]>((resolve) => probe.on('message', (_t, p) => resolve((JSON.parse(p.toString()) as { offline: { sensors: string[] }[] }).offline.flatMap((g) => g.sensors).sort())));
        await probe.subscribeAsync(offlineSensorsTopic('plant-sparkplug'), { qos: 1 });
        return await got;
      } finally {
        await probe.endAsync();
      }
    };
    /** Analytics starting now; `before` sets what its restart restored before it subscribes. */
    const analytics = async (before?: (health: SensorHealthDetector) => void) => {
      const topology = new Topology(config.topology);
      const health = new SensorHealthDetector({ topology });
      const worker = new AnalyticsWorker({ topology, detectors: [health], sensorStatus: health, allowedLatenessMs: 0 });
      const conditions: Condition[] = [];
      worker.on('condition', (c) => conditions.push(c));
      worker.startAt(died - 60_000);
      before?.(health);
      await worker.start(broker.url, { idleAdvanceMs: 0, flushDerivedMs: 0 });
      const offline = () => conditions.filter((c) => c.type === 'sensor_offline').map((c) => `${c.sensor} ${c.state} ${c.ts - died}`).sort();
      return { health, worker, offline };
    };
    await waitFor(async () => (await retainedOffline()).length === 2 || undefined, 10_000, 50, 'the retained list holding F1 and P1');
    const first = await analytics();
    await waitFor(() => first.health.isFaulty('F1') && first.health.isFaulty('P1'), 10_000, 20, 'F1 and P1 offline from the retained list');
    expect(first.offline()).toEqual(['F1 raise 0', 'P1 raise 0']);
    await first.worker.stop();
    // the node is born again while analytics is away; its restart takes up the offline marks from
    // their open alarms (sensor-health's reconcile), and the list says they are back
    const born = Date.now();
    ingest.sourceContext().sensorsStatus('plant-sparkplug', ['F1', 'P1'], 'online', born);
    await waitFor(async () => (await retainedOffline()).length === 0 || undefined, 10_000, 50, 'the retained list emptied');
    const second = await analytics((health) => health.markOffline(['F1', 'P1'], died, 'plant-sparkplug: source lost the sensor'));
    await waitFor(() => !second.health.isFaulty('F1') && !second.health.isFaulty('P1'), 10_000, 20, 'F1 and P1 back online from the retained list');
    expect(second.offline().map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual(['F1 clear', 'P1 clear']);
    await second.worker.stop();
  });

  it('keeps a dead Sparkplug node\'s offline sensors and its death across a restart of ingest, until the node is born again', async () => {
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: await freePort() });
    await broker.start();
    stops.push(() => broker.stop());
    const dataDir = mkdtempSync(join(tmpdir(), 'aw-kept-'));
    const address = (metric: string) => ({ type: 'sparkplug', group: 'G1', node: 'N1', metric });
    const config = parseConfig({
      dataDir, store: { type: 'sqlite' },
      sources: { sparkplug: [{ name: 'spb', groups: ['G1'], hostId: 'aw-kept-test', rebirthMinIntervalMs: 0 }] },
      topology: {
        sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }],
        sensors: [
          { id: 'F1', kind: 'flow', unit: 'm3/h', site: 'S1', dma: 'D1', source: address('Flow') },
          { id: 'P1', kind: 'pressure', unit: 'MPa', site: 'S1', dma: 'D1', source: address('Pressure') },
        ],
      },
    }, 'kept-test', {});
    const birth = [{ name: 'Flow', alias: 1, type: 'Double' as const, value: 12 }, { name: 'Pressure', alias: 2, type: 'Double' as const, value: 0.3 }];
    /** What the broker keeps retained now: the source's offline sensors with their since, and ingest's active condition ids. */
    const retained = async (): Promise<{ offline: string[]; active: string[] }> => {
      const probe = await mqtt.connectAsync(broker.url, { clean: true });
      try {
        const got = new Map<string, string>();
        probe.on('message', (t, p) => got.set(t, p.toString()));
        await probe.subscribeAsync([offlineSensorsTopic('spb'), activeConditionsTopic('ingest')], { qos: 1 });
        await waitFor(() => got.size === 2 || undefined, 5000, 10, 'both retained lists');
        const offline = (JSON.parse(got.get(offlineSensorsTopic('spb'))!) as { offline: { since: number; sensors: string[] }[] }).offline
          .flatMap((g) => g.sensors.map((x) => `${x} ${g.since}`)).sort();
        const active = (JSON.parse(got.get(activeConditionsTopic('ingest'))!) as { conditions: { id: string }[] }).conditions.map((c) => c.id).sort();
        return { offline, active };
      } finally {
        await probe.endAsync();
      }
    };
    const startIngest = async () => {
      const ingest = new IngestService({ config, log: silentLogger, brokerUrl: broker.url, http: false });
      await ingest.start();
      stops.push(() => ingest.stop());
      await waitFor(() => ingest.bus?.connected, 10_000, 20, 'ingest on the bus');
      return ingest;
    };
    const first = await startIngest();
    const edge = new TestEdgeNode(broker.url, 'G1', 'N1', 4);
    await edge.connect();
    await edge.nodeBirth(birth);
    await waitFor(() => first.sources[0].status().detail?.nodesOnline === 1 || undefined, 10_000, 20, 'N1 born');
    await edge.nodeDeath();
    await edge.close();
    await waitFor(() => first.activeConditions.has('sparkplug.node_death:G1/N1') || undefined, 10_000, 20, 'N1 dead');
    const diedAt = first.activeConditions.get('sparkplug.node_death:G1/N1')!.ts;
    const dead = { offline: [`F1 ${diedAt}`, `P1 ${diedAt}`], active: ['sparkplug.node_death:G1/N1'] };
    await waitFor(async () => JSON.stringify(await retained()) === JSON.stringify(dead) || undefined, 10_000, 50, 'the death on the retained lists');
    await first.stop();
    // the broker loses its retained messages too (restarted without persistence): what follows is the new ingest's own word
    const cleaner = await mqtt.connectAsync(broker.url, { clean: true });
    for (const t of [offlineSensorsTopic('spb'), activeConditionsTopic('ingest')]) await cleaner.publishAsync(t, '', { qos: 1, retain: true });
    await cleaner.endAsync();

    const second = await startIngest();
    await waitFor(async () => JSON.stringify(await retained()) === JSON.stringify(dead) || undefined, 10_000, 50, 'the restarted ingest keeping the death');
    // the node comes back: its birth ends both, and the next restart has nothing to take up
    const reborn = new TestEdgeNode(broker.url, 'G1', 'N1', 5);
    await reborn.connect();
    await reborn.nodeBirth(birth);
    const alive = { offline: [], active: [] };
    await waitFor(async () => JSON.stringify(await retained()) === JSON.stringify(alive) || undefined, 10_000, 50, 'the birth on the retained lists');
    await reborn.close();
    await second.stop();
    const third = await startIngest();
    expect(third.activeConditions.size).toBe(0);
    expect(third.offlineSensors.message('spb', 0).offline).toEqual([]);
  });
});
