/**
 * For the fleet's tests: a real mqtt.js subscriber that records what arrives, and waits (on message
 * events, not sleeps) until what a test expects has arrived.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface Received { topic: string; payload: Buffer; retain: boolean; qos: number }

export class RecordingSubscriber {
  readonly messages: Received[] = [];
  private client?: MqttClient;
  private waiters: (() => void)[] = [];

  constructor(private readonly url: string, private readonly filters: string[]) {}

  async start(): Promise<void> {
    this.client = await mqtt.connectAsync(this.url, { clientId: `aw-test-sub-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
    this.client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload, retain: packet.retain, qos: packet.qos });
      for (const w of this.waiters.splice(0)) w();
    });
    await this.client.subscribeAsync(this.filters, { qos: 1 });
  }

  /** Messages whose topic matches `topic` (exact string or RegExp). */
  on(topic: string | RegExp): Received[] {
    return this.messages.filter((m) => (typeof topic === 'string' ? m.topic === topic : topic.test(m.topic)));
  }

  /** Resolves with `check()`'s value once it is truthy, re-checking on each message. */
  async until<T>(check: () => T, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.messages.length} messages so far)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  async publish(topic: string, payload: Buffer | string): Promise<void> {
    await this.client!.publishAsync(topic, payload, { qos: 1 });
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.endAsync();
  }
}
