// Load generator for the ingest benchmark, in a worker thread so that it does not share an event
// loop with the measurements. Publishes for `durationMs`, as fast as the receiver keeps up: the
// parent posts credit (readings stored so far + a bounded backlog), and the generator never runs
// more than that ahead. Without credit (`credit: false`) it publishes as fast as the broker takes it.
// An open-loop flood would only measure how the broker and the machine drown, not a sustained rate:
//   mode 'json': one reading per message on loggers/<sensor>, {"v":…,"t":…}
//   mode 'sparkplug': NDATA with `metricsPerMessage` metrics by alias, after an NBIRTH
// QoS 1 keeps at most `window` messages unacknowledged; QoS 0 waits for the socket to drain.
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';
import sparkplug from 'sparkplug-payload';

const { url, mode, qos, sensors, durationMs, window = 2000, metricsPerMessage = 100, t0, clientId, credit: useCredit = true, ratePerS } = workerData;
const started = Date.now();
let credit = useCredit ? 0 : Infinity;
parentPort.on('message', (m) => { if (typeof m.credit === 'number') credit = m.credit; });
const spb = sparkplug.get('spBv1.0');
const client = await mqtt.connectAsync(url, { clientId, clean: true });
let sent = 0;
let readings = 0;
let inflight = 0;
let seq = 0;
const deadline = Date.now() + durationMs;

function drained() {
  return new Promise((resolve) => {
    const s = client.stream;
    if (!s.writableNeedDrain) return resolve();
    s.once('drain', resolve);
  });
}

let nextWake;
function onAck() { inflight--; if (nextWake && inflight < window) { const w = nextWake; nextWake = undefined; w(); } }

if (mode === 'sparkplug') {
  const group = 'bench';
  const node = 'edge1';
  const metrics = [{ name: 'bdSeq', type: 'UInt64', value: 0 }];
  for (let i = 0; i < sensors; i++) metrics.push({ name: `m${i}`, alias: i + 1, type: 'Double', value: 0 });
  await client.publishAsync(`spBv1.0/${group}/NBIRTH/${node}`, spb.encodePayload({ timestamp: Date.now(), seq: 0, metrics }), { qos: 0 });
  seq = 1;
}

let i = 0;
while (Date.now() < deadline) {
  if (readings >= credit) { await new Promise((r) => setTimeout(r, 2)); continue; }
  // paced mode: `ratePerS` readings a second, like a fleet reporting on its interval
  if (ratePerS && readings >= ((Date.now() - started) / 1000) * ratePerS) { await new Promise((r) => setTimeout(r, 5)); continue; }
  for (let k = 0; k < 500; k++) {
    let topic;
    let payload;
    if (mode === 'json') {
      const s = i % sensors;
      topic = `loggers/F${s}`;
      payload = `{"v":${(i % 1000) / 10},"t":${t0 + Math.floor(i / sensors) * 10}}`;
      readings++;
    } else {
      const ts = t0 + i * 10;
      const m = [];
      for (let j = 0; j < metricsPerMessage; j++) {
        m.push({ alias: ((i * metricsPerMessage + j) % sensors) + 1, type: 'Double', value: j, timestamp: ts });
      }
      topic = 'spBv1.0/bench/NDATA/edge1';
      payload = spb.encodePayload({ timestamp: ts, seq: seq, metrics: m });
      seq = (seq + 1) % 256;
      readings += metricsPerMessage;
    }
    i++;
    sent++;
    if (qos === 1) {
      inflight++;
      client.publish(topic, payload, { qos: 1 }, onAck);
      if (inflight >= window) await new Promise((r) => { nextWake = r; });
    } else {
      client.publish(topic, payload, { qos: 0 });
    }
  }
  if (qos === 0) await drained();
  else await new Promise((r) => setImmediate(r));
}
while (inflight > 0) await new Promise((r) => setTimeout(r, 10));
await client.endAsync();
parentPort.postMessage({ sent, readings });
