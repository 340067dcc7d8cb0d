/**
 * A small Sparkplug B edge node for tests (a test double of a field gateway): births with aliases,
 * data by alias, deaths, a will NDEATH with its bdSeq, and a record of the commands it receives.
 * Payloads are encoded with sparkplug-payload, as a real edge node's would be.
 */
import mqtt, { type MqttClient } from 'mqtt';
import sparkplug from 'sparkplug-payload';

const spb = sparkplug.get('spBv1.0')!;
type Payload = ReturnType<typeof spb.decodePayload>;
type Metric = NonNullable<Payload['metrics']>[number];

export interface TestMetric {
  name?: string;
  alias?: number;
  type: Metric['type'];
  value: Metric['value'];
  timestamp?: number;
  properties?: Metric['properties'];
  isNull?: boolean;
}

export class TestEdgeNode {
  client?: MqttClient;
  /** seq of the next message (after NBIRTH's 0). */
  seq = 0;
  /** NCMD/DCMD payloads received, decoded. */
  readonly commands: { topic: string; payload: Payload }[] = [];

  constructor(readonly url: string, readonly group: string, readonly node: string, public bdSeq = 0) {}

  topic(type: string, device?: string): string {
    return `spBv1.0/${this.group}/${type}/${this.node}${device ? `/${device}` : ''}`;
  }

  /** Connect with a will NDEATH carrying the bdSeq of the birth to come, and listen for commands. */
  async connect(): Promise<void> {
    this.client = await mqtt.connectAsync(this.url, {
      clientId: `edge-${this.group}-${this.node}-${process.pid}-${Math.random().toString(16).slice(2, 6)}`,
      clean: true,
      reconnectPeriod: 0,
      will: { topic: this.topic('NDEATH'), payload: this.deathPayload(), qos: 1, retain: false },
    });
    this.client.on('message', (topic, payload) => { this.commands.push({ topic, payload: spb.decodePayload(payload) }); });
    await this.client.subscribeAsync([this.topic('NCMD'), `spBv1.0/${this.group}/DCMD/${this.node}/+`], { qos: 0 });
  }

  private deathPayload(bdSeq = this.bdSeq): Buffer {
    return Buffer.from(spb.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] }));
  }

  private async send(topic: string, payload: Payload): Promise<void> {
    await this.client!.publishAsync(topic, Buffer.from(spb.encodePayload(payload)), { qos: 1 });
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  async nodeBirth(metrics: TestMetric[], timestamp = Date.now()): Promise<void> {
    this.seq = 0;
    await this.send(this.topic('NBIRTH'), {
      timestamp, seq: this.nextSeq(),
      metrics: [
        { name: 'bdSeq', type: 'UInt64', value: this.bdSeq },
        { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
        ...(metrics as Metric[]),
      ],
    });
  }

  async deviceBirth(device: string, metrics: TestMetric[], timestamp = Date.now()): Promise<void> {
    await this.send(this.topic('DBIRTH', device), { timestamp, seq: this.nextSeq(), metrics: metrics as Metric[] });
  }

  /** NDATA, or DDATA with a device; `seq` overrides the sequence number (to make a gap). */
  async data(metrics: TestMetric[], opts: { device?: string; seq?: number; timestamp?: number } = {}): Promise<void> {
    const seq = opts.seq ?? this.nextSeq();
    if (opts.seq !== undefined) this.seq = (opts.seq + 1) % 256;
    await this.send(this.topic(opts.device ? 'DDATA' : 'NDATA', opts.device), {
      timestamp: opts.timestamp ?? Date.now(), seq, metrics: metrics as Metric[],
    });
  }

  async deviceDeath(device: string, timestamp = Date.now()): Promise<void> {
    await this.send(this.topic('DDEATH', device), { timestamp, seq: this.nextSeq(), metrics: [] });
  }

  /** Publish an NDEATH explicitly (as the broker would from the will), with any bdSeq. */
  async nodeDeath(bdSeq = this.bdSeq): Promise<void> {
    await this.client!.publishAsync(this.topic('NDEATH'), this.deathPayload(bdSeq), { qos: 1 });
  }

  rebirthRequests(): number {
    return this.commands.filter((c) => c.topic === this.topic('NCMD')
      && c.payload.metrics?.some((m) => m.name === 'Node Control/Rebirth' && m.value === true)).length;
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }
}
