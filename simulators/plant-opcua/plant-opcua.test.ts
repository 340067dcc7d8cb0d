/**
 * The plant OPC UA simulator against a real node-opcua client: the address space (folders per site,
 * AnalogItems with EngineeringUnits and EURange), values with status codes and source timestamps
 * per step, every step seen by an exception-based subscription at full speed, and security
 * (SignAndEncrypt/Basic256Sha256 with a username user, refusal of an untrusted client certificate).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OPCUAClient, OPCUACertificateManager, AttributeIds, TimestampsToReturn, DataChangeFilter, DataChangeTrigger,
  DeadbandType, MessageSecurityMode, SecurityPolicy, BrowseDirection, StatusCodes, UserTokenType,
  type ClientSession, type DataValue,
} from 'node-opcua';
import type { TopologyConfig } from '../../core/config/schema.ts';
import type { SimStep } from '../types.ts';
import { PlantOpcuaServer, plantSensors, certificateDer } from './server.ts';

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);

const topology: TopologyConfig = {
  sites: [
    { id: 'plant1', name: 'North treatment plant', kind: 'plant' },
    { id: 'ps1', name: 'Hill pump station', kind: 'pump-station' },
    { id: 'net', kind: 'network' },
  ],
  dmas: [],
  meters: [],
  sensors: [
    { id: 'plant1.outlet.pressure', kind: 'pressure', unit: 'MPa', site: 'plant1', place: 'plant-outlet', intervalS: 60,
      source: { type: 'opcua', server: 'plant', nodeId: 'ns=1;s=plant1.outlet.pressure' } },
    { id: 'plant1.outlet.flow', kind: 'flow', unit: 'L/s', site: 'plant1', place: 'plant-outlet', intervalS: 60,
      source: { type: 'opcua', server: 'plant', nodeId: 'ns=1;s=plant1.outlet.flow' } },
    { id: 'plant1.outlet.chlorine', kind: 'chlorine', unit: 'mg/L', site: 'plant1', place: 'plant-outlet', intervalS: 60,
      source: { type: 'opcua', server: 'plant', nodeId: 'ns=2;s=plant1.outlet.chlorine' } },
    { id: 'ps1.pump1.state', kind: 'pump', site: 'ps1', place: 'pump-station', intervalS: 60,
      source: { type: 'opcua', server: 'plant', nodeId: 'ns=1;s=ps1.pump1.state' } },
    { id: 'ps1.tank.level', kind: 'level', unit: 'm', site: 'ps1', place: 'tank', intervalS: 60,
      source: { type: 'opcua', server: 'plant', nodeId: 'ns=1;s=ps1.tank.level' } },
    // Not an OPC UA sensor: the plant server must not expose it.
    { id: 'wq1', kind: 'chlorine', site: 'net', place: 'network', intervalS: 60, source: { type: 'mqtt', topic: 'wq/wq1' } },
  ],
};

function step(i: number, values: Record<string, number>, opts: { quality?: Record<string, 'good' | 'uncertain' | 'bad'>; silent?: string[] } = {}): SimStep {
  const ts = T0 + i * 60_000;
  return {
    ts,
    samples: Object.entries(values).map(([sensor, value]) => ({ sensor, ts, value, quality: opts.quality?.[sensor] ?? 'good' })),
    meters: [],
    silent: opts.silent ?? [],
  };
}

const tempDir = (label: string) => mkdtempSync(join(tmpdir(), `aw-plant-${label}-`));

async function readValue(session: ClientSession, nodeId: string): Promise<DataValue> {
  return session.read({ nodeId, attributeId: AttributeIds.Value }, TimestampsToReturn.Both);
}

async function browseNames(session: ClientSession, nodeId: string): Promise<Map<string, string>> {
  const r = await session.browse({
    nodeId, browseDirection: BrowseDirection.Forward, referenceTypeId: 'HierarchicalReferences', includeSubtypes: true, resultMask: 63,
  });
  return new Map((r.references ?? []).map((ref) => [ref.browseName.name!, ref.nodeId.toString()]));
}

describe('plant OPC UA simulator: address space and values (None endpoint, anonymous)', () => {
  let plant: PlantOpcuaServer;
  let client: OPCUAClient;
  let session: ClientSession;

  beforeAll(async () => {
    plant = new PlantOpcuaServer({ topology, port: 0, pkiFolder: tempDir('pki') });
    await plant.start();
    client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 } });
    await client.connect(plant.endpointUrl);
    session = await client.createSession();
  });
  afterAll(async () => {
    await session?.close();
    await client?.disconnect();
    await plant?.stop();
  });

  it('listens on loopback and names its certificate file', () => {
    expect(plant.endpointUrl).toBe(`opc.tcp://127.0.0.1:${plant.port}`);
    expect(existsSync(plant.certificateFile)).toBe(true);
    expect(plant.cityEndpoint()).toEqual({ name: 'plant', endpoint: plant.endpointUrl });
    expect([...plant.nodeIds.keys()]).not.toContain('wq1');
  });

  it('has a folder per site holding a variable per OPC UA sensor, at the node id the topology gives', async () => {
    const objects = await browseNames(session, 'i=85');
    expect(objects.has('plant1')).toBe(true);
    expect(objects.has('ps1')).toBe(true);
    expect(objects.has('net')).toBe(false); // no OPC UA sensor there
    const plantFolder = await browseNames(session, objects.get('plant1')!);
    expect(plantFolder.get('plant1.outlet.pressure')).toBe('ns=1;s=plant1.outlet.pressure');
    expect(plantFolder.get('plant1.outlet.flow')).toBe('ns=1;s=plant1.outlet.flow');
    expect(plantFolder.get('plant1.outlet.chlorine')).toBe('ns=2;s=plant1.outlet.chlorine');
    const stationFolder = await browseNames(session, objects.get('ps1')!);
    expect([...stationFolder.keys()].sort()).toEqual(['ps1.pump1.state', 'ps1.tank.level']);
    const display = await session.read({ nodeId: objects.get('plant1')!, attributeId: AttributeIds.DisplayName });
    expect(display.value.value.text).toBe('North treatment plant');
  });

  it('declares Double values with EngineeringUnits and EURange properties', async () => {
    const dataType = await session.read({ nodeId: 'ns=1;s=plant1.outlet.pressure', attributeId: AttributeIds.DataType });
    expect(dataType.value.value.toString()).toBe('ns=0;i=11'); // Double
    const props = await browseNames(session, 'ns=1;s=plant1.outlet.flow');
    const eu = (await session.read({ nodeId: props.get('EngineeringUnits')!, attributeId: AttributeIds.Value })).value.value;
    expect(eu.displayName.text).toBe('L/s');
    expect(eu.unitId).toBe(4666673); // UN/CEFACT "G51"
    const range = (await session.read({ nodeId: props.get('EURange')!, attributeId: AttributeIds.Value })).value.value;
    // The flow kind's physical range (±100 000 m³/h) in the sensor's unit (L/s).
    expect(range.low).toBeCloseTo(-100_000 / 3.6, 6);
    expect(range.high).toBeCloseTo(100_000 / 3.6, 6);
    const pumpEu = (await session.read({
      nodeId: (await browseNames(session, 'ns=1;s=ps1.pump1.state')).get('EngineeringUnits')!, attributeId: AttributeIds.Value,
    })).value.value;
    expect(pumpEu.displayName.text).toBe('state');
    expect(pumpEu.unitId).toBe(-1);
  });

  it('says BadWaitingForInitialData before the first step', async () => {
    const fresh = new PlantOpcuaServer({ topology, port: 0, pkiFolder: tempDir('fresh') });
    await fresh.start();
    const c = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 } });
    try {
      await c.connect(fresh.endpointUrl);
      const s = await c.createSession();
      const dv = await readValue(s, 'ns=1;s=ps1.tank.level');
      expect(dv.statusCode.equals(StatusCodes.BadWaitingForInitialData)).toBe(true);
      await s.close();
    } finally {
      await c.disconnect();
      await fresh.stop();
    }
  });

  it('writes each step: value, status code from the quality, and the sample time as source timestamp', async () => {
    await plant.onStep(step(0, { 'plant1.outlet.pressure': 0.42, 'plant1.outlet.flow': 250.5, 'plant1.outlet.chlorine': 0.8, 'ps1.pump1.state': 1, 'ps1.tank.level': 3.2, wq1: 0.5 }));
    await plant.onStep(step(1, { 'plant1.outlet.pressure': 0.41, 'plant1.outlet.flow': 251, 'plant1.outlet.chlorine': 0.79, 'ps1.pump1.state': 0, 'ps1.tank.level': 3.1 },
      { quality: { 'plant1.outlet.flow': 'uncertain', 'plant1.outlet.chlorine': 'bad' } }));

    const pressure = await readValue(session, 'ns=1;s=plant1.outlet.pressure');
    expect(pressure.value.value).toBe(0.41);
    expect(pressure.statusCode.equals(StatusCodes.Good)).toBe(true);
    expect(pressure.sourceTimestamp!.getTime()).toBe(T0 + 60_000);
    expect(pressure.serverTimestamp!.getTime()).toBeGreaterThan(T0 + 60_000); // the server's own clock is "now"

    const flow = await readValue(session, 'ns=1;s=plant1.outlet.flow');
    expect(flow.value.value).toBe(251);
    expect(flow.statusCode.equals(StatusCodes.UncertainSensorNotAccurate)).toBe(true);

    const chlorine = await readValue(session, 'ns=2;s=plant1.outlet.chlorine');
    expect(chlorine.statusCode.equals(StatusCodes.BadSensorFailure)).toBe(true);
    expect(chlorine.sourceTimestamp!.getTime()).toBe(T0 + 60_000);

    expect((await readValue(session, 'ns=1;s=ps1.pump1.state')).value.value).toBe(0);
  });

  it('leaves a silent sensor at its last value and timestamp (a stale tag)', async () => {
    await plant.onStep(step(2, { 'plant1.outlet.pressure': 0.4, 'ps1.tank.level': 3.0 }, { silent: ['ps1.tank.level'] }));
    const level = await readValue(session, 'ns=1;s=ps1.tank.level');
    expect(level.value.value).toBe(3.1);
    expect(level.sourceTimestamp!.getTime()).toBe(T0 + 60_000);
    expect((await readValue(session, 'ns=1;s=plant1.outlet.pressure')).sourceTimestamp!.getTime()).toBe(T0 + 120_000);
  });

  it('delivers every step to an exception-based monitored item even when steps run far faster than real time', async () => {
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: 100, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 100, publishingEnabled: true,
    });
    const item = await subscription.monitor(
      { nodeId: 'ns=1;s=ps1.tank.level', attributeId: AttributeIds.Value },
      {
        samplingInterval: 0, queueSize: 1000, discardOldest: false,
        // StatusValueTimestamp: a step that repeats the last value still makes a notification.
        filter: new DataChangeFilter({ trigger: DataChangeTrigger.StatusValueTimestamp, deadbandType: DeadbandType.None }),
      },
      TimestampsToReturn.Both,
    );
    const seen: { ts: number; value: number }[] = [];
    item.on('changed', (dv: DataValue) => seen.push({ ts: dv.sourceTimestamp!.getTime(), value: dv.value.value }));
    await new Promise<void>((resolve) => item.once('changed', () => resolve())); // the initial value

    const steps = 300;
    for (let i = 10; i < 10 + steps; i++) {
      // every third step repeats the previous value: only the timestamp changes
      await plant.onStep(step(i, { 'ps1.tank.level': 2 + Math.floor(i / 3) / 100 }));
    }
    const last = T0 + (10 + steps - 1) * 60_000;
    await new Promise<void>((resolve) => {
      const check = () => { if (seen.some((s) => s.ts === last)) resolve(); else item.once('changed', check); };
      check();
    });
    const stepped = seen.filter((s) => s.ts >= T0 + 10 * 60_000);
    expect(stepped).toHaveLength(steps);
    expect(stepped.map((s) => s.ts)).toEqual(Array.from({ length: steps }, (_, k) => T0 + (10 + k) * 60_000));
    expect(stepped[5].value).toBe(2 + Math.floor(15 / 3) / 100);
    await subscription.terminate();
  });
});

describe('plant OPC UA simulator: security', () => {
  let plant: PlantOpcuaServer;
  let clientPki: OPCUACertificateManager;

  beforeAll(async () => {
    plant = new PlantOpcuaServer({
      topology, port: 0, pkiFolder: tempDir('secure-pki'),
      allowAnonymous: false,
      users: [{ username: 'scada', password: 's3cret' }],
    });
    await plant.start();
    await plant.onStep(step(0, { 'plant1.outlet.pressure': 0.44 }));
    // The platform side: its own PKI, trusting the plant server's certificate explicitly.
    clientPki = new OPCUACertificateManager({ rootFolder: join(tempDir('client-pki'), 'pki'), automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
    await clientPki.initialize();
    await clientPki.trustCertificate(certificateDer(plant.certificateFile));
  });
  afterAll(async () => {
    await plant?.stop();
    await clientPki?.dispose();
  });

  const secureClient = () => OPCUAClient.create({
    clientCertificateManager: clientPki,
    securityMode: MessageSecurityMode.SignAndEncrypt,
    securityPolicy: SecurityPolicy.Basic256Sha256,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0 },
  });

  it('offers None and SignAndEncrypt/Basic256Sha256 endpoints, with username tokens and no anonymous one', async () => {
    const c = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 } });
    await c.connect(plant.endpointUrl);
    const endpoints = await c.getEndpoints();
    await c.disconnect();
    const kinds = endpoints.map((e) => `${MessageSecurityMode[e.securityMode]}:${(e.securityPolicyUri ?? '').split('#')[1]}`).sort();
    expect(kinds).toEqual(['None:None', 'SignAndEncrypt:Basic256Sha256']);
    for (const e of endpoints) {
      const tokens = (e.userIdentityTokens ?? []).map((t) => t.tokenType);
      expect(tokens).toContain(UserTokenType.UserName);
      expect(tokens).not.toContain(UserTokenType.Anonymous);
    }
  });

  it('refuses an untrusted client certificate on SignAndEncrypt and keeps it in the rejected folder', async () => {
    const c = secureClient();
    await expect(c.connect(plant.endpointUrl)).rejects.toThrow(/BadSecurityChecksFailed/);
    await c.disconnect();
    const rejected = readdirSync(plant.rejectedCertificatesFolder);
    expect(rejected.length).toBeGreaterThanOrEqual(1);
  });

  it('accepts the client once its certificate is trusted; a username session reads the values', async () => {
    const c = secureClient();
    await plant.trustClientCertificate(c.certificateFile);
    await c.connect(plant.endpointUrl);
    try {
      const session = await c.createSession({ type: UserTokenType.UserName, userName: 'scada', password: 's3cret' });
      const dv = await readValue(session, 'ns=1;s=plant1.outlet.pressure');
      expect(dv.value.value).toBe(0.44);
      expect(dv.sourceTimestamp!.getTime()).toBe(T0);
      await session.close();
      await expect(c.createSession({ type: UserTokenType.UserName, userName: 'scada', password: 'wrong' })).rejects.toThrow(/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/);
      // No endpoint offers an anonymous token, so the client cannot even ask for an anonymous session.
      await expect(c.createSession()).rejects.toThrow(/ANONYMOUS user token/);
    } finally {
      await c.disconnect();
    }
  });
});

describe('plant OPC UA simulator: configuration errors', () => {
  it('names the sensor and field of a node id that does not parse', () => {
    const bad: TopologyConfig = { ...topology, sensors: [{ ...topology.sensors[0], source: { type: 'opcua', server: 'plant', nodeId: 'ns=1;x=oops' } }] };
    expect(() => plantSensors(bad)).toThrow(/topology\.sensors\[0\] \(plant1\.outlet\.pressure\)\.source\.nodeId/);
  });

  it('refuses namespace 0 and duplicate node ids', () => {
    const s = topology.sensors[0];
    const bad: TopologyConfig = { ...topology, sensors: [
      { ...s, id: 'a', source: { type: 'opcua', server: 'plant', nodeId: 'ns=0;s=a' } },
      { ...s, id: 'b', source: { type: 'opcua', server: 'plant', nodeId: 'ns=1;s=b' } },
      { ...s, id: 'c', source: { type: 'opcua', server: 'plant', nodeId: 'ns=1;s=b' } },
    ] };
    expect(() => plantSensors(bad)).toThrow(/namespace 0[\s\S]*\(c\)\.source\.nodeId: node id ns=1;s=b already used by b/);
  });

  it('asks which server to play when the topology names several', () => {
    const two: TopologyConfig = { ...topology, sensors: [
      topology.sensors[0],
      { ...topology.sensors[1], source: { type: 'opcua', server: 'station', nodeId: 'ns=1;s=x' } },
    ] };
    expect(() => plantSensors(two)).toThrow(/option server: the topology names several OPC UA servers \(plant, station\)/);
    expect(plantSensors(two, 'station').sensors.map((s) => s.sensor.id)).toEqual(['plant1.outlet.flow']);
  });

  it('refuses a server nobody could log in to', () => {
    expect(() => new PlantOpcuaServer({ topology, pkiFolder: tempDir('x'), allowAnonymous: false })).toThrow(/allowAnonymous is false but no users/);
  });
});
