/**
 * The MQTT source over TLS against a real Mosquitto TLS listener, with a CA and certificates made
 * here by openssl: the CA from the config verifies the broker; without it (rejectUnauthorized on)
 * the connection is refused; a listener that requires a client certificate accepts ours.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { Topology } from '../../../core/topology/topology.ts';
import { mqttSourceSchema } from './config.ts';
import { RecordingContext } from '../../../test/support/recording-context.ts';
import { freePort, waitFor } from '../../../test/support/ports.ts';
import { MOSQUITTO_BIN } from '../../../test/support/mosquitto.ts';
import { makeTestCertificates } from '../../../test/support/certificates.ts';
import { MqttSource } from './mqtt-source.ts';

const topology = new Topology({
  sites: [], dmas: [], meters: [],
  sensors: [{ id: 'cl-1', kind: 'chlorine', unit: 'mg/L', site: 'S1', place: 'network', intervalS: 60 }],
});
const T0 = Date.UTC(2026, 2, 1);

let dir = '';
const file = (name: string) => join(dir, name);

describe('MqttSource over TLS (Mosquitto)', () => {
  let proc: ChildProcess | undefined;
  let plainPort = 0;
  let tlsPort = 0;
  let mutualPort = 0;
  let pub: MqttClient;
  const sources: MqttSource[] = [];

  const start = async (tls: Record<string, unknown> | undefined, port: number, connectWaitMs = 5000) => {
    const ctx = new RecordingContext(topology);
    const cfg = mqttSourceSchema.parse({
      name: 'tls', clientId: `aw-tls-${process.pid}-${sources.length}`,
      broker: { url: `mqtts://127.0.0.1:${port}`, ...(tls ? { tls } : {}) },
      topics: [{ pattern: 'wq/{sensor}', timePath: 'ts' }],
    });
    const s = new MqttSource(cfg, { url: `mqtt://127.0.0.1:${plainPort}` }, { reconnectPeriodMs: 200, connectWaitMs });
    sources.push(s);
    await s.start(ctx);
    return { s, ctx };
  };

  beforeAll(async () => {
    if (!MOSQUITTO_BIN) throw new Error('mosquitto is not installed');
    dir = makeTestCertificates({ client: true }).dir;
    [plainPort, tlsPort, mutualPort] = [await freePort(), await freePort(), await freePort()];
    const tlsFiles = [`cafile ${file('ca.crt')}`, `certfile ${file('server.crt')}`, `keyfile ${file('server.key')}`];
    writeFileSync(file('mosquitto.conf'), [
      'per_listener_settings false', 'allow_anonymous true', 'log_type error',
      `listener ${plainPort} 127.0.0.1`,
      `listener ${tlsPort} 127.0.0.1`, ...tlsFiles,
      `listener ${mutualPort} 127.0.0.1`, ...tlsFiles, 'require_certificate true', '',
    ].join('\n'));
    proc = spawn(MOSQUITTO_BIN, ['-c', file('mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d) => { stderr += d; });
    for (const port of [plainPort, tlsPort, mutualPort]) {
      await waitFor(() => new Promise<boolean>((resolve) => {
        const c = connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
        c.on('error', () => resolve(false));
      }), 10_000, 50, `mosquitto TLS listener on ${port} (${stderr})`);
    }
    pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${plainPort}`, { clientId: `aw-tls-pub-${process.pid}` });
  });

  afterAll(async () => {
    for (const s of sources) await s.stop();
    await pub?.endAsync();
    if (proc && proc.exitCode === null) await new Promise<void>((resolve) => { proc!.once('exit', () => resolve()); proc!.kill('SIGTERM'); });
  });

  it('verifies the broker with the CA from the config and reads over TLS', async () => {
    const { s, ctx } = await start({ ca: file('ca.crt') }, tlsPort);
    expect(s.status().state).toBe('connected');
    await pub.publishAsync('wq/cl-1', JSON.stringify({ value: 0.4, ts: T0 }), { qos: 1 });
    await waitFor(() => ctx.readings.length === 1, 5000, 20, 'reading over TLS');
    expect(ctx.readings[0]).toEqual({ sensor: 'cl-1', ts: T0, value: 0.4, quality: 'good' });
  });

  it('refuses a broker it cannot verify, unless rejectUnauthorized is off', async () => {
    const { s } = await start(undefined, tlsPort, 1000);
    expect(s.status().state).toBe('connecting');
    expect(String(s.status().detail!.lastError)).toMatch(/self[- ]signed|unable to get local issuer|certificate/i);
    await s.stop();
    const { s: lax } = await start({ rejectUnauthorized: false }, tlsPort);
    expect(lax.status().state).toBe('connected');
  });

  it('presents a client certificate where the broker requires one', async () => {
    const { s: without } = await start({ ca: file('ca.crt') }, mutualPort, 1000);
    expect(without.status().state).toBe('connecting');
    await without.stop();
    const { s, ctx } = await start({ ca: file('ca.crt'), cert: file('client.crt'), key: file('client.key') }, mutualPort);
    expect(s.status().state).toBe('connected');
    await pub.publishAsync('wq/cl-1', JSON.stringify({ value: 0.41, ts: T0 + 1 }), { qos: 1 });
    await waitFor(() => ctx.readings.length === 1, 5000, 20, 'reading over mutual TLS');
  });
});
