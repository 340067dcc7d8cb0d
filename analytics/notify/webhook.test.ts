/**
 * The webhook channel against a real local HTTP server (fastify): retries with backoff after 500s,
 * timeouts and refused connections; no retry after a 4xx; every attempt and its outcome recorded in
 * the state store; the Notifier feeding it from the alarm manager with its filters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { createHmac } from 'node:crypto';
import { AlarmStore } from '../../core/state/alarm-store.ts';
import { freePort } from '../../test/support/ports.ts';
import { AlarmManager, type AlarmTransition } from '../alarms/manager.ts';
import { WebhookChannel, WebhookDeliveryError } from './webhook.ts';
import { Notifier, type NotificationChannel } from './channel.ts';

const T0 = Date.parse('2024-05-07T10:00:00Z');

interface Received { body: Record<string, unknown>; raw: string; headers: Record<string, string | string[] | undefined> }

/** A receiver answering with the statuses given in turn (the last one repeats), optionally after a delay. */
async function receiver(statuses: number[], delayMs: number[] = []): Promise<{ url: string; got: Received[]; app: FastifyInstance }> {
  const app = Fastify();
  const got: Received[] = [];
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post('/hook', async (req, reply) => {
    const n = got.length;
    got.push({ raw: req.body as string, body: JSON.parse(req.body as string) as Record<string, unknown>, headers: req.headers });
    const delay = delayMs[Math.min(n, delayMs.length - 1)] ?? 0;
    if (delay) await new Promise((r) => setTimeout(r, delay));
    return reply.code(statuses[Math.min(n, statuses.length - 1)]).send({ n });
  });
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });
  apps.push(app);
  return { url: `http://127.0.0.1:${port}/hook`, got, app };
}

const apps: FastifyInstance[] = [];
const stores: AlarmStore[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  for (const s of stores.splice(0)) s.close();
});

function newStore(): AlarmStore {
  const s = new AlarmStore(':memory:');
  stores.push(s);
  return s;
}

/** A real transition from a manager: a raise of a burst alarm. */
function raiseTransition(store: AlarmStore): AlarmTransition {
  const manager = new AlarmManager({ store });
  let out: AlarmTransition | undefined;
  manager.once('transition', (t) => { out = t; });
  manager.onCondition({ id: 'burst:central', type: 'burst', state: 'raise', ts: T0, dma: 'central', priority: 'high', message: 'burst ~40 m3/h', evidence: { flow: 40 } });
  return out!;
}

describe('WebhookChannel', () => {
  it('retries after 500s with backoff and records each attempt until delivered', async () => {
    const store = newStore();
    const t = raiseTransition(store);
    const r = await receiver([500, 500, 200]);
    const hook = new WebhookChannel({ name: 'webhook:ops', url: r.url, store, backoffMs: 20, maxAttempts: 5, secret: 's3cret' });
    const started = Date.now();
    await hook.send(t);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 + 40 - 5); // two backoffs: 20 ms, then 40 ms
    expect(r.got).toHaveLength(3);
    // The same delivery each time, so the receiver can drop duplicates; signed with the secret.
    expect(new Set(r.got.map((g) => g.raw)).size).toBe(1);
    expect(r.got[0].headers['x-aquawatch-delivery']).toBe(`${t.alarmId}/${t.seq}`);
    expect(r.got[0].headers['x-aquawatch-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(r.got[0].raw).digest('hex')}`);
    expect(r.got[0].body).toMatchObject({ v: 1, kind: 'raise', alarmId: t.alarmId, alarm: { type: 'burst', dma: 'central', priority: 'high', evidence: { flow: 40 } } });
    expect(r.got[0].body.text).toBe('[ALARM] high burst (DMA central): burst ~40 m3/h @ 2024-05-07T10:00:00.000Z');
    expect(store.deliveries({ alarmId: t.alarmId }).map((d) => [d.channel, d.attempt, d.outcome, d.status, d.eventSeq]))
      .toEqual([['webhook:ops', 1, 'retry', 500, t.seq], ['webhook:ops', 2, 'retry', 500, t.seq], ['webhook:ops', 3, 'delivered', 200, t.seq]]);
  });

  it('gives up after maxAttempts and records the failure', async () => {
    const store = newStore();
    const t = raiseTransition(store);
    const r = await receiver([503]);
    const hook = new WebhookChannel({ url: r.url, store, backoffMs: 5, maxAttempts: 3 });
    await expect(hook.send(t)).rejects.toBeInstanceOf(WebhookDeliveryError);
    expect(r.got).toHaveLength(3);
    expect(store.deliveries().map((d) => [d.attempt, d.outcome, d.error])).toEqual([[1, 'retry', 'HTTP 503'], [2, 'retry', 'HTTP 503'], [3, 'failed', 'HTTP 503']]);
  });

  it('does not retry a 4xx other than 408/429', async () => {
    const store = newStore();
    const t = raiseTransition(store);
    const r = await receiver([401, 200]);
    const hook = new WebhookChannel({ url: r.url, store, backoffMs: 5 });
    await expect(hook.send(t)).rejects.toThrow(/HTTP 401 after 1 attempt/);
    expect(r.got).toHaveLength(1);
    expect(store.deliveries().map((d) => d.outcome)).toEqual(['failed']);
  });

  it('retries a timeout and a refused connection', async () => {
    const store = newStore();
    const t = raiseTransition(store);
    const r = await receiver([200], [500, 0]);
    const hook = new WebhookChannel({ url: r.url, store, backoffMs: 5, timeoutMs: 100 });
    await hook.send(t);
    expect(store.deliveries().map((d) => [d.outcome, d.error ?? null])).toEqual([['retry', 'timeout after 100 ms'], ['delivered', null]]);

    const closedPort = await freePort();
    const refused = new WebhookChannel({ name: 'webhook:down', url: `http://127.0.0.1:${closedPort}/hook`, store, backoffMs: 5, maxAttempts: 2 });
    await expect(refused.send(t)).rejects.toThrow(/after 2 attempt/);
    const down = store.deliveries({ channel: 'webhook:down' });
    expect(down.map((d) => d.outcome)).toEqual(['retry', 'failed']);
    expect(down[0].error).toMatch(/ECONNREFUSED/);
  });

  it('refuses a bad configuration with the field named', () => {
    expect(() => new WebhookChannel({ url: 'not a url' })).toThrow(/webhook\.url/);
    expect(() => new WebhookChannel({ url: 'ftp://x/y' })).toThrow(/webhook\.url/);
    expect(() => new WebhookChannel({ url: 'http://x/y', maxAttempts: 0 })).toThrow(/webhook\.maxAttempts/);
  });
});

describe('Notifier', () => {
  it('sends what should be announced: not shelved or suppressed alarms, not below the route\'s priority', async () => {
    const store = newStore();
    const manager = new AlarmManager({ store });
    const r = await receiver([200]);
    const hook = new WebhookChannel({ name: 'webhook:ops', url: r.url, store, backoffMs: 5 });
    /** A second channel that records what it is given: a test double of an SMS gateway. */
    const smsDouble: NotificationChannel & { sent: AlarmTransition[] } = { name: 'sms-double', sent: [], async send(t) { this.sent.push(t); } };
    const notifier = new Notifier({ routes: [{ channel: hook }, { channel: smsDouble, minPriority: 'high', kinds: ['raise'] }], store }).attach(manager);

    manager.suppressArea('south', T0, T0 + 3_600_000, 'planned outage');
    manager.onCondition({ id: 'burst:central', type: 'burst', state: 'raise', ts: T0, dma: 'central', priority: 'high', message: 'burst' });
    manager.onCondition({ id: 'outage:south', type: 'outage', state: 'raise', ts: T0, dma: 'south', priority: 'critical', message: 'outage' });
    manager.onCondition({ id: 'stale:F-1', type: 'stale', state: 'raise', ts: T0, priority: 'low', message: 'stale' });
    const stale = manager.openAlarms().find((a) => a.type === 'stale')!;
    manager.shelve(stale.id, 'eng', T0 + 60_000, 'replacing');
    manager.onCondition({ id: 'stale:F-1', type: 'stale', state: 'clear', ts: T0 + 1000, message: 'ok' });
    manager.onCondition({ id: 'burst:central', type: 'burst', state: 'clear', ts: T0 + 2000, message: 'ok' });
    await notifier.idle();

    expect(r.got.map((g) => `${g.body.kind as string} ${(g.body.alarm as { type: string }).type}`)).toEqual(['raise burst', 'raise stale', 'clear burst']);
    expect(smsDouble.sent.map((t) => `${t.kind} ${t.alarm.type}`)).toEqual(['raise burst']);
    expect(notifier.counts).toMatchObject({ sent: 4, failed: 0 });
    expect(store.deliveries({ channel: 'webhook:ops' }).every((d) => d.outcome === 'delivered')).toBe(true);
    await notifier.close();
  });
});
