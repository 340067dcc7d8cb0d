import { describe, it, expect, afterEach } from 'vitest';
import mqtt from 'mqtt';
import { EmbeddedBroker, PortInUseError } from '../../core/bus/embedded-broker.ts';
import { freePort } from '../support/ports.ts';

describe('embedded broker (aedes)', () => {
  const started: EmbeddedBroker[] = [];
  afterEach(async () => { for (const b of started.splice(0)) await b.stop(); });

  it('accepts anonymous clients when no password is configured and relays QoS 1', async () => {
    const b = new EmbeddedBroker({ host: '127.0.0.1', port: await freePort() });
    await b.start(); started.push(b);
    const sub = await mqtt.connectAsync(b.url);
    await sub.subscribeAsync('t/#', { qos: 1 });
    const got = new Promise<string>((r) => sub.once('message', (_t, p) => r(p.toString())));
    const pub = await mqtt.connectAsync(b.url);
    await pub.publishAsync('t/1', 'hello', { qos: 1 });
    expect(await got).toBe('hello');
    await pub.endAsync(); await sub.endAsync();
  });

  it('refuses a wrong password when one is configured', async () => {
    const b = new EmbeddedBroker({ host: '127.0.0.1', port: await freePort(), username: 'aw', password: 's3cret' });
    await b.start(); started.push(b);
    await expect(mqtt.connectAsync(b.url, { username: 'aw', password: 'wrong', reconnectPeriod: 0 })).rejects.toThrow(/Bad username or password|Not authorized/i);
    const ok = await mqtt.connectAsync(b.url, { username: 'aw', password: 's3cret' });
    expect(ok.connected).toBe(true);
    await ok.endAsync();
  });

  it('says clearly when its port is taken', async () => {
    const port = await freePort();
    const a = new EmbeddedBroker({ host: '127.0.0.1', port });
    await a.start(); started.push(a);
    const b = new EmbeddedBroker({ host: '127.0.0.1', port });
    const err = await b.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use; .*broker.port`));
  });
});
