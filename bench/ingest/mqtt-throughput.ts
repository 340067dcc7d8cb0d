/**
 * Throughput of the MQTT source into the real pipeline and outbox (group commit, fsync). A child
 * process publishes N JSON messages as fast as the broker takes them; we time from the first message
 * to the last reading durable (and, at QoS 1, the last PUBACK sent). `measureMqttThroughput` and
 * `measureBrokerBaseline` return the figures as values; run as a script, it prints them as JSON.
 *
 *   npx tsx bench/ingest/mqtt-throughput.ts [--broker mosquitto|aedes] [--qos 0|1] [--n 100000] [--per-message 1] [--baseline]
 *
 * --baseline: a bare mqtt.js subscriber that only counts messages (PUBACK at once, nothing
 * decoded or stored), for the broker's own rate on this machine.
 *
 * With aedes the broker runs in this process and shares its event loop with the source, as in the
 * all-in-one start; Mosquitto runs as its own process.
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import { Topology } from '../../core/topology/topology.ts';
import { Metrics } from '../../ingest/metrics.ts';
import { silentLogger } from '../../core/log.ts';
import { mqttSourceSchema } from '../../ingest/sources/mqtt/config.ts';
import { Outbox } from '../../ingest/pipeline/outbox.ts';
import { DeadLetterStore } from '../../ingest/pipeline/dead-letters.ts';
import { Pipeline } from '../../ingest/pipeline/pipeline.ts';
import type { SourceContext } from '../../ingest/sources/types.ts';
import { MqttSource } from '../../ingest/sources/mqtt/mqtt-source.ts';
import { AedesTestBroker, MosquittoTestBroker, type TestBroker } from '../../test/support/brokers.ts';

const SENSORS = 100;

async function publish(url: string, n: number, qos: 0 | 1, perMessage: number): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}`, clean: true });
  const t0 = Date.UTC(2026, 0, 1);
  let inflight = 0;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < n && inflight < 500) {
        const i = sent++;
        const items = [];
        for (let k = 0; k < perMessage; k++) items.push({ value: (i % 100) / 100, ts: t0 + i * perMessage + k });
        const payload = JSON.stringify(perMessage === 1 ? items[0] : items);
        inflight++;
        client.publish(`wq/north/s${i % SENSORS}`, payload, { qos }, () => {
          inflight--;
          if (sent === n && inflight === 0) resolve();
          else if (inflight < 250) setImmediate(pump);
        });
      }
    };
    pump();
  });
  await client.endAsync();
}

export interface MqttThroughputOptions {
  broker: 'mosquitto' | 'aedes';
  qos: 0 | 1;
  /** Messages to publish. */
  messages: number;
  readingsPerMessage: number;
}

export interface MqttThroughput {
  broker: string; qos: 0 | 1; messages: number; readingsPerMessage: number; seconds: number;
  readingsPerSecond: number; messagesPerSecond: number; acked: number; outboxDepth: number;
}

export interface BrokerBaseline { broker: string; qos: 0 | 1; messages: number; seconds: number; messagesPerSecond: number }

function startBroker(kind: MqttThroughputOptions['broker']): TestBroker {
  return kind === 'aedes' ? new AedesTestBroker() : new MosquittoTestBroker();
}

/**
 * The publisher runs as its own process, so that it does not share the measured event loop. Its exit
 * is awaited from the start: at QoS 0 it may be gone before the last reading is durable.
 */
function forkPublisher(url: string, o: MqttThroughputOptions): { exited: Promise<void> } {
  const child = fork(fileURLToPath(import.meta.url), ['publisher', url, String(o.messages), String(o.qos), String(o.readingsPerMessage)], { execArgv: ['--import', 'tsx'] });
  return { exited: new Promise<void>((resolve) => child.once('exit', () => resolve())) };
}

/** The broker's own rate on this machine: a bare mqtt.js subscriber that only counts messages. */
export async function measureBrokerBaseline(o: MqttThroughputOptions): Promise<BrokerBaseline> {
  const broker = startBroker(o.broker);
  await broker.start();
  try {
    const sub = await mqtt.connectAsync(broker.url, { clientId: `bench-base-${process.pid}` });
    await sub.subscribeAsync('wq/#', { qos: o.qos });
    let count = 0;
    let first = 0;
    const all = new Promise<void>((resolve) => sub.on('message', () => {
      if (!first) first = performance.now();
      if (++count === o.messages) resolve();
    }));
    const publisher = forkPublisher(broker.url, o);
    await all;
    const seconds = (performance.now() - first) / 1000;
    await publisher.exited;
    await sub.endAsync();
    return { broker: o.broker, qos: o.qos, messages: o.messages, seconds: Number(seconds.toFixed(2)), messagesPerSecond: Math.round(o.messages / seconds) };
  } finally {
    await broker.stop();
  }
}

/** The MQTT source into the real pipeline and outbox, from the first message to the last reading durable. */
export async function measureMqttThroughput(o: MqttThroughputOptions): Promise<MqttThroughput> {
  const { qos, messages: n, readingsPerMessage: perMessage } = o;
  const broker = startBroker(o.broker);
  await broker.start();
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-'));
  const topology = new Topology({
    sites: [], dmas: [], meters: [],
    sensors: Array.from({ length: SENSORS }, (_, i) => ({ id: `s${i}`, kind: 'chlorine' as const, unit: 'mg/L', site: 'S1', place: 'network' as const, intervalS: 60 })),
  });
  const metrics = new Metrics();
  const outbox = new Outbox({ path: join(dir, 'outbox.sqlite'), maxReadings: 50_000_000, batchMaxSize: 5000, batchMaxDelayMs: 50 });
  const pipeline = new Pipeline({
    topology, outbox, deadLetters: new DeadLetterStore(outbox.db), metrics, log: silentLogger,
    maxFutureMs: 300_000, dedupeWindow: 16, now: Date.now,
  });
  let durable = 0;
  let firstAt = 0;
  const ctx: SourceContext = {
    topology, log: silentLogger, metrics,
    submit: async (source, readings) => {
      if (!firstAt) firstAt = performance.now();
      const r = await pipeline.submit(source, readings);
      durable += readings.length;
      return r;
    },
    reject: (source, input) => pipeline.reject(source, input),
    condition: () => undefined,
    sensorsStatus: () => undefined,
    now: Date.now,
  };
  const source = new MqttSource(mqttSourceSchema.parse({
    name: 'bench', clientId: `bench-src-${process.pid}`, qos,
    topics: [{ pattern: 'wq/{site}/{sensor}', timePath: 'ts' }],
  }), { url: broker.url, host: '127.0.0.1', port: 0 });
  await source.start(ctx);

  const publisher = forkPublisher(broker.url, o);
  const expected = n * perMessage;
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 300_000;
    const check = () => {
      const acked = Number(source.status().detail!.acked);
      if (durable >= expected && (qos === 0 || acked >= n)) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timeout: ${durable}/${expected} durable, ${acked}/${n} acked`));
      setTimeout(check, 5);
    };
    check();
  });
  const seconds = (performance.now() - firstAt) / 1000;
  const d = source.status().detail!;
  const result: MqttThroughput = {
    broker: o.broker, qos, messages: n, readingsPerMessage: perMessage, seconds: Number(seconds.toFixed(2)),
    readingsPerSecond: Math.round(expected / seconds), messagesPerSecond: Math.round(n / seconds),
    acked: Number(d.acked), outboxDepth: outbox.depth,
  };
  await publisher.exited;
  await source.stop();
  outbox.close();
  await broker.stop();
  return result;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'publisher') {
    await publish(process.argv[3], Number(process.argv[4]), Number(process.argv[5]) as 0 | 1, Number(process.argv[6]));
    return;
  }
  const options: MqttThroughputOptions = {
    broker: arg('broker', 'mosquitto') === 'aedes' ? 'aedes' : 'mosquitto',
    qos: Number(arg('qos', '1')) === 0 ? 0 : 1,
    messages: Number(arg('n', '100000')),
    readingsPerMessage: Number(arg('per-message', '1')),
  };
  const result = process.argv.includes('--baseline') ? await measureBrokerBaseline(options) : await measureMqttThroughput(options);
  console.log(JSON.stringify(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
