/**
 * `npm run bench -- notify`: alarms to people on the live path. The alarm manager of the live
 * composition (analytics/compose.ts with a `notify:` section, a real state database) raises the
 * alarms; the notifier follows it on the wall clock (analytics/notify/alarm-feed.ts) and sends
 * through the real webhook channel over HTTP to a local receiver, which notes when each message
 * arrives.
 *
 * - `notify.delivery_p95_ms`: alarm raised → message at the receiver, p95. The issue asks for 100
 *   alarms a minute over 10 minutes (1,000 alarms); time is compressed TIME_SCALE times by raising
 *   the same 1,000 alarms TIME_SCALE times faster, which only makes the figure harder to meet.
 * - `notify.escalation_late_s`: how late escalations arrive against their due time (raise +
 *   escalateAfterMin), p95, for one alarm in ten of the same run, under that load; the delay itself
 *   is real time.
 * - `notify.lost`: the receiver answers 503 for 5 minutes in the middle of a run; messages not
 *   delivered in the end (0). Compressed like the rate: the outage, the retry backoff and its cap
 *   are TIME_SCALE times shorter, so the retries meet the outage exactly as they would in real time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../core/config/load.ts';
import { alarmText } from '../core/messages/alarm-texts.ts';
import { DEFAULT_RETRY } from '../analytics/notify/delivery/delivery-queue.ts';
import { buildAnalytics, type Analytics } from '../analytics/compose.ts';
import type { AlarmTransition } from '../analytics/alarms/manager.ts';
import { median, type Benchmark, type Figure } from './run.ts';

const ALARMS = 1_000;
const SPEC_ALARMS_PER_MIN = 100;
const ESCALATE_EVERY = 10;
const ESCALATE_AFTER_S = 20;
const OUTAGE_MS = 5 * 60_000;
const DMAS = ['central', 'north', 'south', 'east', 'west'];
const ENV = { AW_BENCH_ACK_SECRET: 'a-bench-ack-secret-that-is-long-enough!', AW_BENCH_HOOK_SECRET: 'bench-hook' };

interface Receiver { url: string; arrivals: Map<string, number>; down: boolean; refused: number; close(): Promise<void> }

/** The local receiver: 204 and the arrival time per message id (X-Aquawatch-Delivery), or 503 while `down`. */
async function startReceiver(): Promise<Receiver> {
  const r: Receiver = { url: '', arrivals: new Map(), down: false, refused: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (r.down) { r.refused++; res.writeHead(503).end(); return; }
      const id = String(req.headers['x-aquawatch-delivery']);
      if (!r.arrivals.has(id)) r.arrivals.set(id, Date.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return r;
}

function composition(dir: string, receiverUrl: string, timeScale: number): Analytics {
  const config = parseConfig({
    dataDir: dir,
    topology: { dmas: DMAS.map((id) => ({ id })) },
    notify: {
      publicUrl: 'https://scada.example.cn', ackSecret: '${AW_BENCH_ACK_SECRET}',
      people: { crew: { name: '值班 crew' }, manager: { name: 'duty manager', language: 'en' } },
      channels: [{ type: 'webhook', name: 'hook', url: receiverUrl, secret: '${AW_BENCH_HOOK_SECRET}' }],
      routing: {
        timeZone: 'Asia/Shanghai',
        rotas: { crew: { weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '00:00', people: ['crew'] }], dutyManager: 'manager' } },
        rules: [
          { name: 'escalating', match: { types: ['bench_escalating'] }, rota: 'crew', channels: ['hook'], escalateAfterMin: ESCALATE_AFTER_S / 60 },
          { name: 'others', rota: 'crew', channels: ['hook'], escalateAfterMin: 24 * 60 },
        ],
      },
      delivery: {
        maxAttempts: DEFAULT_RETRY.maxAttempts,
        backoffMs: Math.round(DEFAULT_RETRY.backoffMs / timeScale),
        maxBackoffMs: Math.round(DEFAULT_RETRY.maxBackoffMs / timeScale),
      },
    },
  }, 'bench-notify.yaml', { ...process.env, ...ENV });
  const saved = { ...process.env };
  Object.assign(process.env, ENV); // the notifier reads its secrets from the environment when built
  try {
    return buildAnalytics({ config, statePath: join(dir, 'state.sqlite'), mode: 'live' });
  } finally {
    for (const k of Object.keys(ENV)) if (saved[k] === undefined) delete process.env[k];
  }
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunResult { deliveryMs: number[]; escalationLateMs: number[]; lost: number; refused: number }

/**
 * Raise ALARMS alarms at SPEC_ALARMS_PER_MIN × timeScale a minute; with `outage`, the receiver is
 * down for OUTAGE_MS / timeScale from a quarter into the run. Waits until every message arrived or
 * can no longer arrive (every delivery delivered or failed, nothing due).
 */
async function runOnce(timeScale: number, outage: boolean): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-notify-'));
  const receiver = await startReceiver();
  const analytics = composition(dir, receiver.url, timeScale);
  const notifications = analytics.notifications!;
  const raised = new Map<string, { at: number; escalating: boolean }>();
  // the alarm id of each condition, from the manager's raise (openAlarms() is a read of every open alarm)
  const alarmIds = new Map<string, string>();
  analytics.alarms.on('transition', (t: AlarmTransition) => { if (t.kind === 'raise') alarmIds.set(t.alarm.conditionId, t.alarm.id); });
  try {
    const gapMs = 60_000 / (SPEC_ALARMS_PER_MIN * timeScale);
    const start = Date.now();
    const outageFrom = start + (ALARMS * gapMs) / 4;
    const outageTo = outageFrom + OUTAGE_MS / timeScale;
    for (let i = 0; i < ALARMS; i++) {
      // on schedule against the start, so a slow raise does not stretch the run
      const wait = start + i * gapMs - Date.now();
      if (wait > 0) await sleep(wait);
      if (outage) receiver.down = Date.now() >= outageFrom && Date.now() < outageTo;
      const escalating = !outage && i % ESCALATE_EVERY === 0;
      const dma = DMAS[i % DMAS.length];
      const at = Date.now();
      analytics.alarms.onCondition({ id: `bench:${i}`, type: escalating ? 'bench_escalating' : 'bench_alarm', state: 'raise', ts: at, priority: 'high', dma,
        text: alarmText('burst.raise', { dma, flow: '40.0', share: 15 }) });
      raised.set(alarmIds.get(`bench:${i}`)!, { at, escalating });
    }
    while (outage && Date.now() < outageTo) { receiver.down = true; await sleep(50); }
    receiver.down = false;
    const expected = [...raised].flatMap(([id, r]) => [`${id}/crew/alarm/0`, ...(r.escalating ? [`${id}/manager/escalation/1`] : [])]);
    // done when everything arrived, or nothing is left to try (every delivery delivered or failed)
    for (;;) {
      await notifications.settled();
      if (expected.every((id) => receiver.arrivals.has(id))) break;
      const pending = [...raised.keys()].some((id) => notifications.history(id).some((d) => d.state === 'queued'));
      const escalationsDue = [...raised.values()].some((r) => r.escalating && Date.now() < r.at + ESCALATE_AFTER_S * 1000 + 60_000);
      if (!pending && !escalationsDue) break;
      await sleep(100);
    }
    const deliveryMs: number[] = [];
    const escalationLateMs: number[] = [];
    for (const [id, r] of raised) {
      // a message that never arrived counts as infinitely late
      if (!outage) deliveryMs.push((receiver.arrivals.get(`${id}/crew/alarm/0`) ?? Infinity) - r.at);
      const escalated = receiver.arrivals.get(`${id}/manager/escalation/1`);
      if (r.escalating) escalationLateMs.push((escalated ?? Infinity) - (r.at + ESCALATE_AFTER_S * 1000));
    }
    const lost = expected.filter((id) => !receiver.arrivals.has(id)).length;
    return { deliveryMs, escalationLateMs, lost, refused: receiver.refused };
  } finally {
    await notifications.settled();
    analytics.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const notifyBenchmark: Benchmark = async ({ runs, quick }) => {
  const timeScale = quick ? 20 : 10;
  const load: RunResult[] = [];
  const down: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    load.push(await runOnce(timeScale, false));
    down.push(await runOnce(timeScale, true));
    const l = load.at(-1)!;
    const d = down.at(-1)!;
    console.error(`notify run ${i + 1}: delivery p95 ${p95(l.deliveryMs)} ms (${l.deliveryMs.length} alarms, ${l.lost} messages not arrived), escalation late p95 ${(p95(l.escalationLateMs) / 1000).toFixed(2)} s (${l.escalationLateMs.length}); channel down: ${d.refused} attempts refused, ${d.lost} lost`);
  }
  const what = `${ALARMS} alarms at ${SPEC_ALARMS_PER_MIN * timeScale}/min (${SPEC_ALARMS_PER_MIN}/min × ${timeScale}, time compressed)`;
  const figures: Figure[] = [
    { bench: 'notify.delivery_p95_ms', value: median(load.map((r) => p95(r.deliveryMs))), unit: `ms (${what}, webhook to a local receiver)`, target: '≤ 1000', runs: load.map((r) => p95(r.deliveryMs)) },
    { bench: 'notify.escalation_late_s', value: median(load.map((r) => p95(r.escalationLateMs) / 1000)), unit: `s p95 (${ALARMS / ESCALATE_EVERY} escalations after ${ESCALATE_AFTER_S} s, under that load)`, target: '≤ 5', runs: load.map((r) => p95(r.escalationLateMs) / 1000) },
    { bench: 'notify.lost', value: Math.max(...down.map((r) => r.lost)), unit: `messages (receiver down ${OUTAGE_MS / 60_000} min / ${timeScale}, retry backoff / ${timeScale}; worst run)`, target: '0', runs: down.map((r) => r.lost) },
  ];
  return figures;
};
