/**
 * The MQTT source's pure parts: topic patterns, payload decoders and broker options (TLS files).
 * The source against real brokers is in mqtt.test.ts.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology } from '../../../core/topology/topology.ts';
import { topicPatternSchema, mqttSourceSchema, type TopicPatternConfig } from './config.ts';
import { mqttConnectOptions, resolveBroker, BrokerConfigError } from '../../../core/bus/mqtt-client.ts';
import { compilePattern, matchTopic } from './topic-pattern.ts';
import { PayloadDecoder } from './decode.ts';
import { qualityFromAny } from '../common/mqtt/quality.ts';
import { MqttSource } from './mqtt-source.ts';

const topology = new Topology({
  sites: [], dmas: [], meters: [],
  sensors: [
    { id: 'cl-1', kind: 'chlorine', unit: 'mg/L', site: 'S1', place: 'network', intervalS: 60 },
    { id: 'p-1', kind: 'pressure', unit: 'MPa', site: 'S1', place: 'network', intervalS: 60, source: { type: 'mqtt', topic: 'loggers/p1/pressure' } },
  ],
});
const NOW = Date.UTC(2026, 2, 1, 8, 0, 0);

function decoder(cfg: Partial<TopicPatternConfig> & { pattern: string }) {
  return new PayloadDecoder(topicPatternSchema.parse(cfg), topology, () => NOW);
}
const buf = (s: string) => Buffer.from(s);

describe('topic patterns', () => {
  it('turns named levels into + and captures them', () => {
    const p = compilePattern('wq/{site}/{sensor}/data', 'f');
    expect(p.filter).toBe('wq/+/+/data');
    expect(p.capturesSensor).toBe(true);
    expect(matchTopic(p, 'wq/north/cl-1/data')).toEqual({ site: 'north', sensor: 'cl-1' });
    expect(matchTopic(p, 'wq/north/cl-1')).toBeUndefined();
    expect(matchTopic(p, 'wq/north/cl-1/data/x')).toBeUndefined();
    expect(matchTopic(p, 'xx/north/cl-1/data')).toBeUndefined();
  });

  it('matches + and # as MQTT does', () => {
    const p = compilePattern('loggers/+/#', 'f');
    expect(p.filter).toBe('loggers/+/#');
    expect(p.capturesSensor).toBe(false);
    expect(matchTopic(p, 'loggers/p1/pressure')).toEqual({});
    expect(matchTopic(p, 'loggers/p1')).toEqual({});
    expect(matchTopic(p, 'loggers')).toBeUndefined();
    expect(matchTopic(compilePattern('#', 'f'), '$SYS/broker/uptime')).toBeUndefined();
  });

  it('refuses malformed patterns, naming the field', () => {
    expect(() => compilePattern('a/#/b', 'sources.mqtt[x].topics[0].pattern')).toThrow(/sources\.mqtt\[x\]\.topics\[0\]\.pattern: # must be the last level/);
    expect(() => compilePattern('a/pre{sensor}', 'f')).toThrow(/a capture is a whole level/);
    expect(() => compilePattern('a/{s}/{s}', 'f')).toThrow(/appears twice/);
    expect(() => compilePattern('a/b+', 'f')).toThrow(/must be a whole level/);
  });
});

describe('number payloads', () => {
  it('reads a plain number, stamped with the clock', () => {
    const d = decoder({ pattern: 'wq/{sensor}', format: 'number' });
    expect(d.decode({ topic: 'wq/cl-1', payload: buf(' 0.42\n'), topicSensor: 'cl-1' }))
      .toEqual({ readings: [{ sensor: 'cl-1', ts: NOW, value: 0.42, quality: 'good' }], problems: [] });
  });

  it('rejects what is not a number, and unknown or missing sensors', () => {
    const d = decoder({ pattern: 'wq/{sensor}', format: 'number' });
    expect(d.decode({ topic: 'wq/cl-1', payload: buf('high'), topicSensor: 'cl-1' }).problems[0].reason).toMatch(/^value: payload is not a number/);
    expect(d.decode({ topic: 'wq/cl-1', payload: buf(''), topicSensor: 'cl-1' }).problems[0].reason).toMatch(/^value:/);
    expect(d.decode({ topic: 'wq/zz', payload: buf('1'), topicSensor: 'zz' }).problems[0].reason).toBe('sensor: unknown sensor "zz" (from topic)');
    expect(d.decode({ topic: 'wq/zz', payload: buf('1') }).problems[0].reason).toMatch(/^sensor: no sensor for this message/);
  });
});

describe('JSON payloads', () => {
  it('reads dotted paths for value, time (ms), unit and quality', () => {
    const d = decoder({ pattern: 'loggers/#', valuePath: 'data.v', timePath: 'data.t', unitPath: 'u', qualityPath: 'q' });
    const r = d.decode({ topic: 'loggers/p1/pressure', payload: buf(JSON.stringify({ data: { v: 3.1, t: NOW - 1000 }, u: 'bar', q: 'uncertain' })), topicSensor: 'p-1' });
    expect(r).toEqual({ readings: [{ sensor: 'p-1', ts: NOW - 1000, value: 3.1, quality: 'uncertain', unit: 'bar' }], problems: [] });
  });

  it('reads epoch seconds and ISO 8601 times', () => {
    const s = decoder({ pattern: 'x', timePath: 'ts', timeFormat: 's' });
    expect(s.decode({ topic: 'x', payload: buf('{"value":1,"ts":1772352000.5}'), topicSensor: 'cl-1' }).readings[0].ts).toBe(1772352000500);
    const iso = decoder({ pattern: 'x', timePath: 'ts', timeFormat: 'iso' });
    expect(iso.decode({ topic: 'x', payload: buf('{"value":1,"ts":"2026-03-01T16:00:00+08:00"}'), topicSensor: 'cl-1' }).readings[0].ts).toBe(NOW);
    expect(iso.decode({ topic: 'x', payload: buf('{"value":1,"ts":1772352000}'), topicSensor: 'cl-1' }).problems[0].reason).toMatch(/^ts: ts is not an ISO 8601 string/);
    expect(iso.decode({ topic: 'x', payload: buf('{"value":1}'), topicSensor: 'cl-1' }).problems[0].reason).toBe('ts: ts is missing');
  });

  it('uses the clock when no timePath is configured', () => {
    const d = decoder({ pattern: 'x' });
    expect(d.decode({ topic: 'x', payload: buf('{"value":"0.5"}'), topicSensor: 'cl-1' }).readings[0]).toEqual({ sensor: 'cl-1', ts: NOW, value: 0.5, quality: 'good' });
  });

  it('takes the sensor from sensorPath when the topic names none (not one bound to another address), and reads an array as several readings', () => {
    const d = decoder({ pattern: 'batch', sensorPath: 'id', timePath: 't' });
    const r = d.decode({ topic: 'batch', payload: buf(JSON.stringify([
      { id: 'cl-1', value: 0.4, t: NOW - 2000 },
      { id: 'p-1', value: 0.3, t: NOW - 1000 },
      { id: 'nobody', value: 1, t: NOW },
      { id: 'cl-1', t: NOW },
      { id: 'cl-1', value: 'n/a', t: NOW },
    ])) });
    expect(r.readings).toEqual([
      { sensor: 'cl-1', ts: NOW - 2000, value: 0.4, quality: 'good' },
    ]);
    expect(r.problems).toEqual([
      // p-1 has its own topic: a device publishing on batch must not write it (review L4)
      { origin: 'batch[1]', reason: 'sensor: "p-1" (from id) is read from topic loggers/p1/pressure, not named in payloads on this topic' },
      { origin: 'batch[2]', reason: 'sensor: unknown sensor "nobody" (from id)' },
      { origin: 'batch[3]', reason: 'value: value is missing' },
      { origin: 'batch[4]', reason: 'value: value is not a number: "n/a"' },
    ]);
  });

  it('rejects bad JSON, naming the payload', () => {
    const d = decoder({ pattern: 'x' });
    const r = d.decode({ topic: 'x', payload: buf('{"value":'), topicSensor: 'cl-1' });
    expect(r.readings).toEqual([]);
    expect(r.problems[0].reason).toMatch(/^payload: not JSON/);
  });

  it('maps quality names, 0/1/2, OPC DA bytes and OPC UA status codes; rejects others', () => {
    expect(['good', 'GOOD', 'Bad_SensorFailure', 'uncertain', 0, 1, 2, '2', 192, 0xd8, 0x40, 0x50, 0x10, 0x80000000, 0x40000000, 0]
      .map(qualityFromAny)).toEqual(['good', 'good', 'bad', 'uncertain', 'good', 'uncertain', 'bad', 'bad', 'good', 'good', 'uncertain', 'uncertain', 'bad', 'bad', 'uncertain', 'good']);
    const d = decoder({ pattern: 'x', qualityPath: 'q' });
    expect(d.decode({ topic: 'x', payload: buf('{"value":1,"q":"excellent"}'), topicSensor: 'cl-1' }).problems[0].reason).toMatch(/^quality: q is not good\/uncertain\/bad/);
    expect(d.decode({ topic: 'x', payload: buf('{"value":1}'), topicSensor: 'cl-1' }).readings[0].quality).toBe('good');
  });

  it('reads booleans as 0/1 (pump running)', () => {
    const d = decoder({ pattern: 'x', valuePath: 'running' });
    expect(d.decode({ topic: 'x', payload: buf('{"running":true}'), topicSensor: 'cl-1' }).readings[0].value).toBe(1);
  });
});

describe('MqttSource configuration', () => {
  const platform = { url: 'mqtt://127.0.0.1:1883', host: '127.0.0.1', port: 1883, username: 'plat', password: 'pw' };

  it('subscribes to the filters, shared when a share group is set, with a stable client id', () => {
    const s = new MqttSource(mqttSourceSchema.parse({ name: 'field', shareGroup: 'ingest', topics: [{ pattern: 'wq/{site}/{sensor}' }, { pattern: 'loggers/#' }] }), platform);
    expect(s.filters).toEqual(['$share/ingest/wq/+/+', '$share/ingest/loggers/#']);
    expect(s.clientId).toMatch(/^aquawatch-ingest-field-/);
    expect(new MqttSource(mqttSourceSchema.parse({ name: 'field', topics: [{ pattern: 'a/{sensor}' }] }), platform).clientId).toBe('aquawatch-ingest-field');
  });

  it('refuses a source without topics or with a bad pattern, naming the field', () => {
    expect(() => new MqttSource(mqttSourceSchema.parse({ name: 'f' }), platform)).toThrow(/sources\.mqtt\[f\]\.topics: at least one/);
    expect(() => new MqttSource(mqttSourceSchema.parse({ name: 'f', topics: [{ pattern: 'a/#/b' }] }), platform)).toThrow(/sources\.mqtt\[f\]\.topics\[0\]\.pattern/);
  });

  it("keeps the platform's keys a source does not override, and does not send its credentials to another broker", () => {
    expect(resolveBroker(platform, mqttSourceSchema.parse({ name: 'a', broker: { username: 'own' } }).broker))
      .toMatchObject({ url: platform.url, username: 'own', password: 'pw' });
    const other = resolveBroker(platform, { url: 'mqtts://field.example:8883' });
    expect(other).toEqual({ url: 'mqtts://field.example:8883' });
  });
});

describe('broker connect options', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aw-mqtt-opts-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    writeFileSync(join(dir, 'cert.pem'), 'CERT PEM');
    writeFileSync(join(dir, 'key.pem'), 'KEY PEM');
  });

  it('reads CA, certificate and key from files and verifies the server by default', () => {
    const o = mqttConnectOptions({ url: 'mqtts://b:8883', username: 'u', password: 'p', tls: { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), rejectUnauthorized: true } });
    expect(o.username).toBe('u');
    expect(o.password).toBe('p');
    expect(o.ca?.toString()).toBe('CA PEM');
    expect(o.cert?.toString()).toBe('CERT PEM');
    expect(o.key?.toString()).toBe('KEY PEM');
    expect(o.rejectUnauthorized).toBe(true);
    expect(mqttConnectOptions({ url: 'mqtts://b:8883' }).rejectUnauthorized).toBe(true);
  });

  it('honours rejectUnauthorized: false', () => {
    expect(mqttConnectOptions({ url: 'mqtts://b:8883', tls: { rejectUnauthorized: false } }).rejectUnauthorized).toBe(false);
  });

  it('names the field when a file is missing, TLS is set on a plain URL, or the URL is not a broker', () => {
    const missing = () => mqttConnectOptions({ url: 'mqtts://b', tls: { ca: join(dir, 'nope.pem'), rejectUnauthorized: true } }, 'sources.mqtt[f].broker');
    expect(missing).toThrow(BrokerConfigError);
    expect(missing).toThrow(/^sources\.mqtt\[f\]\.broker\.tls\.ca: cannot read .*nope\.pem: ENOENT/);
    expect(() => mqttConnectOptions({ url: 'mqtt://b', tls: { rejectUnauthorized: true } })).toThrow(/^broker\.url: tls is configured but mqtt:\/\/ is not encrypted/);
    expect(() => mqttConnectOptions({ url: 'mqtts://b', tls: { cert: join(dir, 'cert.pem'), rejectUnauthorized: true } })).toThrow(/^broker\.tls\.key: a client certificate needs both/);
    expect(() => mqttConnectOptions({ url: 'embedded' })).toThrow(/^broker\.url: 'embedded' must be replaced/);
    expect(() => mqttConnectOptions({ url: 'http://b' })).toThrow(/^broker\.url: scheme http: is not one of/);
  });
});
