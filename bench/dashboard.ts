/**
 * Dashboard benchmark (`npm run bench -- dashboard`). Real parts on this machine:
 *
 * - delivery: the embedded MQTT broker (aedes, in the benchmark process) and a publisher putting
 *   2,000 sensors' readings on the bus once a second each (spread over the second, batched per DMA
 *   like ingest's bus publisher); the LiveGateway in its own process (this file, `--role=gateway`)
 *   on a real HTTP server; 200 socket.io clients in a third process (`--role=clients`), each
 *   showing one DMA (100 series) plus 5 sensors of other DMAs and the alarms/dmas/kpis rooms.
 *   Figures: `dashboard.delivery_p95_ms` (reading ts → the client's receipt, every value every
 *   client received after a warm-up) and `dashboard.server_cpu_pct` (the gateway process's own
 *   process.cpuUsage(), user + system, over the measured window; 100 % = one core; the broker,
 *   the publisher and the clients are not in it).
 * - history: 10 series × 7 days of 1-min data written to a real InfluxDB 1.x ($INFLUXDB_URL, or an
 *   influxd started here), then readHistory over the 7 days at 5-min windows, 50 times in a row:
 *   `dashboard.history_p95_ms`.
 * - web: `dashboard.first_load_ms` and `dashboard.js_gzip_kb` from bench/dashboard-web.ts
 *   (the web app's own measurement) when that file exists.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import type { Benchmark, Figure } from './run.ts';
import { median } from './run.ts';
import { EmbeddedBroker } from '../core/bus/embedded-broker.ts';
import { telemetryTopic } from '../core/bus/topics.ts';
import { encodeTelemetry } from '../core/bus/messages/telemetry.ts';
import type { Reading } from '../core/model/reading.ts';
import { topologySchema, type TopologyConfig } from '../core/config/schema.ts';
import { Topology } from '../core/topology/topology.ts';
import { InfluxV1Store } from '../core/tsdb/influx1.ts';
import type { Point } from '../core/model/reading.ts';
import { InfluxdServer } from '../test/support/influxd.ts';
import { readHistory } from '../dashboard/server/history.ts';

const SENSORS = 2000;
const DMAS = 20;
const PER_DMA = SENSORS / DMAS;
const CLIENTS = 200;
const SPREAD = 5;
const COOKIE = 'aw_session=bench';
const THIS_FILE = fileURLToPath(import.meta.url);

const sensorId = (i: number) => `S${String(i).padStart(4, '0')}`;
const dmaId = (d: number) => `DMA${String(d).padStart(2, '0')}`;
const KINDS = ['pressure', 'pressure', 'flow', 'chlorine', 'turbidity'] as const;

function syntheticTopology(): TopologyConfig {
  return topologySchema.parse({
    sites: [{ id: 'NET' }],
    dmas: Array.from({ length: DMAS }, (_, d) => ({ id: dmaId(d) })),
    sensors: Array.from({ length: SENSORS }, (_, i) => ({
      id: sensorId(i), kind: KINDS[i % KINDS.length], site: 'NET', dma: dmaId(Math.floor(i / PER_DMA)), intervalS: 1,
    })),
  });
}

/** The rooms client `k` shows: its DMA, a few sensors elsewhere, and the shared rooms. */
function viewOf(k: number): string[] {
  const d = k % DMAS;
  const spread = Array.from({ length: SPREAD }, (_, j) => sensorId(((d + 1 + j * 3) % DMAS) * PER_DMA + ((k * 7 + j * 13) % PER_DMA)));
  return [`values:dma:${dmaId(d)}`, ...spread.map((s) => `values:${s}`), 'alarms', 'dmas', 'kpis'];
}

// --- child processes -----------------------------------------------------------------------------

/**
 * A role of this file in a process of its own (the gateway's CPU and the clients' event loop must not
 * share the benchmark's). Requests and answers are IPC messages: values, not lines parsed from stdout.
 */
interface Child { proc: ChildProcess; next(): Promise<Record<string, unknown>>; send(request: string): void; stop(): Promise<void> }

function spawnRole(role: string, args: Record<string, unknown>): Child {
  const proc = fork(THIS_FILE, [`--role=${role}`, JSON.stringify(args)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const queue: Record<string, unknown>[] = [];
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  let exited = false;
  const failures: ((e: Error) => void)[] = [];
  proc.on('message', (o) => {
    const w = waiting.shift();
    if (w) w(o as Record<string, unknown>); else queue.push(o as Record<string, unknown>);
  });
  proc.once('exit', (code) => { exited = true; for (const f of failures.splice(0)) f(new Error(`${role} process exited (${code})`)); });
  return {
    proc,
    next: () => {
      const q = queue.shift();
      if (q) return Promise.resolve(q);
      if (exited) return Promise.reject(new Error(`${role} process has exited`));
      return new Promise((resolve, reject) => { waiting.push(resolve); failures.push(reject); });
    },
    send: (request) => { proc.send(request); },
    stop: () => new Promise<void>((resolve) => {
      if (exited) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}

/** In a role's process: answer the parent, and take its requests. */
const answer = (o: object) => { process.send!(o); };
const onRequest = (handle: (request: string) => void) => { process.on('message', (m) => handle(String(m))); };

/** `--role=gateway`: the LiveGateway on its own HTTP server; answers `stats` with its stats and CPU. */
async function gatewayRole(args: { brokerUrl: string }): Promise<void> {
  const { LiveGateway } = await import('../dashboard/server/live/gateway.ts');
  const { silentLogger } = await import('../core/log.ts');
  const http = createServer((_req, res) => { res.statusCode = 404; res.end(); });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { BusTelemetrySubscriber } = await import('../core/bus/telemetry-feed.ts');
  // its own bus subscription, in its process: the gateway's CPU figure includes decoding, as in the platform's one subscription
  const telemetry = new BusTelemetrySubscriber({ brokerUrl: args.brokerUrl, clientId: `bench-dash-gateway-${process.pid}`, log: silentLogger });
  await telemetry.start();
  const gateway = new LiveGateway({
    httpServer: http, telemetry, topology: new Topology(syntheticTopology()), log: silentLogger,
    authenticate: (cookie) => (cookie === COOKIE ? { username: 'bench', role: 'viewer' } : undefined),
  });
  await gateway.start();
  answer({ ready: true, port: (http.address() as { port: number }).port });
  onRequest((l) => {
    if (l === 'stats') answer({ stats: gateway.stats(), cpu: process.cpuUsage(), at: performance.now() });
  });
  process.once('SIGTERM', () => { void gateway.stop().then(() => telemetry.stop()).finally(() => http.close(() => process.exit(0))); });
}

/** `--role=clients`: socket.io clients; `start`/`stop` bracket the measurement, then the latency summary is printed. */
async function clientsRole(args: { url: string; clients: number }): Promise<void> {
  const { io } = await import('socket.io-client');
  type ClientSocket = ReturnType<typeof io>;
  const histogram = new Uint32Array(60_001); // 1-ms buckets, the last one is "≥ 60 s"
  let measuring = false;
  let received = 0;
  let disconnects = 0;
  const sockets: ClientSocket[] = [];
  for (let k = 0; k < args.clients; k += 20) {
    // In groups of 20: a wall of 200 simultaneous handshakes is not what a control room does.
    sockets.push(...await Promise.all(Array.from({ length: Math.min(20, args.clients - k) }, async (_, j) => {
      const s = io(args.url, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie: COOKIE }, reconnection: false, forceNew: true });
      s.on('values', (values: { ts: number }[]) => {
        if (!measuring) return;
        const now = Date.now();
        for (const v of values) histogram[Math.min(60_000, Math.max(0, now - v.ts))]++;
        received += values.length;
      });
      s.on('disconnect', () => { disconnects++; });
      await new Promise<void>((resolve, reject) => { s.once('connect', () => resolve()); s.once('connect_error', reject); });
      const ack = await s.timeout(10_000).emitWithAck('subscribe', { rooms: viewOf(k + j) }) as { ok: boolean; error?: string };
      if (!ack.ok) throw new Error(`subscribe: ${ack.error}`);
      return s;
    })));
  }
  answer({ ready: true, clients: sockets.length });
  onRequest((l) => {
    if (l === 'start') { histogram.fill(0); received = 0; measuring = true; answer({ started: true }); }
    if (l === 'stop') {
      measuring = false;
      const pct = (p: number) => {
        let need = Math.ceil(received * p);
        for (let ms = 0; ms < histogram.length; ms++) { need -= histogram[ms]; if (need <= 0) return ms; }
        return histogram.length;
      };
      answer({ received, p50: pct(0.5), p95: pct(0.95), p99: pct(0.99), max: pct(1), disconnects });
    }
  });
  process.once('SIGTERM', () => { for (const s of sockets) s.disconnect(); process.exit(0); });
}

// --- delivery ------------------------------------------------------------------------------------

/** Publish every sensor once a second, spread over 10 slots of 100 ms, one message per DMA per slot. */
function startPublisher(client: mqtt.MqttClient, counter: { readings: number }): () => void {
  let slot = 0;
  let seq = 0;
  const timer = setInterval(() => {
    const ts = Date.now();
    const byDma = new Map<number, Reading[]>();
    for (let i = slot; i < SENSORS; i += 10) {
      const d = Math.floor(i / PER_DMA);
      let list = byDma.get(d);
      if (!list) byDma.set(d, (list = []));
      list.push({ sensor: sensorId(i), ts, value: 30 + Math.sin(seq / 10 + i) * 5, quality: 'good' });
    }
    for (const [d, readings] of byDma) client.publish(telemetryTopic(dmaId(d)), encodeTelemetry(readings), { qos: 0 });
    counter.readings += SENSORS / 10;
    slot = (slot + 1) % 10;
    seq++;
  }, 100);
  return () => clearInterval(timer);
}

interface DeliveryResult { p95: number; p50: number; p99: number; cpuPct: number; received: number; expected: number; skipped: number; disconnects: number }

async function deliveryRun(o: { warmS: number; measureS: number }): Promise<DeliveryResult> {
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0 });
  await broker.start();
  const pub = await mqtt.connectAsync(broker.url, { clientId: `bench-dash-pub-${process.pid}` });
  const gateway = spawnRole('gateway', { brokerUrl: broker.url });
  let clients: Child | undefined;
  let stopPublisher = () => {};
  try {
    const ready = await gateway.next() as { port: number };
    clients = spawnRole('clients', { url: `http://127.0.0.1:${ready.port}`, clients: CLIENTS });
    await clients.next();
    const published = { readings: 0 };
    stopPublisher = startPublisher(pub, published);
    await new Promise((r) => setTimeout(r, o.warmS * 1000));
    clients.send('start');
    await clients.next();
    const published0 = published.readings;
    gateway.send('stats');
    const g0 = await gateway.next() as { cpu: NodeJS.CpuUsage; at: number; stats: { skippedSends: number } };
    await new Promise((r) => setTimeout(r, o.measureS * 1000));
    gateway.send('stats');
    const g1 = await gateway.next() as { cpu: NodeJS.CpuUsage; at: number; stats: { skippedSends: number } };
    clients.send('stop');
    const c = await clients.next() as { received: number; p50: number; p95: number; p99: number; max: number; disconnects: number };
    const cpuMs = (g1.cpu.user + g1.cpu.system - g0.cpu.user - g0.cpu.system) / 1000;
    const cpuPct = (100 * cpuMs) / (g1.at - g0.at);
    // What the clients should have had: each shows its DMA's 100 series and 5 more, each published
    // (published / SENSORS) times in the window (the publisher's timer runs a little late under load).
    const expected = Math.round(CLIENTS * (PER_DMA + SPREAD) * ((published.readings - published0) / SENSORS));
    const r = { p95: c.p95, p50: c.p50, p99: c.p99, cpuPct, received: c.received, expected, skipped: g1.stats.skippedSends - g0.stats.skippedSends, disconnects: c.disconnects };
    console.error(`  delivery: p50 ${c.p50} ms, p95 ${c.p95} ms, p99 ${c.p99} ms, max ${c.max} ms; gateway CPU ${cpuPct.toFixed(1)} % of a core; `
      + `${c.received} values received of ${expected} published to the views (${((100 * c.received) / expected).toFixed(1)} %), ${r.skipped} skipped sends, ${c.disconnects} disconnects; load average ${loadavg()[0].toFixed(1)}`);
    return r;
  } finally {
    stopPublisher();
    await clients?.stop();
    await gateway.stop();
    await pub.endAsync();
    await broker.stop();
  }
}

// --- history -------------------------------------------------------------------------------------

const MIN = 60_000;
const DAY = 86_400_000;

async function historySetup(url: string): Promise<{ store: InfluxV1Store; sensors: string[]; from: number; to: number }> {
  const store = new InfluxV1Store({ type: 'influxdb1', url, database: `bench_history_${Date.now()}`, createDatabase: true, timeoutMs: 60_000 });
  await store.init();
  const to = Math.floor(Date.now() / DAY) * DAY;
  const from = to - 7 * DAY;
  const sensors = Array.from({ length: 10 }, (_, i) => `H${i}`);
  const started = Date.now();
  let batch: Point[] = [];
  for (let ts = from; ts < to; ts += MIN) {
    for (const [i, s] of sensors.entries()) {
      batch.push({ measurement: i < 6 ? 'pressure' : 'chlorine', sensor: s, ts, value: 30 + Math.sin(ts / 3_600_000 + i), quality: 'good', site: 'NET', dma: 'DMA00' });
    }
    if (batch.length >= 10_000) { await store.write(batch); batch = []; }
  }
  if (batch.length) await store.write(batch);
  console.error(`  history: wrote ${sensors.length} series × 7 d of 1-min data (${sensors.length * 7 * 1440} points) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { store, sensors, from, to };
}

const historyKind = (s: string) => (Number(s.slice(1)) < 6 ? 'pressure' : 'chlorine');

/** CPU ms (user + system) used so far by the influxd whose config lives in `dir`, from /proc; undefined if not ours. */
function influxdCpuMs(dir: string | undefined): number | undefined {
  if (!dir) return undefined;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${dir}/influxdb.conf`)) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS_PER_S);
    } catch { /* the process went away */ }
  }
  return undefined;
}
/** USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_S = 100;

async function historyRun(h: { store: InfluxV1Store; sensors: string[]; from: number; to: number; influxdDir?: string }, repeats: number): Promise<number> {
  const q = { sensors: h.sensors, from: h.from, to: h.to, points: 2100, measurementOf: historyKind };
  for (let i = 0; i < 3; i++) await readHistory(h.store, q); // warm-up: connections, InfluxDB's caches
  const times: number[] = [];
  let points = 0;
  const influxCpu0 = influxdCpuMs(h.influxdDir);
  const nodeCpu0 = process.cpuUsage();
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const r = await readHistory(h.store, q);
    times.push(performance.now() - t0);
    if (r.stepMs !== 5 * MIN) throw new Error(`history: expected 5-min windows, got ${r.stepMs} ms`);
    points = Object.values(r.series).reduce((n, s) => n + s.length, 0);
  }
  const nodeCpu = process.cpuUsage(nodeCpu0);
  const influxCpu1 = influxdCpuMs(h.influxdDir);
  times.sort((a, b) => a - b);
  const p95 = times[Math.ceil(times.length * 0.95) - 1];
  // CPU per read does not depend on what else the machine runs; wall time does.
  const cpu = `CPU per read: this process ${((nodeCpu.user + nodeCpu.system) / 1000 / repeats).toFixed(0)} ms`
    + (influxCpu0 !== undefined && influxCpu1 !== undefined ? `, influxd ${((influxCpu1 - influxCpu0) / repeats).toFixed(0)} ms` : '');
  console.error(`  history: ${repeats} reads of 10 series × 7 d at 5 min (${points} points each): median ${median(times).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms; ${cpu}; load average ${loadavg()[0].toFixed(1)}`);
  return p95;
}

// --- the benchmark -------------------------------------------------------------------------------

export const dashboardBenchmark: Benchmark = async ({ runs, quick }) => {
  const warmS = quick ? 3 : 5;
  const measureS = quick ? 10 : 30;
  const r = { p95: [] as number[], cpu: [] as number[], hist: [] as number[] };
  for (let k = 0; k < runs; k++) {
    console.error(`dashboard delivery, run ${k + 1}/${runs}: ${SENSORS} sensors at 1/s, ${CLIENTS} clients, ${measureS} s after ${warmS} s warm-up`);
    const d = await deliveryRun({ warmS, measureS });
    r.p95.push(d.p95);
    r.cpu.push(d.cpuPct);
  }

  let influx: InfluxdServer | undefined;
  let influxUrl = process.env.INFLUXDB_URL;
  if (!influxUrl) { influx = new InfluxdServer(); await influx.start(); influxUrl = influx.url; }
  try {
    const h = { ...await historySetup(influxUrl), influxdDir: influx?.dir };
    for (let k = 0; k < runs; k++) r.hist.push(await historyRun(h, 50));
    await h.store.close();
  } finally {
    await influx?.dispose();
  }

  const figures: Figure[] = [
    { bench: 'dashboard.delivery_p95_ms', value: median(r.p95), unit: 'ms', target: '<= 500', runs: r.p95 },
    { bench: 'dashboard.server_cpu_pct', value: median(r.cpu), unit: '% of one core (gateway process)', runs: r.cpu },
    { bench: 'dashboard.history_p95_ms', value: median(r.hist), unit: 'ms', target: '<= 300', runs: r.hist },
  ];

  try {
    const { measureWebFigures } = await import('./dashboard-web.ts');
    figures.push(...await measureWebFigures({ runs, quick }));
  } catch (e) {
    // The live and history figures stand on their own: report the web measurement's failure, keep them.
    console.error(`  web figures (dashboard.first_load_ms, dashboard.js_gzip_kb): NOT MEASURED, bench/dashboard-web.ts failed: ${(e as Error).message}`);
  }
  return figures;
};

// Entry point of the child processes.
if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const role = process.argv.find((a) => a.startsWith('--role='))?.slice(7);
  const args = JSON.parse(process.argv[process.argv.length - 1]) as never;
  const main = role === 'gateway' ? gatewayRole(args) : role === 'clients' ? clientsRole(args) : Promise.reject(new Error(`unknown role ${role}`));
  main.catch((e: unknown) => { console.error(e); process.exit(1); });
}
