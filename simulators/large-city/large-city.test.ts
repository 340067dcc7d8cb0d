/**
 * The large-city fleet: the reporting schedule visits each report once, and `aquawatch simulate
 * --city` on a small generated city publishes through the real protocols (plant OPC UA, MQTT JSON,
 * Sparkplug B on Mosquitto, AMR registers through the PDA API) into a real ingest service at the
 * rate its fleet plan says: in a window of real time, each sensor and meter once per its interval.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config/load.ts';
import { silentLogger } from '../../core/log.ts';
import { IngestService } from '../../ingest/service.ts';
import { MosquittoBroker } from '../../test/support/mosquitto.ts';
import { freePort, waitFor } from '../../test/support/ports.ts';
import { amrCity, planFleet } from './plan.ts';
import { ReportingSchedule } from './schedule.ts';
import { parseCityOption, parseIntervalsOption } from './command.ts';

describe('reporting schedule', () => {
  it('visits every report once, in whatever ticks the time is cut', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `M-${i}`);
    const intervals = ids.map((_, i) => (i % 3 === 0 ? 60 : 900));
    const schedule = new ReportingSchedule(ids, intervals, 1);
    const visits = (ticks: number[]) => {
      const seen = new Map<string, number[]>();
      for (let k = 1; k < ticks.length; k++) schedule.due(ticks[k - 1], ticks[k], (i, ts) => { seen.set(ids[i], [...(seen.get(ids[i]) ?? []), ts]); });
      return seen;
    };
    const start = Date.UTC(2026, 0, 5);
    const whole = visits([start, start + 3_600_000]);
    const cut = visits([start, start + 1, start + 999, start + 61_000, start + 1_000_000, start + 3_599_999, start + 3_600_000]);
    expect(cut).toEqual(whole);
    ids.forEach((id, i) => {
      const times = whole.get(id)!;
      expect(times.length).toBe(3600 / intervals[i]);
      for (let k = 1; k < times.length; k++) expect(times[k] - times[k - 1]).toBe(intervals[i] * 1000);
    });
  });

  it('reads the command line options', () => {
    expect(parseCityOption('7,5,700')).toEqual({ seed: 7, dmas: 5, junctions: 700 });
    expect(parseCityOption('large')).toMatchObject({ dmas: 300, junctions: 100_000 });
    expect(() => parseCityOption('big')).toThrow(/--city: big is not/);
    expect(parseIntervalsOption('meter=60,pressure=300')).toMatchObject({ meterS: 60, pressureS: 300, flowS: 300 });
    expect(() => parseIntervalsOption('meters=60')).toThrow(/does not name/);
  });
});

describe('aquawatch simulate --city', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => { for (const s of stops.reverse()) await s().catch(() => undefined); });

  it('publishes a small generated city through the real protocols at its fleet rate', async () => {
    const broker = new MosquittoBroker();
    await broker.start();
    stops.push(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'aw-large-city-'));
    const configFile = join(dir, 'platform.yaml');
    const httpPort = await freePort();
    const intervals = 'plant=5,flow=5,pressure=5,quality=5,meter=5';
    const child: ChildProcess = spawn(process.execPath, ['bin/aquawatch.js', 'simulate', '--city', '7,5,700', '--intervals', intervals,
      '--broker', broker.url, '--http', `http://127.0.0.1:${httpPort}`, '--opcua-port', String(await freePort()),
      '--data-dir', join(dir, 'sim'), '--emit-config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AQUAWATCH_LOG_LEVEL: 'warn' } });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    stops.push(() => new Promise<void>((resolve) => { if (child.exitCode !== null) return resolve(); child.once('exit', () => resolve()); child.kill('SIGTERM'); }));

    await waitFor(() => existsSync(configFile) && output.includes('platform config written'), 60_000, 100, `config written (${output})`);
    const config = loadConfig(configFile, { AQUAWATCH_DATA_DIR: process.env.AQUAWATCH_DATA_DIR });
    config.dataDir = join(dir, 'platform');
    config.log.level = 'warn';
    const ingest = new IngestService({ config, log: silentLogger, brokerUrl: broker.url, http: { host: '127.0.0.1', port: httpPort } });
    await ingest.start();
    stops.push(() => ingest.stop());
    await waitFor(() => output.includes('simulating'), 60_000, 100, `devices connected (${output})`);

    // the same plan the command made: every sensor and meter once per 5 s
    const plan = planFleet(amrCity(parseCityOption('7,5,700')), parseIntervalsOption(intervals));
    expect(plan.readingsPerS).toBeCloseTo(plan.size / 5, 6);
    const stored = async () => (await ingest.metrics.readingsStored.get()).values[0]?.value ?? 0;
    const bySource = async () => new Map((await ingest.metrics.readingsIn.get()).values.map((v) => [String(v.labels.source), v.value]));
    const rejected = async () => (await ingest.metrics.readingsRejected.get()).values;
    // past the start (connections, births and the rebirths the ingest asks for when it subscribed
    // after them, the head-end's first upload)
    await waitFor(async () => (await stored()) >= 2 * plan.size, 60_000, 50, 'two first cycles stored');
    const rejectedBefore = (await rejected()).reduce((a, v) => a + v.value, 0);
    // then a window of two intervals of real time: every sensor and meter stored exactly twice in it,
    // with its own timestamps (real time), i.e. the fleet's rate
    const from = Math.ceil(Date.now() / 1000) * 1000 + 2000;
    const to = from + 10_000;
    const byKind = new Map<string, string[]>([['meter', config.topology.meters.map((m) => m.id)]]);
    for (const s of config.topology.sensors) byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), s.id]);
    const storedIn = async () => {
      let n = 0;
      for (const [measurement, sensors] of byKind) {
        for (const values of (await ingest.store.query({ measurement, sensors, from, to, aggregate: 'count' })).values()) n += values[0]?.value ?? 0;
      }
      return n;
    };
    await waitFor(async () => Date.now() > to && (await storedIn()) >= 2 * plan.size, 90_000, 500, 'the window stored');
    expect(await storedIn()).toBe(2 * plan.size);
    // every protocol carried readings, and nothing was refused once running
    const sources = await bySource();
    for (const s of ['pda', `${plan.city.name}-mqtt`, `${plan.city.name}-sparkplug`, plan.city.spec.opcuaServer]) expect(sources.get(s) ?? 0, `${s} in ${JSON.stringify([...sources])}`).toBeGreaterThan(0);
    expect((await rejected()).reduce((a, v) => a + v.value, 0) - rejectedBefore, JSON.stringify(await rejected())).toBe(0);
  }, 120_000);
});
