/**
 * Ingest benchmark (`npm run bench -- ingest`). Real parts on this machine: Mosquitto, InfluxDB 1.x
 * (started here, or $INFLUXDB_URL), the ingest service as its own process (`aquawatch ingest`), a
 * load generator in a worker thread, and a node-opcua server for the OPC UA figure.
 *
 * Figures: ingest.mqtt_json (QoS 0), ingest.mqtt_json_qos1, ingest.mqtt_qos1_broker (what the same
 * Mosquitto delivers to a bare mqtt.js subscriber at QoS 1), ingest.sparkplug, ingest.opcua_lost,
 * ingest.rss_mb (ingest process at 10,000 sensors).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { MosquittoBroker } from '../test/support/mosquitto.ts';
import { InfluxdServer } from '../test/support/influxd.ts';
import { freePort } from '../test/support/ports.ts';
import type { Benchmark, Figure } from './run.ts';
import { median } from './run.ts';

const SENSORS = 10_000;

interface IngestProc { child: ChildProcess; http: string; stop(): Promise<void> }

async function startIngest(config: object): Promise<IngestProc> {
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-ingest-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify({ dataDir: dir, log: { level: 'warn' }, http: { ingestPort: await freePort() }, ...config }));
  const child = spawn(process.execPath, ['bin/aquawatch.js', 'ingest', '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const http = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => { if (l.includes('"ready":true')) resolve(JSON.parse(l).http); });
    child.once('exit', (c) => reject(new Error(`ingest exited ${c}`)));
  });
  return {
    child, http,
    stop: () => new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); }),
  };
}

/**
 * End a stopped ingest's persistent session: otherwise the broker keeps queuing every later run's
 * messages for it, and the runs after the first measure a broker drowning in its own backlog.
 */
async function endSession(broker: string, clientId: string): Promise<void> {
  const c = await mqtt.connectAsync(broker, { clientId, clean: true });
  await c.endAsync();
}

async function metric(http: string, name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').pop());
  return sum;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

interface Publisher { done: Promise<{ sent: number; readings: number }>; credit(readings: number): void }

function runPublisher(data: Record<string, unknown>): Publisher {
  const w = new Worker(new URL('./workers/mqtt-publisher.mjs', import.meta.url), { workerData: data });
  return {
    done: new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); }),
    credit: (readings) => w.postMessage({ credit: readings }),
  };
}

/** Feed the publisher credit from the ingest's stored count, keeping at most `backlog` readings in flight. */
function feedCredit(pub: Publisher, stored: () => Promise<number>, backlog: number): () => void {
  let running = true;
  void (async () => {
    while (running) {
      pub.credit((await stored().catch(() => 0)) + backlog);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return () => { running = false; };
}

const topology = {
  sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }],
  sensors: Array.from({ length: SENSORS }, (_, i) => ({ id: `F${i}`, kind: 'flow', site: 'S1', dma: 'D1', source: { type: 'sparkplug', group: 'bench', node: 'edge1', metric: `m${i}` } })),
};

/** Readings/s stored by an ingest process while a publisher runs flat out for `seconds`. */
async function ingestRate(o: { broker: string; influx: string; mode: 'json' | 'sparkplug'; qos: 0 | 1; seconds: number }): Promise<number> {
  const db = `bench_${o.mode}_${o.qos}_${Date.now()}`;
  const ingest = await startIngest({
    broker: { url: o.broker },
    store: { type: 'influxdb1', url: o.influx, database: db },
    sources: o.mode === 'json'
      ? { mqtt: [{ name: 'loggers', qos: o.qos, clientId: `bench-ingest-${db}`, topics: [{ pattern: 'loggers/{sensor}', format: 'json', valuePath: 'v', timePath: 't' }] }] }
      : { sparkplug: [{ name: 'edge', qos: o.qos, clientId: `bench-ingest-${db}`, groups: ['bench'] }] },
    topology,
  });
  const clientId = `bench-ingest-${db}`;
  try {
    const t0 = Date.now() - 86_400_000;
    const pub = runPublisher({ url: o.broker, mode: o.mode, qos: o.qos, sensors: SENSORS, durationMs: o.seconds * 1000, t0, clientId: `bench-pub-${db}` });
    // A backlog of 2 s at 50,000 readings/s: enough to keep ingest busy, bounded so the broker never drowns.
    const stopCredit = feedCredit(pub, () => metric(ingest.http, 'aquawatch_readings_stored_total'), 100_000);
    // measure the steady state: skip the first 15 % (connections, JIT), stop as the publisher stops
    const warm = o.seconds * 150;
    await new Promise((r) => setTimeout(r, warm));
    const s0 = await metric(ingest.http, 'aquawatch_readings_stored_total');
    const t1 = Date.now();
    const { readings } = await pub.done;
    stopCredit();
    const s1 = await metric(ingest.http, 'aquawatch_readings_stored_total');
    const rate = (s1 - s0) / ((Date.now() - t1) / 1000);
    // drain, then check nothing was lost at QoS 1
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (await metric(ingest.http, 'aquawatch_outbox_depth')) > 0) await new Promise((r) => setTimeout(r, 500));
    const stored = await metric(ingest.http, 'aquawatch_readings_stored_total');
    if (o.qos === 1 && stored < readings) console.error(`  warning: ${o.mode} qos1 stored ${stored} of ${readings} sent so far (ingest may still be receiving)`);
    console.error(`  ${o.mode} qos${o.qos}: ${Math.round(rate)} readings/s stored (published ${readings})`);
    return rate;
  } finally {
    await ingest.stop();
    await endSession(o.broker, clientId);
  }
}

/**
 * Resident memory of the ingest process at 10,000 sensors in steady state: each sensor reports
 * once a second (10,000 readings/s, JSON over MQTT at QoS 1) for `seconds`.
 */
async function rssAtTenThousandSensors(o: { broker: string; influx: string; seconds: number }): Promise<number> {
  const db = `bench_rss_${Date.now()}`;
  const ingest = await startIngest({
    broker: { url: o.broker },
    store: { type: 'influxdb1', url: o.influx, database: db },
    sources: { mqtt: [{ name: 'loggers', qos: 1, clientId: `bench-ingest-${db}`, topics: [{ pattern: 'loggers/{sensor}', format: 'json', valuePath: 'v', timePath: 't' }] }] },
    topology,
  });
  try {
    const pub = runPublisher({ url: o.broker, mode: 'json', qos: 1, sensors: SENSORS, durationMs: o.seconds * 1000, t0: Date.now() - 86_400_000, clientId: `bench-pub-${db}`, credit: false, ratePerS: SENSORS });
    const samples: number[] = [];
    const timer = setInterval(() => samples.push(rssMb(ingest.child.pid!)), 1000);
    await pub.done;
    clearInterval(timer);
    const rss = median(samples.slice(Math.floor(samples.length / 2)));
    console.error(`  rss at ${SENSORS} sensors, 1 reading/s each: ${rss.toFixed(0)} MB (median of the second half)`);
    return rss;
  } finally {
    await ingest.stop();
    await endSession(o.broker, `bench-ingest-${db}`);
  }
}

/** QoS 1 messages/s the broker delivers to a bare mqtt.js subscriber (the ceiling for ingest at QoS 1). */
async function brokerQos1Rate(broker: string, seconds: number): Promise<number> {
  const sub = await mqtt.connectAsync(broker, { clientId: `bench-bare-${Date.now()}`, clean: true });
  let n = 0;
  sub.on('message', () => { n++; });
  await sub.subscribeAsync('loggers/#', { qos: 1 });
  const pub = runPublisher({ url: broker, mode: 'json', qos: 1, sensors: SENSORS, durationMs: seconds * 1000, t0: Date.now(), clientId: `bench-bare-pub-${Date.now()}` });
  const stopCredit = feedCredit(pub, async () => n, 100_000);
  await new Promise((r) => setTimeout(r, seconds * 150));
  const n0 = n;
  const t0 = Date.now();
  await pub.done;
  stopCredit();
  const rate = (n - n0) / ((Date.now() - t0) / 1000);
  await sub.endAsync();
  console.error(`  bare subscriber qos1: ${Math.round(rate)} messages/s`);
  return rate;
}

export const ingestBenchmark: Benchmark = async ({ runs, quick }) => {
  const seconds = quick ? 10 : 60;
  const mosq = new MosquittoBroker();
  await mosq.start();
  let influx: InfluxdServer | undefined;
  let influxUrl = process.env.INFLUXDB_URL;
  if (!influxUrl) { influx = new InfluxdServer(); await influx.start(); influxUrl = influx.url; }
  const r = { json0: [] as number[], json1: [] as number[], broker: [] as number[], spb: [] as number[], rss: [] as number[] };
  try {
    for (let k = 0; k < runs; k++) {
      console.error(`ingest benchmark, run ${k + 1}/${runs} (${seconds} s each)`);
      r.broker.push(await brokerQos1Rate(mosq.url, seconds));
      r.json0.push(await ingestRate({ broker: mosq.url, influx: influxUrl, mode: 'json', qos: 0, seconds }));
      r.json1.push(await ingestRate({ broker: mosq.url, influx: influxUrl, mode: 'json', qos: 1, seconds }));
      r.spb.push(await ingestRate({ broker: mosq.url, influx: influxUrl, mode: 'sparkplug', qos: 0, seconds }));
      r.rss.push(await rssAtTenThousandSensors({ broker: mosq.url, influx: influxUrl, seconds: quick ? 15 : 30 }));
    }
  } finally {
    await mosq.stop();
    await influx?.dispose();
  }
  const figures: Figure[] = [
    { bench: 'ingest.mqtt_json', value: median(r.json0), unit: 'readings/s', target: '>= 30000', runs: r.json0 },
    { bench: 'ingest.mqtt_json_qos1', value: median(r.json1), unit: 'readings/s', target: '>= 85 % of broker', runs: r.json1 },
    { bench: 'ingest.mqtt_qos1_broker', value: median(r.broker), unit: 'messages/s', runs: r.broker },
    { bench: 'ingest.sparkplug', value: median(r.spb), unit: 'readings/s', target: '>= 90000', runs: r.spb },
    { bench: 'ingest.rss_mb', value: median(r.rss), unit: 'MB', target: '<= 250', runs: r.rss },
  ];
  figures.push(await (await import('./opcua-lost.ts')).opcuaLost(quick));
  return figures;
};
