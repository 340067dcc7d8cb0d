/**
 * The delivery queue with real channels (webhook and WeCom robot) against the local fakes and a real
 * SQLite database: the record per message, retries with backoff and Retry-After driven by an explicit
 * clock (no sleeping), channel down/up, and queued deliveries surviving a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { startFakeReceiver, type FakeReceiver } from '../../../test/support/fake-http-receiver.ts';
import { startFakeWecom } from '../../../test/support/fake-wecom.ts';
import type { Channel, NotifyMessage, Recipient } from '../channels/channel.ts';
import { WebhookChannel } from '../channels/webhook.ts';
import { WecomChannel } from '../channels/wecom.ts';
import { DeliveryQueue, type ChannelHealthEvent } from './delivery-queue.ts';

const T0 = Date.parse('2026-12-03T02:00:00Z');
const li: Recipient = { id: 'li', name: '李工', phone: '+8613800000002', language: 'zh-CN' };
const msg = (n: number): NotifyMessage => ({ id: `burst:a@x/li/${n}`, alarmId: 'burst:a@x', title: '爆管', text: `**爆管** #${n}`, sms: { template: 'alarm', params: {} } });

const fakes: FakeReceiver[] = [];
afterEach(async () => { for (const f of fakes.splice(0)) await f.close(); });

async function webhook(): Promise<{ fake: FakeReceiver; channel: Channel }> {
  const fake = await startFakeReceiver(() => ({ problems: [], answer: { status: 200, body: '{"ok":true}' } }));
  fakes.push(fake);
  return { fake, channel: new WebhookChannel({ type: 'webhook', name: 'hook', url: `${fake.url}/in`, timeoutMs: 5000 }) };
}

describe('DeliveryQueue', () => {
  it('records queued → delivered with the channel answer; the same message on the same channel is queued once', async () => {
    const fake = await startFakeWecom('k');
    fakes.push(fake);
    const db = new Database(':memory:');
    const q = new DeliveryQueue(db, { channels: new Map([['wecom', new WecomChannel({ type: 'wecom', name: 'wecom', url: fake.sendUrl, key: '${K}', timeoutMs: 5000 }, 'k')]]) });
    q.enqueue(msg(1), li, 'wecom', T0);
    q.enqueue(msg(1), li, 'wecom', T0);
    expect(q.history('burst:a@x')).toMatchObject([{ state: 'queued', attempts: 0 }]);
    expect(q.nextDueAt()).toBe(T0);
    await q.runDue(T0);
    expect(q.history('burst:a@x')).toMatchObject([{ state: 'delivered', attempts: 1, recipientId: 'li', channel: 'wecom', answer: '{"errcode":0,"errmsg":"ok"}' }]);
    expect(fake.requests).toHaveLength(1);
    expect(q.nextDueAt()).toBeUndefined();
  });

  it('waits as Retry-After says, then backs off exponentially, and gives up after maxAttempts', async () => {
    const { fake, channel } = await webhook();
    const db = new Database(':memory:');
    const q = new DeliveryQueue(db, { channels: new Map([['hook', channel]]), retry: { maxAttempts: 4, backoffMs: 1000, maxBackoffMs: 60_000 }, channelDownAfter: 100 });
    fake.queueAnswer({ status: 503, headers: { 'retry-after': '120' }, body: 'maintenance' });
    q.enqueue(msg(1), li, 'hook', T0);
    await q.runDue(T0);
    expect(q.history('burst:a@x')[0]).toMatchObject({ state: 'queued', attempts: 1, status: 503, answer: 'maintenance', nextAttemptAt: T0 + 60_000 });
    await q.runDue(T0 + 59_999);
    expect(fake.requests).toHaveLength(1);
    await q.runDue(T0 + 60_000);
    expect(q.history('burst:a@x')[0]).toMatchObject({ state: 'delivered', attempts: 2 });

    for (let i = 0; i < 4; i++) fake.queueAnswer({ status: 500, body: 'down' });
    q.enqueue(msg(2), li, 'hook', T0);
    const times: number[] = [];
    for (let t = T0; q.nextDueAt() !== undefined; t = q.nextDueAt()!) { times.push(t - T0); await q.runDue(t); }
    expect(times).toEqual([0, 1000, 3000, 7000]);
    expect(q.history('burst:a@x')[1]).toMatchObject({ state: 'failed', attempts: 4, status: 500 });
  });

  it('a 4xx fails at once; a channel failing 3 times in a row is reported down once, and up on its next success', async () => {
    const { fake, channel } = await webhook();
    const downs: ChannelHealthEvent[] = [];
    const ups: string[] = [];
    const q = new DeliveryQueue(new Database(':memory:'), { channels: new Map([['hook', channel]]), onChannelDown: (e) => downs.push(e), onChannelUp: (e) => ups.push(e.channel) });
    for (let i = 0; i < 4; i++) fake.queueAnswer({ status: 401, body: 'bad token' });
    for (let i = 1; i <= 4; i++) q.enqueue(msg(i), li, 'hook', T0);
    await q.runDue(T0);
    expect(q.history('burst:a@x').map((r) => r.state)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(downs).toEqual([{ channel: 'hook', at: T0, consecutiveFailures: 3, lastAnswer: 'bad token' }]);
    expect(q.downChannels()).toEqual(['hook']);
    q.enqueue(msg(5), li, 'hook', T0 + 1);
    await q.runDue(T0 + 1);
    expect(ups).toEqual(['hook']);
    expect(q.downChannels()).toEqual([]);
  });

  it('a delivery waiting for its retry is sent by the next process on the same database', async () => {
    const { fake, channel } = await webhook();
    const db = new Database(':memory:');
    const first = new DeliveryQueue(db, { channels: new Map([['hook', channel]]), retry: { backoffMs: 5000 } });
    fake.queueAnswer({ status: 502, body: 'bad gateway' });
    first.enqueue(msg(1), li, 'hook', T0);
    await first.runDue(T0);
    const second = new DeliveryQueue(db, { channels: new Map([['hook', channel]]) });
    expect(second.nextDueAt()).toBe(T0 + 5000);
    await second.runDue(T0 + 5000);
    expect(second.history('burst:a@x')[0]).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(JSON.parse(fake.requests[1].body)).toMatchObject({ id: msg(1).id, recipient: { id: 'li' } });
  });

  it('overlapping runs do not send a delivery twice', async () => {
    const { fake, channel } = await webhook();
    const q = new DeliveryQueue(new Database(':memory:'), { channels: new Map([['hook', channel]]) });
    q.enqueue(msg(1), li, 'hook', T0);
    await Promise.all([q.runDue(T0), q.runDue(T0)]);
    expect(fake.requests).toHaveLength(1);
  });
});
