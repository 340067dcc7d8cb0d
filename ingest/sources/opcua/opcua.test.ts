/**
 * The OPC UA source against a real node-opcua server: readings, quality and timestamps, rejected items,
 * one submit per publish, server restart, network faults, silence, and a server that is not there yet.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataType, DataValue, StatusCodes, Variant, VariantArrayType } from 'node-opcua';
import { OpcuaSource, opcuaSessionStateGauge } from './source.ts';
import { numericValue, qualityOf, toRawReading } from './values.ts';
import { removeTempFolders, startTestServer, tempFolder, TcpRelay, type TestServer, type TestVariable } from '../../../test/support/opcua-server.ts';
import { opcuaSourceSchema, type OpcuaSourceConfig } from './config.ts';
import { parseTopology } from '../../../core/config/load.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { RecordingContext } from '../../../test/support/recording-context.ts';
import { freePort, waitFor } from '../../../test/support/ports.ts';
import type { RawReading } from '../../../core/model/reading.ts';

const VARIABLES: TestVariable[] = [
  { name: 'Outlet.Flow', initial: 100, changeEveryMs: 100 },
  { name: 'Outlet.Pressure', initial: 0.4 },
  { name: 'Pump1.Running', dataType: 'Boolean', initial: true },
  { name: 'Tank.Level', initial: 10 },
  { name: 'Tag.Text', dataType: 'String', initial: 'hello' },
];

function topologyFor(server: string, extra: { id: string; nodeId: string; kind?: string; deadband?: number }[] = []): Topology {
  const sensor = (id: string, kind: string, nodeId: string, deadband?: number) => ({
    id, kind, site: 'plant1', source: { type: 'opcua', server, nodeId, ...(deadband !== undefined ? { deadband } : {}) },
  });
  return new Topology(parseTopology({
    sites: [{ id: 'plant1', kind: 'plant' }],
    sensors: [
      sensor('plant1.outlet.flow', 'flow', 'ns=1;s=Outlet.Flow'),
      sensor('plant1.outlet.pressure', 'pressure', 'ns=1;s=Outlet.Pressure'),
      sensor('plant1.pump1', 'pump', 'ns=1;s=Pump1.Running'),
      sensor('plant1.tank.level', 'level', 'ns=1;s=Tank.Level', 5),
      sensor('plant1.tag', 'level', 'ns=1;s=Tag.Text'),
      ...extra.map((e) => sensor(e.id, e.kind ?? 'level', e.nodeId, e.deadband)),
    ],
  }, '(test topology)'));
}

function sourceConfig(name: string, endpoint: string, over: Partial<OpcuaSourceConfig> = {}): OpcuaSourceConfig {
  return opcuaSourceSchema.parse({ name, endpoint, samplingIntervalMs: 50, publishingIntervalMs: 100, silenceTimeoutMs: 1_500, ...over });
}

/** Counts the submit calls the source makes (one per publish response, not per value). */
function countSubmits(ctx: RecordingContext): RawReading[][] {
  const calls: RawReading[][] = [];
  const original = ctx.submit.bind(ctx);
  ctx.submit = async (source, readings) => { calls.push([...readings]); return original(source, readings); };
  return calls;
}

const of = (ctx: RecordingContext, sensor: string) => ctx.readings.filter((r) => r.sensor === sensor);
const conditionsOf = (ctx: RecordingContext, id: string) => ctx.conditions.filter((c) => c.id === id).map((c) => c.state);
async function gauge(ctx: RecordingContext, which: 'opcuaSessionState' | 'sourceConnected'): Promise<number | undefined> {
  const metric = which === 'opcuaSessionState' ? opcuaSessionStateGauge(ctx.metrics) : ctx.metrics.sourceConnected;
  return (await metric.get()).values[0]?.value;
}

describe('value conversion', () => {
  it('maps StatusCode severity to quality', () => {
    expect(qualityOf(StatusCodes.Good)).toBe('good');
    expect(qualityOf(StatusCodes.GoodClamped)).toBe('good');
    expect(qualityOf(StatusCodes.UncertainLastUsableValue)).toBe('uncertain');
    expect(qualityOf(StatusCodes.BadSensorFailure)).toBe('bad');
    expect(qualityOf(StatusCodes.BadNodeIdUnknown)).toBe('bad');
  });

  it('turns numbers and booleans into values and explains the rest', () => {
    const dv = (dataType: DataType, value: unknown, arrayType = VariantArrayType.Scalar) => new DataValue({ value: new Variant({ dataType, value, arrayType }) });
    expect(numericValue(dv(DataType.Double, 1.5))).toEqual({ value: 1.5 });
    expect(numericValue(dv(DataType.Boolean, true))).toEqual({ value: 1 });
    expect(numericValue(dv(DataType.Boolean, false))).toEqual({ value: 0 });
    expect(numericValue(dv(DataType.Int64, [1, 5]))).toEqual({ value: 2 ** 32 + 5 });
    expect(numericValue(dv(DataType.String, 'run'))).toEqual({ reason: 'String value "run" is not numeric' });
    expect(numericValue(dv(DataType.Double, [1, 2], VariantArrayType.Array))).toEqual({ reason: 'Double array is not a number' });
    expect(numericValue(new DataValue({ statusCode: StatusCodes.BadCommunicationError }))).toEqual({ reason: expect.stringMatching(/^no value \(status BadCommunicationError/) });
  });

  it('takes the source timestamp, then the server timestamp, then the clock', () => {
    const value = new Variant({ dataType: DataType.Double, value: 2 });
    const source = new Date('2024-03-01T02:00:00.123Z');
    const server = new Date('2024-03-01T02:00:01.000Z');
    const now = () => 42_000;
    expect(toRawReading('s', new DataValue({ value, sourceTimestamp: source, serverTimestamp: server }), now))
      .toEqual({ reading: { sensor: 's', ts: source.getTime(), value: 2, quality: 'good' } });
    expect(toRawReading('s', new DataValue({ value, serverTimestamp: server }), now))
      .toEqual({ reading: { sensor: 's', ts: server.getTime(), value: 2, quality: 'good' } });
    expect(toRawReading('s', new DataValue({ value, statusCode: StatusCodes.UncertainInitialValue }), now))
      .toEqual({ reading: { sensor: 's', ts: 42_000, value: 2, quality: 'uncertain' } });
  });
});

describe('OpcuaSource against a node-opcua server', () => {
  const serverPki = tempFolder('server');
  // One client PKI for the whole file: creating the client certificate is done once.
  const dataDir = tempFolder('data');
  let server: TestServer;
  let port: number;
  let source: OpcuaSource | undefined;
  const extraServers: TestServer[] = [];
  const relays: TcpRelay[] = [];

  beforeAll(async () => {
    port = await freePort();
    server = await startTestServer({ port, pkiFolder: serverPki, variables: VARIABLES });
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    for (const r of relays.splice(0)) await r.stop();
  });
  afterAll(async () => {
    await server?.stop();
    for (const s of extraServers) await s.stop();
    removeTempFolders();
  });

  it('delivers readings with source timestamps and quality; rejects unknown nodes and non-numeric values', async () => {
    const topology = topologyFor('plant1', [
      { id: 'plant1.missing', nodeId: 'ns=1;s=DoesNotExist' },
      { id: 'plant1.garbled', nodeId: 'ns=1;x=' },
    ]);
    const ctx = new RecordingContext(topology);
    const submits = countSubmits(ctx);
    source = new OpcuaSource(sourceConfig('plant1', server.endpoint), { dataDir, demoMode: false });
    await source.start(ctx);

    await waitFor(() => source!.status().state === 'connected', 15_000, 50, 'connected');
    await waitFor(() => of(ctx, 'plant1.outlet.flow').length >= 3, 5_000, 50, 'flow readings');

    // Initial values of several items come in one publish response, hence one submit.
    expect(new Set(submits[0].map((r) => r.sensor)).size).toBeGreaterThan(1);
    expect(submits.length).toBeLessThan(ctx.readings.length);

    expect(of(ctx, 'plant1.pump1')[0]).toMatchObject({ value: 1, quality: 'good' });
    const flows = of(ctx, 'plant1.outlet.flow');
    expect(flows.at(-1)!.value).toBeGreaterThan(flows[0].value);

    // The device's timestamp is kept, whatever the arrival time.
    const sourceTimestamp = new Date('2024-06-01T00:00:00.250Z');
    server.setValue('Outlet.Pressure', 0.42, { sourceTimestamp });
    await waitFor(() => of(ctx, 'plant1.outlet.pressure').find((r) => r.value === 0.42), 5_000, 20, 'pressure 0.42');
    expect(of(ctx, 'plant1.outlet.pressure').find((r) => r.value === 0.42)).toEqual({ sensor: 'plant1.outlet.pressure', ts: sourceTimestamp.getTime(), value: 0.42, quality: 'good' });

    server.setValue('Outlet.Pressure', 0.43, { status: StatusCodes.UncertainLastUsableValue });
    server.setValue('Pump1.Running', false, { status: StatusCodes.BadSensorFailure });
    await waitFor(() => of(ctx, 'plant1.outlet.pressure').find((r) => r.value === 0.43), 5_000, 20, 'pressure 0.43');
    await waitFor(() => of(ctx, 'plant1.pump1').find((r) => r.value === 0), 5_000, 20, 'pump off');
    expect(of(ctx, 'plant1.outlet.pressure').find((r) => r.value === 0.43)!.quality).toBe('uncertain');
    expect(of(ctx, 'plant1.pump1').find((r) => r.value === 0)!.quality).toBe('bad');

    // Absolute deadband of 5 on the tank level: 12 is inside the band around 10, 16 is not.
    server.setValue('Tank.Level', 12);
    server.setValue('Tank.Level', 16);
    await waitFor(() => of(ctx, 'plant1.tank.level').find((r) => r.value === 16), 5_000, 20, 'level 16');
    expect(of(ctx, 'plant1.tank.level').map((r) => r.value)).toEqual([10, 16]);

    // A string where a number belongs is kept for inspection, with the node id and the reason.
    expect(ctx.undecodable).toContainEqual(expect.objectContaining({ origin: 'ns=1;s=Tag.Text', reason: 'sensor plant1.tag: String value "hello" is not numeric' }));
    expect(of(ctx, 'plant1.tag')).toEqual([]);
    // Refused and unparsable node ids are reported one by one and do not stop the others.
    expect(ctx.undecodable).toContainEqual(expect.objectContaining({ origin: 'ns=1;s=DoesNotExist', reason: expect.stringContaining('BadNodeIdUnknown') }));
    expect(ctx.undecodable).toContainEqual(expect.objectContaining({ origin: 'ns=1;x=', reason: expect.stringContaining('invalid node id') }));

    const status = source.status();
    expect(status).toMatchObject({ name: 'plant1', type: 'opcua', state: 'connected', detail: { monitoredItems: 5, rejectedItems: 2, reconnects: 0 } });
    expect(status.lastDataAt).toBeGreaterThan(0);
    expect(await gauge(ctx, 'opcuaSessionState')).toBe(2);
    expect(await gauge(ctx, 'sourceConnected')).toBe(1);
    expect(ctx.statuses).toEqual([{ source: 'plant1', sensors: expect.arrayContaining(['plant1.outlet.flow', 'plant1.pump1']), status: 'online', ts: expect.any(Number) }]);

    await source.stop();
    expect(source.status().state).toBe('stopped');
    expect(await gauge(ctx, 'opcuaSessionState')).toBe(0);
    const count = ctx.readings.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(ctx.readings.length).toBe(count);
    source = undefined;
  });

  it('recovers after the server restarts: subscription and items recreated, data flows again within 10 s', async () => {
    const restartPort = await freePort();
    const restartPki = tempFolder('restart');
    let plant = await startTestServer({ port: restartPort, pkiFolder: restartPki, variables: VARIABLES });
    const ctx = new RecordingContext(topologyFor('plant1'));
    source = new OpcuaSource(sourceConfig('plant1', plant.endpoint), { dataDir, demoMode: false });
    await source.start(ctx);
    await waitFor(() => of(ctx, 'plant1.outlet.flow').length >= 2, 15_000, 50, 'first readings');

    await plant.stop();
    await waitFor(() => conditionsOf(ctx, 'opcua.session_lost:plant1').includes('raise'), 10_000, 50, 'session_lost raised');
    expect(source.status().state).toBe('disconnected');
    expect(await gauge(ctx, 'opcuaSessionState')).toBe(0);
    expect(ctx.statuses.at(-1)).toMatchObject({ status: 'offline', sensors: expect.arrayContaining(['plant1.outlet.flow', 'plant1.outlet.pressure']) });

    // A new server process on the same port: it has none of the old sessions or subscriptions.
    plant = await startTestServer({ port: restartPort, pkiFolder: restartPki, variables: VARIABLES });
    extraServers.push(plant);
    const restartedAt = Date.now();
    await waitFor(() => of(ctx, 'plant1.outlet.flow').some((r) => r.ts >= restartedAt), 10_000, 50, 'readings from the new server');
    expect(Date.now() - restartedAt).toBeLessThan(10_000);
    // Static values come back as initial values of the recreated items.
    plant.setValue('Outlet.Pressure', 0.55);
    await waitFor(() => of(ctx, 'plant1.outlet.pressure').some((r) => r.value === 0.55), 5_000, 50, 'pressure after restart');

    await waitFor(() => source!.status().state === 'connected', 5_000, 50, 'connected');
    expect(conditionsOf(ctx, 'opcua.session_lost:plant1')).toEqual(['raise', 'clear']);
    expect(ctx.statuses.at(-1)).toMatchObject({ status: 'online' });
    expect(source.status().detail).toMatchObject({ reconnects: 1, monitoredItems: 5 });
    expect(await gauge(ctx, 'opcuaSessionState')).toBe(2);
  });

  it('reports a silent subscription when the network goes quiet, and recovers when it comes back', async () => {
    const relay = new TcpRelay(port);
    relays.push(relay);
    await relay.start(await freePort());
    const ctx = new RecordingContext(topologyFor('plant1'));
    source = new OpcuaSource(sourceConfig('plant1', `opc.tcp://127.0.0.1:${relay.port}`), { dataDir, demoMode: false });
    await source.start(ctx);
    await waitFor(() => source!.status().state === 'connected' && of(ctx, 'plant1.outlet.flow').length > 0, 15_000, 50, 'connected via relay');

    // Cable pulled: the socket stays open but nothing arrives, not even keep-alives.
    relay.blackhole();
    await waitFor(() => source!.status().state === 'silent', 5_000, 50, 'silent');
    expect(conditionsOf(ctx, 'opcua.subscription_silent:plant1')).toEqual(['raise']);
    const silent = ctx.conditions.find((c) => c.id === 'opcua.subscription_silent:plant1')!;
    expect(silent).toMatchObject({ type: 'source.silent', state: 'raise' });
    expect(await gauge(ctx, 'opcuaSessionState')).toBe(3);
    expect(await gauge(ctx, 'sourceConnected')).toBe(0);

    // Cable back: the stale connection is reset, node-opcua reconnects and the data resumes.
    const restoredAt = Date.now();
    relay.restore();
    await waitFor(() => of(ctx, 'plant1.outlet.flow').some((r) => r.ts >= restoredAt), 10_000, 50, 'data after the network is back');
    await waitFor(() => source!.status().state === 'connected', 10_000, 50, 'connected again');
    expect(conditionsOf(ctx, 'opcua.subscription_silent:plant1')).toEqual(['raise', 'clear']);
    expect(await gauge(ctx, 'opcuaSessionState')).toBe(2);

    // A reset connection (switch reboot) is a lost session until node-opcua is back.
    const lostBefore = conditionsOf(ctx, 'opcua.session_lost:plant1').length;
    const droppedAt = Date.now();
    relay.drop();
    await waitFor(() => of(ctx, 'plant1.outlet.flow').some((r) => r.ts >= droppedAt + 200), 10_000, 50, 'data after a connection reset');
    // Replayed notifications may arrive just before node-opcua reports the session restored.
    await waitFor(() => source!.status().state === 'connected', 5_000, 50, 'connected after the reset');
    expect(conditionsOf(ctx, 'opcua.session_lost:plant1').slice(lostBefore)).toEqual(['raise', 'clear']);
    expect((source.status().detail as { reconnects: number }).reconnects).toBeGreaterThanOrEqual(2);
  });

  it('rebuilds a subscription the server dropped without closing the session', async () => {
    const ctx = new RecordingContext(topologyFor('plant1'));
    source = new OpcuaSource(sourceConfig('plant1', server.endpoint, { silenceTimeoutMs: 1_000 }), { dataDir, demoMode: false });
    await source.start(ctx);
    await waitFor(() => source!.status().state === 'connected' && of(ctx, 'plant1.outlet.flow').length > 0, 15_000, 50, 'connected');

    // The server forgets the subscription (a server-side cleanup, a redundancy switch-over) but the
    // session and the connection stay up: nothing tells the client but the silence.
    let deleted = 0;
    for (const session of server.server.engine.getSessions()) {
      for (const sub of session.publishEngine.subscriptions) { session.deleteSubscription(sub.id); deleted++; }
    }
    expect(deleted).toBeGreaterThan(0);
    const droppedAt = Date.now();
    await waitFor(() => conditionsOf(ctx, 'opcua.subscription_silent:plant1').includes('raise'), 5_000, 50, 'silent raised');
    await waitFor(() => of(ctx, 'plant1.outlet.flow').some((r) => r.ts > droppedAt + 500), 10_000, 50, 'data from the rebuilt subscription');
    await waitFor(() => source!.status().state === 'connected', 5_000, 50, 'connected again');
    expect(conditionsOf(ctx, 'opcua.subscription_silent:plant1')).toEqual(['raise', 'clear']);
    expect(source.status().detail).toMatchObject({ subscriptionRebuilds: 1, monitoredItems: 5 });
  });

  it('keeps trying when the server is not there at start-up, and connects once it is', async () => {
    const latePort = await freePort();
    const ctx = new RecordingContext(topologyFor('plant1'));
    source = new OpcuaSource(sourceConfig('plant1', `opc.tcp://127.0.0.1:${latePort}`), { dataDir, demoMode: false });
    await source.start(ctx);
    await waitFor(() => conditionsOf(ctx, 'opcua.session_lost:plant1').includes('raise'), 10_000, 50, 'session_lost raised');
    expect(source.status()).toMatchObject({ state: 'disconnected', lastDataAt: null, detail: { lastError: expect.stringContaining(`127.0.0.1:${latePort}`) } });
    expect(ctx.statuses).toEqual([expect.objectContaining({ status: 'offline' })]);

    const late = await startTestServer({ port: latePort, pkiFolder: tempFolder('late'), variables: VARIABLES });
    extraServers.push(late);
    await waitFor(() => of(ctx, 'plant1.outlet.flow').length > 0, 10_000, 50, 'readings from the late server');
    await waitFor(() => source!.status().state === 'connected', 5_000, 50, 'connected');
    expect(conditionsOf(ctx, 'opcua.session_lost:plant1')).toEqual(['raise', 'clear']);
    expect(ctx.statuses.at(-1)).toMatchObject({ status: 'online' });
  });

  it('stops promptly while still trying to reach a server that is not there', async () => {
    const ctx = new RecordingContext(topologyFor('plant1'));
    source = new OpcuaSource(sourceConfig('plant1', `opc.tcp://127.0.0.1:${await freePort()}`), { dataDir, demoMode: false });
    await source.start(ctx);
    await waitFor(() => source!.status().state === 'disconnected', 10_000, 50, 'disconnected');
    const t0 = Date.now();
    await source.stop();
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(source.status().state).toBe('stopped');
    source = undefined;
  });
});
