/**
 * Plant SCADA over OPC UA: a node-opcua server that exposes, per site (treatment plant, pump station),
 * a folder with one AnalogItem variable per sensor whose topology source is `{ type: 'opcua' }`.
 * The variable's node id is exactly the sensor's `source.nodeId`, so the platform's OPC UA source
 * finds it with the same topology. Each simulation step writes the sample as the device would:
 * the value (Double), a status code from the sample's quality and the sample time as SourceTimestamp.
 *
 * Security: endpoints None and SignAndEncrypt (Basic256Sha256) by default; anonymous access can be
 * turned off; username users are checked against the configured list. The server's own PKI
 * (certificate, trusted and rejected client certificates) lives in `pkiFolder`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import {
  OPCUAServer, OPCUACertificateManager, DataType, Variant, StatusCodes,
  resolveNodeId, type UAVariable, type StatusCode, type UAObject, type Namespace, type NodeId,
} from 'node-opcua';
import { SECURITY_MODE, SECURITY_POLICY, type OpcuaSecurityModeName, type OpcuaSecurityPolicyName } from '../../core/opcua-security.ts';
import type { TopologyConfig, SensorConfig } from '../../core/config/schema.ts';
import { addressOf } from '../addresses.ts';
import { CANONICAL_UNIT, PHYSICAL_RANGE, converterFor } from '../../core/model/units.ts';
import type { Quality } from '../../core/model/reading.ts';
import type { SimDevice, SimStep, SimCity } from '../types.ts';
import { engineeringUnits } from './units.ts';

export type PlantSecurityMode = OpcuaSecurityModeName;
export type PlantSecurityPolicy = OpcuaSecurityPolicyName;

export interface PlantOpcuaOptions {
  topology: TopologyConfig;
  /**
   * Which OPC UA source this server plays: sensors whose `source.server` equals it are exposed.
   * May be omitted when the topology names a single OPC UA server.
   */
  server?: string;
  /** TCP port; 0 picks a free one. Default 4840 (the OPC UA registered port). */
  port?: number;
  /** Interface to listen on. Default loopback; exposing the server is an explicit choice. */
  host?: string;
  /** Host name written into the endpoint URL and the certificate. Default: `host` (or the machine's name for 0.0.0.0/::). */
  hostname?: string;
  /** Folder of the server's PKI (own certificate, trusted/rejected client certificates). Created if missing. */
  pkiFolder: string;
  /** Accept sessions without a user. Default true. */
  allowAnonymous?: boolean;
  /** Username users. Default none. */
  users?: { username: string; password: string }[];
  /** Default ['None', 'SignAndEncrypt']. */
  securityModes?: PlantSecurityMode[];
  /** Default ['None', 'Basic256Sha256']. */
  securityPolicies?: PlantSecurityPolicy[];
  /**
   * Trust every client certificate on first use (demo convenience). Default false: an unknown client
   * certificate is refused on secure endpoints and kept in `<pkiFolder>/server/rejected` until trusted.
   */
  acceptUnknownClientCertificates?: boolean;
  /** Product name shown in BuildInfo and the application name. Default 'aquawatch plant simulator'. */
  productName?: string;
}

/** Status written for each sample quality. Bad and uncertain use sensor-specific codes, as a PLC reports them. */
export const STATUS_FOR_QUALITY: Record<Quality, StatusCode> = {
  good: StatusCodes.Good,
  uncertain: StatusCodes.UncertainSensorNotAccurate,
  bad: StatusCodes.BadSensorFailure,
};

/** The sensors this server exposes, with their parsed node ids; throws naming every bad entry. */
export function plantSensors(topology: TopologyConfig, server?: string): { server: string; sensors: { sensor: SensorConfig; nodeId: NodeId }[] } {
  const opcua = topology.sensors.filter((s) => s.source?.type === 'opcua');
  const servers = [...new Set(opcua.map((s) => addressOf(s, 'opcua')!.server))];
  let name = server;
  if (name === undefined) {
    if (servers.length > 1) {
      throw new Error(`plant-opcua: option server: the topology names several OPC UA servers (${servers.join(', ')}); say which one this simulator plays`);
    }
    name = servers[0] ?? 'plant';
  }
  const problems: string[] = [];
  const sensors: { sensor: SensorConfig; nodeId: NodeId }[] = [];
  const seen = new Map<string, string>();
  topology.sensors.forEach((sensor, i) => {
    const src = addressOf(sensor, 'opcua');
    if (!src || src.server !== name) return;
    const at = `topology.sensors[${i}] (${sensor.id}).source.nodeId`;
    let nodeId: NodeId;
    try {
      nodeId = resolveNodeId(src.nodeId);
    } catch (e) {
      problems.push(`${at}: ${JSON.stringify(src.nodeId)} is not an OPC UA node id (expected e.g. ns=1;s=plant.outlet.pressure): ${(e as Error).message}`);
      return;
    }
    if (nodeId.namespace === 0) problems.push(`${at}: namespace 0 belongs to the OPC UA standard; use ns=1 or higher`);
    else if (nodeId.namespace > 20) problems.push(`${at}: namespace index ${nodeId.namespace} is too high for the simulator (at most 20)`);
    const key = nodeId.toString();
    if (seen.has(key)) problems.push(`${at}: node id ${src.nodeId} already used by ${seen.get(key)}`);
    seen.set(key, sensor.id);
    sensors.push({ sensor, nodeId });
  });
  if (problems.length) throw new Error(`plant-opcua: bad topology:\n  ${problems.join('\n  ')}`);
  return { server: name, sensors };
}

/** The physical range of the sensor's kind in the sensor's own unit: the variable's EURange. */
function euRange(sensor: SensorConfig): { low: number; high: number } {
  const [lowCanonical, highCanonical] = PHYSICAL_RANGE[sensor.kind];
  const toCanonical = converterFor(sensor.kind, sensor.unit);
  if (!toCanonical) return { low: lowCanonical, high: highCanonical };
  // Units convert linearly (canonical = raw·factor + offset), so two points give the inverse.
  const offset = toCanonical(0);
  const factor = toCanonical(1) - offset;
  const a = (lowCanonical - offset) / factor;
  const b = (highCanonical - offset) / factor;
  return { low: Math.min(a, b), high: Math.max(a, b) };
}

async function pickFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** First certificate of a PEM file (or the bytes of a DER file) as DER, the form PKI stores trust. */
export function certificateDer(file: string | Buffer): Buffer {
  const bytes = typeof file === 'string' ? readFileSync(file) : file;
  const text = bytes.toString('latin1');
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(text);
  return m ? Buffer.from(m[1].replace(/\s+/g, ''), 'base64') : bytes;
}

export class PlantOpcuaServer implements SimDevice {
  readonly name: string;
  /** Name of the OPC UA source this server plays (sensor.source.server). */
  readonly serverName: string;
  private readonly opts: PlantOpcuaOptions;
  private readonly sensors: { sensor: SensorConfig; nodeId: NodeId }[];
  private readonly variables = new Map<string, UAVariable>();
  private server?: OPCUAServer;
  private serverCertificates?: OPCUACertificateManager;
  private userCertificates?: OPCUACertificateManager;
  private listenPort = 0;
  private endpoint?: string;
  private certificate?: string;
  /** Steps written, and values written, since start (for tests and logs). */
  stepsWritten = 0;
  valuesWritten = 0;

  constructor(opts: PlantOpcuaOptions) {
    if (!opts.pkiFolder) throw new Error('plant-opcua: option pkiFolder is required (the folder of the server PKI)');
    const port = opts.port ?? 4840;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`plant-opcua: option port: ${port} is not a TCP port (0–65535)`);
    for (const u of opts.users ?? []) {
      if (!u.username) throw new Error('plant-opcua: option users[].username must not be empty');
    }
    if ((opts.allowAnonymous ?? true) === false && !(opts.users ?? []).length) {
      throw new Error('plant-opcua: option allowAnonymous is false but no users are configured: nobody could log in');
    }
    for (const m of opts.securityModes ?? []) {
      if (!(m in SECURITY_MODE)) throw new Error(`plant-opcua: option securityModes: ${JSON.stringify(m)} is not one of ${Object.keys(SECURITY_MODE).join(', ')}`);
    }
    for (const p of opts.securityPolicies ?? []) {
      if (!(p in SECURITY_POLICY)) throw new Error(`plant-opcua: option securityPolicies: ${JSON.stringify(p)} is not one of ${Object.keys(SECURITY_POLICY).join(', ')}`);
    }
    const picked = plantSensors(opts.topology, opts.server);
    this.serverName = picked.server;
    this.sensors = picked.sensors;
    this.name = `plant-opcua:${this.serverName}`;
    this.opts = opts;
  }

  get port(): number { return this.listenPort; }

  /** `opc.tcp://<hostname>:<port>`, known after start(). */
  get endpointUrl(): string {
    if (!this.endpoint) throw new Error(`${this.name}: endpointUrl is known after start()`);
    return this.endpoint;
  }

  /** PEM file of the server's application certificate (known after start()): give it to the platform to trust. */
  get certificateFile(): string {
    if (!this.certificate) throw new Error(`${this.name}: certificateFile is known after start()`);
    return this.certificate;
  }

  /** Where refused client certificates are kept (move one to `trusted/certs` or call trustClientCertificate). */
  get rejectedCertificatesFolder(): string { return join(this.opts.pkiFolder, 'server', 'rejected'); }
  get trustedCertificatesFolder(): string { return join(this.opts.pkiFolder, 'server', 'trusted', 'certs'); }

  /** Node ids this server exposes, by sensor id. */
  get nodeIds(): Map<string, string> {
    return new Map(this.sensors.map(({ sensor, nodeId }) => [sensor.id, nodeId.toString()]));
  }

  /** The entry for SimCity.endpoints.opcua. */
  cityEndpoint(): SimCity['endpoints']['opcua'][number] {
    return { name: this.serverName, endpoint: this.endpointUrl };
  }

  async start(): Promise<void> {
    if (this.server) throw new Error(`${this.name}: already started`);
    const host = this.opts.host ?? '127.0.0.1';
    this.listenPort = this.opts.port === 0 ? await pickFreePort(host) : (this.opts.port ?? 4840);
    mkdirSync(this.opts.pkiFolder, { recursive: true });
    this.serverCertificates = new OPCUACertificateManager({
      rootFolder: join(this.opts.pkiFolder, 'server'),
      automaticallyAcceptUnknownCertificate: this.opts.acceptUnknownClientCertificates ?? false,
      disableFileWatchers: true,
    });
    this.userCertificates = new OPCUACertificateManager({
      rootFolder: join(this.opts.pkiFolder, 'users'),
      automaticallyAcceptUnknownCertificate: false,
      disableFileWatchers: true,
    });
    const users = this.opts.users ?? [];
    const hostname = this.opts.hostname ?? (host === '0.0.0.0' || host === '::' ? undefined : host);
    const productName = this.opts.productName ?? 'aquawatch plant simulator';
    const server = new OPCUAServer({
      port: this.listenPort,
      host,
      ...(hostname ? { hostname, alternateHostname: [hostname] } : {}),
      serverCertificateManager: this.serverCertificates,
      userCertificateManager: this.userCertificates,
      securityModes: (this.opts.securityModes ?? ['None', 'SignAndEncrypt']).map((m) => SECURITY_MODE[m]),
      securityPolicies: (this.opts.securityPolicies ?? ['None', 'Basic256Sha256']).map((p) => SECURITY_POLICY[p]),
      allowAnonymous: this.opts.allowAnonymous ?? true,
      userManager: {
        isValidUser: (username: string, password: string) => users.some((u) => u.username === username && u.password === password),
      },
      serverInfo: { applicationName: { text: `${productName} (${this.serverName})` } },
      buildInfo: { productName, manufacturerName: 'aquawatch' },
      disableDiscovery: true,
      // Advertise 0: a monitored item asking samplingInterval 0 is then served every change (no
      // coalescing window), which lets a client see each step even when steps run faster than real time.
      serverCapabilities: { minSupportedSampleRate: 0 },
    });
    this.server = server;
    try {
      await server.initialize();
      this.buildAddressSpace(server);
      await server.start();
      this.endpoint = server.getEndpointUrl();
      this.certificate = server.certificateFile;
    } catch (e) {
      await this.stop().catch(() => undefined);
      throw e;
    }
  }

  private buildAddressSpace(server: OPCUAServer): void {
    const addressSpace = server.engine.addressSpace!;
    const own = addressSpace.getOwnNamespace();
    // A topology may address ns=2, ns=3…: register simulator namespaces up to the highest index used.
    const namespaceFor = (index: number): Namespace => {
      while (addressSpace.getNamespaceArray().length <= index) {
        addressSpace.registerNamespace(`urn:aquawatch:plant-sim:${this.serverName}:ns${addressSpace.getNamespaceArray().length}`);
      }
      return addressSpace.getNamespace(index) as Namespace;
    };
    const folders = new Map<string, UAObject>();
    const folderFor = (siteId: string): UAObject => {
      let folder = folders.get(siteId);
      if (!folder) {
        const site = this.opts.topology.sites.find((s) => s.id === siteId);
        folder = own.addFolder(addressSpace.rootFolder.objects, {
          browseName: siteId,
          displayName: site?.name ?? siteId,
          description: site ? `${site.kind} ${site.name ?? site.id}` : `site ${siteId}`,
        });
        folders.set(siteId, folder);
      }
      return folder;
    };
    for (const { sensor, nodeId } of this.sensors) {
      if (addressSpace.findNode(nodeId)) {
        throw new Error(`plant-opcua: sensor ${sensor.id}: node id ${nodeId.toString()} is already taken in the server's address space; choose another source.nodeId`);
      }
      const unit = sensor.unit ?? CANONICAL_UNIT[sensor.kind];
      const variable = namespaceFor(nodeId.namespace).addAnalogDataItem({
        componentOf: folderFor(sensor.site),
        browseName: sensor.id,
        displayName: sensor.name ?? sensor.id,
        description: `${sensor.kind} (${unit})${sensor.node ? ` at ${sensor.node}` : ''}`,
        nodeId,
        dataType: 'Double',
        engineeringUnits: engineeringUnits(unit, sensor.kind),
        engineeringUnitsRange: euRange(sensor),
        // 0: the variable reports every change by itself, so exception-based monitored items see each step.
        minimumSamplingInterval: 0,
      });
      // Until the first step a PLC has nothing to say about the tag.
      variable.setValueFromSource(new Variant({ dataType: DataType.Null }), StatusCodes.BadWaitingForInitialData);
      this.variables.set(sensor.id, variable);
    }
  }

  /** Writes every sample of the step; silent sensors keep their last value (stale), as a frozen PLC tag does. */
  async onStep(step: SimStep): Promise<void> {
    if (!this.server) throw new Error(`${this.name}: onStep before start()`);
    const silent = step.silent.length ? new Set(step.silent) : undefined;
    for (const sample of step.samples) {
      const variable = this.variables.get(sample.sensor);
      if (!variable || silent?.has(sample.sensor)) continue;
      const finite = Number.isFinite(sample.value);
      variable.setValueFromSource(
        new Variant({ dataType: DataType.Double, value: finite ? sample.value : 0 }),
        finite ? STATUS_FOR_QUALITY[sample.quality] : StatusCodes.BadSensorFailure,
        new Date(sample.ts),
      );
      this.valuesWritten++;
    }
    this.stepsWritten++;
    // Let the server answer requests and send notifications between steps, even at full simulation speed.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Trust a client application certificate (PEM or DER file, or its bytes) so it may use secure endpoints. */
  async trustClientCertificate(certificate: string | Buffer): Promise<void> {
    if (!this.serverCertificates) throw new Error(`${this.name}: trustClientCertificate before start()`);
    await this.serverCertificates.trustCertificate(certificateDer(certificate));
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.variables.clear();
    if (server) await server.shutdown(0);
    await this.serverCertificates?.dispose();
    await this.userCertificates?.dispose();
    this.serverCertificates = undefined;
    this.userCertificates = undefined;
  }
}
