/**
 * `npm run bench -- faults`: readings a device had acknowledged that never reached the store, over
 * randomised fault cycles on the real pipeline (#11.6). Two devices send numbered readings to an
 * `aquawatch ingest` process (its outbox on disk) writing to a real InfluxDB 1.x: a QoS 1 publisher
 * through a real Mosquitto (acknowledged = PUBACK), and a PDA meter reader uploading batches to
 * ingest's PDA API with its device token (acknowledged = HTTP 2xx with the item `accepted` or
 * `duplicate`; any other answer, or none, and it re-sends the batch, as a PDA does after
 * Retry-After). Meanwhile each cycle does one of:
 *   kill-ingest   kill -9 of ingest, restart after a random pause;
 *   store-outage  InfluxDB stopped until the outbox holds more, then started again;
 *   refuse        InfluxDB stopped until the outbox is full and ingest refuses (no PUBACK, the
 *                 broker re-delivers: the path of review finding F1), then started again;
 *   kill-store    kill -9 of InfluxDB, restarted;
 *   kill-both     InfluxDB stopped and ingest killed while it is down, both restarted.
 * At the end the devices stop and the bench waits until every acknowledged reading is stored (or a
 * bound passes); `faults.acked_lost` counts those that are not, of both devices (target 0).
 *
 * AQUAWATCH_BENCH_SEED=N repeats a run's fault schedule (the seed is printed on stderr).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { MosquittoBroker } from '../test/support/mosquitto.ts';
import { InfluxdServer } from '../test/support/influxd.ts';
import { freePort, waitFor } from '../test/support/ports.ts';
import { startService } from '../test/support/processes.ts';
import { createStore } from '../core/tsdb/factory.ts';
import { hashToken } from '../core/state/device-tokens.ts';
import type { Benchmark, Figure } from './run.ts';
import { fuzzFigures } from './fuzz-figures.ts';

const SENSORS = 10;
const SENSOR_IDS = Array.from({ length: SENSORS }, (_, i) => `F${i}`);
const DATABASE = 'aw_faults';
/** Small, so a short store outage fills it and the refusal path runs. */
const OUTBOX_MAX_READINGS = 20_000;
/** Readings per second from the device, and at most this many unacknowledged. */
const RATE_PER_S = 1000;
const WINDOW = 300;
/** The PDA: meters it reads, items per upload, and a pause between uploads (about 250 readings/s). */
const METERS = 20;
const METER_IDS = Array.from({ length: METERS }, (_, i) => `M${i}`);
const PDA_BATCH = 50;
const PDA_PAUSE_MS = 200;
const PDA_DEVICE = 'pda-bench';
const ACTIONS = ['kill-ingest', 'store-outage', 'refuse', 'kill-store', 'kill-both'] as const;
type Action = typeof ACTIONS[number];

/** mulberry32: a small seeded generator, so a schedule can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface IngestHealth { status: string; store: { ok: boolean }; outbox: { depth: number; full: boolean } }

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fault cycles, then the fuzz suite's figures (bench/fuzz-figures.ts) once everything is stopped. */
export const faultsBenchmark: Benchmark = async (opts) => [...await faultCycles(opts), ...fuzzFigures()];

const faultCycles: Benchmark = async ({ quick }) => {
  const cycles = quick ? 20 : 30;
  const seed = Number(process.env.AQUAWATCH_BENCH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const rnd = random(seed);
  const between = (lo: number, hi: number) => Math.round(lo + rnd() * (hi - lo));
  console.error(`faults: ${cycles} cycles, seed ${seed} (AQUAWATCH_BENCH_SEED=${seed} repeats the schedule)`);

  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-faults-'));
  const broker = new MosquittoBroker();
  const influx = new InfluxdServer();
  const children: ChildProcess[] = [];
  let ingest: ChildProcess | undefined;
  const publisher = { stop: false };
  try {
    await broker.start();
    await influx.start();
    const ingestPort = await freePort();
    const storeConfig = { type: 'influxdb1' as const, url: influx.url, database: DATABASE, timeoutMs: 2000, createDatabase: true };
    const pdaToken = `bench-${seed}-${Math.random().toString(36).slice(2)}`;
    const configFile = join(dir, 'ingest.yaml');
    writeFileSync(configFile, stringify({
      dataDir: dir, log: { level: 'error' }, http: { ingestPort },
      broker: { url: broker.url },
      store: storeConfig,
      ingest: { outboxMaxReadings: OUTBOX_MAX_READINGS },
      sources: {
        mqtt: [{ name: 'loggers', qos: 1, clientId: 'aw-bench-faults-ingest', topics: [{ pattern: 'loggers/{sensor}', format: 'json', valuePath: 'v', timePath: 't' }] }],
        pda: { devices: [{ id: PDA_DEVICE, tokenSha256: hashToken(pdaToken) }], retryAfterS: 1 },
      },
      topology: {
        sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }], sensors: SENSOR_IDS.map((id) => ({ id, kind: 'flow', site: 'S1', dma: 'D1' })),
        meters: METER_IDS.map((id, i) => ({ id, customer: `C${i}`, dma: 'D1' })),
      },
    }));
    const startIngest = async () => {
      await startService('ingest', configFile, children);
      ingest = children.at(-1);
    };
    const killIngest = async () => {
      const p = ingest!;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    };
    const health = async (): Promise<IngestHealth | undefined> => {
      try {
        const res = await fetch(`http://127.0.0.1:${ingestPort}/health`, { signal: AbortSignal.timeout(2000) });
        return await res.json() as IngestHealth;
      } catch { return undefined; }
    };
    await startIngest();
    /**
     * A state a fault cycle waits for. If it does not come, the schedule goes on (the store is
     * started again) and the stall is reported with ingest's health: the final figure counts the cost.
     */
    const reached = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) => {
      try {
        await waitFor(check, timeoutMs, 20, what);
      } catch {
        console.error(`faults: ${what}: not within ${timeoutMs / 1000} s; ingest /health: ${JSON.stringify(await health())}`);
      }
    };

    // the device: numbered readings, reading n on sensor F(n mod 10) at second n div 10 (a plausible
    // flow value: an implausible one would be refused, rightly); `acked` holds those the broker acknowledged
    const acked = new Set<number>();
    const device = await mqtt.connectAsync(broker.url, { clientId: 'aw-bench-faults-device', clean: true });
    const t0 = Date.now() - 24 * 3_600_000;
    const publishing = (async () => {
      const started = Date.now();
      const inflight = new Set<Promise<void>>();
      for (let i = 0; !publisher.stop; i++) {
        while (i >= ((Date.now() - started) / 1000) * RATE_PER_S || inflight.size >= WINDOW) {
          if (inflight.size >= WINDOW) await Promise.race(inflight);
          else await pause(5);
          if (publisher.stop) break;
        }
        if (publisher.stop) break;
        const n = i;
        const p = device.publishAsync(`loggers/F${n % SENSORS}`, JSON.stringify({ v: (n % 1000) / 10, t: t0 + Math.floor(n / SENSORS) * 1000 }), { qos: 1 })
          .then(() => { acked.add(n); }, () => undefined)
          .finally(() => { inflight.delete(p); });
        inflight.add(p);
      }
      await Promise.all(inflight);
    })();

    // the PDA: reading n of meter M(n mod 20), taken at second n div 20, a meter index rising 1 L
    // a reading; `pdaAcked` holds those an upload's answer said were stored
    const pdaAcked = new Set<number>();
    const pdaSummary = { uploads: 0, retries: 0, rejected: 0, refusals: new Map<string, number>() };
    const refusal = (why: string) => pdaSummary.refusals.set(why, (pdaSummary.refusals.get(why) ?? 0) + 1);
    const tp0 = Date.now() - 2 * 24 * 3_600_000;
    const pdaItem = (n: number) => ({ meter: METER_IDS[n % METERS], reading: 100 + Math.floor(n / METERS) / 1000, time: tp0 + Math.floor(n / METERS) * 1000 });
    const uploading = (async () => {
      for (let first = 0; !publisher.stop; first += PDA_BATCH) {
        const numbers = Array.from({ length: PDA_BATCH }, (_, k) => first + k);
        const body = JSON.stringify({ deviceId: PDA_DEVICE, readerId: 'R1', readings: numbers.map(pdaItem) });
        // the same batch again until an answer says what became of every item
        for (;;) {
          pdaSummary.uploads++;
          let retryAfterMs = 200;
          try {
            const res = await fetch(`http://127.0.0.1:${ingestPort}/api/v1/pda/readings`, {
              method: 'POST', headers: { authorization: `Bearer ${pdaToken}`, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000),
            });
            const answer = await res.json() as { items?: { index: number; status: string; reason?: string }[]; reason?: string };
            if (res.ok && answer.items) {
              for (const item of answer.items) {
                if (item.status === 'accepted' || item.status === 'duplicate') pdaAcked.add(numbers[item.index]);
                else if (pdaSummary.rejected++ < 5) console.error(`faults: PDA item ${numbers[item.index]} rejected: ${item.reason}`);
              }
              break;
            }
            refusal(`HTTP ${res.status}: ${String(answer.reason).slice(0, 80)}`);
            retryAfterMs = Number(res.headers.get('retry-after') ?? 0.2) * 1000;
          } catch (e) {
            // ingest gone or the answer cut off: re-send
            refusal(`no answer: ${(e as Error).message.slice(0, 80)}`);
          }
          pdaSummary.retries++;
          if (publisher.stop) return;
          await pause(retryAfterMs);
        }
        await pause(PDA_PAUSE_MS);
      }
    })();

    const counts: Record<Action, number> = Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<Action, number>;
    for (let c = 0; c < cycles; c++) {
      // some readings flow normally first, so every fault lands mid-stream
      const flowing = acked.size + between(200, 1500);
      await reached(() => acked.size >= flowing, 'the device to publish');
      const action = ACTIONS[Math.floor(rnd() * ACTIONS.length)];
      counts[action]++;
      console.error(`faults: cycle ${c + 1}/${cycles}: ${action} (${acked.size} readings acknowledged so far)`);
      switch (action) {
        case 'kill-ingest':
          await killIngest();
          await pause(between(0, 500));
          await startIngest();
          break;
        case 'store-outage': {
          await influx.stop();
          const depth = (await health())?.outbox.depth ?? 0;
          const target = Math.min(depth + between(100, 1500), OUTBOX_MAX_READINGS);
          await reached(async () => ((await health())?.outbox.depth ?? 0) >= target, 'the outbox to grow');
          await influx.start();
          break;
        }
        case 'refuse':
          await influx.stop();
          await reached(async () => (await health())?.outbox.full === true, 'the outbox to fill (ingest refusing)');
          // refusals and re-deliveries for a while
          await pause(between(100, 1500));
          await influx.start();
          break;
        case 'kill-store':
          await influx.kill();
          await pause(between(0, 500));
          await influx.start();
          break;
        case 'kill-both':
          await influx.stop();
          await reached(async () => (await health())?.store.ok === false, 'ingest to see the store gone', 30_000);
          await killIngest();
          await startIngest();
          await influx.start();
          break;
      }
      // the next fault once ingest writes again
      await reached(async () => (await health())?.store.ok === true, 'ingest to write to the store again');
    }
    publisher.stop = true;
    await Promise.all([publishing, uploading]);
    await device.endAsync();

    // read back through the platform's own InfluxQL reader (chunked: no row limit)
    const reader = await createStore(storeConfig, dir);
    const stored = async () => {
      const series = await reader.query({ measurement: 'flow', sensors: SENSOR_IDS, from: t0, to: Date.now() });
      return new Set([...series].flatMap(([sensor, values]) => values.map((v) => Math.round((v.ts - t0) / 1000) * SENSORS + SENSOR_IDS.indexOf(sensor))));
    };
    const storedMeterReadings = async () => {
      const series = await reader.query({ measurement: 'meter', sensors: METER_IDS, from: tp0, to: Date.now() });
      return new Set([...series].flatMap(([meter, values]) => values.map((v) => Math.round((v.ts - tp0) / 1000) * METERS + METER_IDS.indexOf(meter))));
    };
    const missing = async () => { const s = await stored(); return [...acked].filter((n) => !s.has(n)); };
    const missingPda = async () => { const s = await storedMeterReadings(); return [...pdaAcked].filter((n) => !s.has(n)); };
    let lost: number[] = [];
    let lostPda: number[] = [];
    try {
      await waitFor(async () => {
        lost = await missing();
        lostPda = await missingPda();
        return lost.length === 0 && lostPda.length === 0;
      }, 180_000, 500, 'every acknowledged reading in the store');
    } catch {
      console.error(`faults: acknowledged readings not stored: MQTT ${lost.length}, e.g. ${lost.slice(0, 10).join(', ')}; PDA ${lostPda.length}, e.g. ${lostPda.slice(0, 10).join(', ')}; ingest: ${JSON.stringify(await health())}`);
    }
    await reader.close();
    console.error(`faults: PDA uploads not answered 2xx: ${JSON.stringify(Object.fromEntries(pdaSummary.refusals))}`);
    console.error(`faults: ${acked.size} MQTT and ${pdaAcked.size} PDA readings acknowledged (${pdaSummary.uploads} uploads, ${pdaSummary.retries} re-sent, ${pdaSummary.rejected} items rejected); cycles: ${ACTIONS.map((a) => `${a} ${counts[a]}`).join(', ')}`);
    const figures: Figure[] = [
      { bench: 'faults.acked_lost', value: lost.length + lostPda.length, unit: 'readings', target: '0' },
      { bench: 'faults.acked', value: acked.size + pdaAcked.size, unit: 'readings' },
      { bench: 'faults.mqtt_acked_lost', value: lost.length, unit: 'readings', target: '0' },
      { bench: 'faults.pda_acked_lost', value: lostPda.length, unit: 'readings', target: '0' },
      { bench: 'faults.pda_acked', value: pdaAcked.size, unit: 'readings' },
      { bench: 'faults.pda_rejected', value: pdaSummary.rejected, unit: 'items', target: '0' },
      { bench: 'faults.cycles', value: cycles, unit: 'cycles', target: '>= 20' },
    ];
    return figures;
  } finally {
    publisher.stop = true;
    for (const c of children) c.kill('SIGKILL');
    await broker.stop();
    await influx.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
};
