/**
 * The whole chain without hardware: the simulators' devices (plant OPC UA server with
 * SignAndEncrypt, MQTT JSON sensors, Sparkplug B edge nodes, PDA readers) feed the all-in-one
 * platform over the wire, and every sample of every device arrives in the store exactly once.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../core/config/load.ts';
import { SimulatorRig } from '../../simulators/rig.ts';
import { startPlatform, type RunningPlatform } from '../../bin/commands/platform.ts';
import { freePort, waitFor } from '../support/ports.ts';
import type { SimStep } from '../../simulators/types.ts';

describe('simulated city → platform', () => {
  let rig: SimulatorRig | undefined;
  let platform: RunningPlatform | undefined;
  afterAll(async () => { await rig?.stop(); await platform?.stop(); });

  it('stores every sample sent over OPC UA, MQTT, Sparkplug B and PDA', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aw-simcity-'));
    // the last two whole days: live sources refuse readings older than ingest.maxAgeHours (and the PDA than sources.pda.maxAgeDays)
    const now = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    // two days at 1-min samples so that PDA readers make their rounds and upload
    rig = new SimulatorRig({ scenario: 'simulators/scenarios/suite/quiet-week.yaml', from: now - 2 * 86_400_000, to: now, dataDir, log: silentLogger });
    await rig.startPlant();
    const config = parseConfig(rig.platformConfig({ dataDir, http: { port: await freePort() }, broker: { port: await freePort() }, log: { level: 'warn' } }), '(test)');
    platform = await startPlatform(config, silentLogger, { analytics: false });
    await rig.connect({ brokerUrl: platform.brokerUrl, httpBase: platform.httpBase });
    // values a device sends before the platform subscribed are not observed (as with real devices)
    await platform.waitForSources(30_000);

    const topology = rig.sim.topology();
    const bySource = new Map<string, Set<string>>();
    for (const s of topology.sensors) {
      const t = s.source?.type ?? 'none';
      if (!bySource.has(t)) bySource.set(t, new Set());
      bySource.get(t)!.add(s.id);
    }
    const expected = new Map<string, number>();
    const count = (type: string, step: SimStep) => {
      const ids = bySource.get(type)!;
      const silent = new Set(step.silent);
      expected.set(type, (expected.get(type) ?? 0) + step.samples.filter((x) => ids.has(x.sensor) && !silent.has(x.sensor)).length);
    };
    const summary = await rig.run('max', (step) => { for (const t of ['opcua', 'mqtt', 'sparkplug']) count(t, step); });
    expect(summary.steps).toBe(2 * 24 * 60);

    const m = platform.ingest.metrics;

    const readingsIn = async (source: string) => (await m.readingsIn.get()).values.find((v) => v.labels.source === source)?.value ?? 0;
    await waitFor(async () => (await readingsIn('plant')) >= expected.get('opcua')!
      && (await readingsIn('demo-mqtt')) >= expected.get('mqtt')!
      && (await readingsIn('demo-sparkplug')) >= expected.get('sparkplug')!, 60_000, 200, 'all samples received');
    await waitFor(() => platform!.ingest.outbox.depth === 0, 30_000, 100, 'outbox drained');

    expect(await readingsIn('plant')).toBe(expected.get('opcua'));
    expect(await readingsIn('demo-mqtt')).toBe(expected.get('mqtt'));
    expect(await readingsIn('demo-sparkplug')).toBe(expected.get('sparkplug'));
    const rejected = (await m.readingsRejected.get()).values.reduce((a, v) => a + v.value, 0);
    expect(rejected, JSON.stringify((await m.readingsRejected.get()).values)).toBe(0);

    // a sensor of each kind of source has its readings in the store, with the simulator's timestamps
    const store = platform.ingest.store;
    for (const type of ['opcua', 'mqtt', 'sparkplug']) {
      const id = [...bySource.get(type)!][0];
      const sensor = platform.ingest.topology.sensors.get(id)!;
      const r = await store.query({ measurement: sensor.kind, sensors: [id], from: now - 2 * 86_400_000, to: now + 1, aggregate: 'count' });
      expect(r.get(id)![0].value, `${type} sensor ${id}`).toBeGreaterThan(2000);
    }
    // PDA readers read and uploaded customer meters
    expect(await readingsIn('pda')).toBeGreaterThan(0);
    const meter = topology.meters[0].id;
    const readings = await store.query({ measurement: 'meter', sensors: [meter], from: now - 3 * 86_400_000, to: now + 1 });
    expect(readings.get(meter)!.length).toBeGreaterThan(0);
  }, 180_000);
});
