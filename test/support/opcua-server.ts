/**
 * A real node-opcua server for the OPC UA source's tests (a fixture, not a mock): variables under an
 * `Objects/Plant` folder in namespace 1, addressed `ns=1;s=<name>`, some of them changing on a timer
 * with a source timestamp, optionally thousands of static ones for load tests.
 *
 * The server keeps its own PKI in `pkiFolder`; start a new server with the same folder and port to
 * simulate a restart of the same plant server (same certificate, all sessions and subscriptions gone).
 * Client certificates (application and X509 user) are accepted automatically: the tests are about the
 * client's trust of the server, not the other way round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type Server as NetServer, type Socket } from 'node:net';
import {
  OPCUAServer, OPCUACertificateManager, DataType, Variant, StatusCodes,
  type UAVariable, type StatusCode, type UAObject,
} from 'node-opcua';
import { SECURITY_MODE, SECURITY_POLICY, type OpcuaSecurityModeName, type OpcuaSecurityPolicyName } from '../../core/opcua-security.ts';

export type TestSecurityMode = OpcuaSecurityModeName;
export type TestSecurityPolicy = OpcuaSecurityPolicyName;

export interface TestVariable {
  /** Node id `ns=1;s=<name>`. */
  name: string;
  dataType?: 'Double' | 'Boolean' | 'Int32' | 'String';
  initial?: number | boolean | string;
  /** When set, the value changes every `changeEveryMs` (numbers count up, booleans toggle). */
  changeEveryMs?: number;
}

export interface TestServerOptions {
  /** Loopback port to listen on (use freePort()); a restart reuses it. */
  port: number;
  /** The server's PKI; reuse it to keep the same certificate across restarts. Default: a new temp folder. */
  pkiFolder?: string;
  securityModes?: TestSecurityMode[];
  securityPolicies?: TestSecurityPolicy[];
  /** Username/password pairs the server accepts. */
  users?: { username: string; password: string }[];
  allowAnonymous?: boolean;
  variables?: TestVariable[];
  /** Adds `count` static Double variables `ns=1;s=<prefix><i>` (i from 0) under `Objects/Plant/Bulk`. */
  bulk?: { count: number; prefix?: string };
}

export interface TestServer {
  readonly port: number;
  readonly endpoint: string;
  readonly pkiFolder: string;
  /** PEM file of the server's application certificate. */
  readonly certificateFile: string;
  readonly server: OPCUAServer;
  /** Set a variable's value from the "device", with a status and source timestamp. */
  setValue(name: string, value: number | boolean | string, opts?: { status?: StatusCode; sourceTimestamp?: Date }): void;
  /** Stop the value timers (the variables keep their last value). */
  freeze(): void;
  stop(): Promise<void>;
}

const tempFolders: string[] = [];

/** A new temp folder (PKI, dataDir) that removeTempFolders() deletes after the tests. */
export function tempFolder(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `aw-opcua-${label}-`));
  tempFolders.push(dir);
  return dir;
}

export function removeTempFolders(): void {
  for (const dir of tempFolders.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export async function startTestServer(opts: TestServerOptions): Promise<TestServer> {
  const pkiFolder = opts.pkiFolder ?? tempFolder('server-pki');
  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: join(pkiFolder, 'server'), automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true,
  });
  const userCertificateManager = new OPCUACertificateManager({
    rootFolder: join(pkiFolder, 'users'), automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true,
  });
  const users = opts.users ?? [];
  const server = new OPCUAServer({
    port: opts.port,
    hostname: '127.0.0.1',
    alternateHostname: ['127.0.0.1'],
    serverCertificateManager,
    userCertificateManager,
    securityModes: (opts.securityModes ?? ['None', 'Sign', 'SignAndEncrypt']).map((m) => SECURITY_MODE[m]),
    securityPolicies: (opts.securityPolicies ?? ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']).map((p) => SECURITY_POLICY[p]),
    allowAnonymous: opts.allowAnonymous ?? true,
    userManager: { isValidUser: (username: string, password: string) => users.some((u) => u.username === username && u.password === password) },
    buildInfo: { productName: 'aquawatch-test-plant' },
  });
  await server.initialize();

  const addressSpace = server.engine.addressSpace!;
  const namespace = addressSpace.getOwnNamespace();
  const plant = namespace.addFolder(addressSpace.rootFolder.objects, { browseName: 'Plant' });
  const variables = new Map<string, { node: UAVariable; dataType: DataType }>();
  const timers: NodeJS.Timeout[] = [];

  const addVariable = (parent: UAObject, name: string, dataType: DataType, value: unknown) => {
    const node = namespace.addVariable({
      componentOf: parent, browseName: name, nodeId: `s=${name}`, dataType: DataType[dataType],
      minimumSamplingInterval: 0,
    });
    node.setValueFromSource(new Variant({ dataType, value }), StatusCodes.Good, new Date());
    variables.set(name, { node, dataType });
    return node;
  };

  for (const v of opts.variables ?? []) {
    const dataType = DataType[v.dataType ?? 'Double'];
    const initial = v.initial ?? (dataType === DataType.Boolean ? false : dataType === DataType.String ? '' : 0);
    addVariable(plant, v.name, dataType, initial);
    if (v.changeEveryMs) {
      let current = initial;
      timers.push(setInterval(() => {
        current = typeof current === 'boolean' ? !current : typeof current === 'number' ? current + 1 : `${current}+`;
        variables.get(v.name)!.node.setValueFromSource(new Variant({ dataType, value: current }), StatusCodes.Good, new Date());
      }, v.changeEveryMs));
    }
  }
  if (opts.bulk) {
    const bulk = namespace.addFolder(plant, { browseName: 'Bulk' });
    const prefix = opts.bulk.prefix ?? 'bulk.';
    for (let i = 0; i < opts.bulk.count; i++) addVariable(bulk, `${prefix}${i}`, DataType.Double, i);
  }

  await server.start();
  const freeze = () => { for (const t of timers.splice(0)) clearInterval(t); };
  return {
    port: opts.port,
    endpoint: `opc.tcp://127.0.0.1:${opts.port}`,
    pkiFolder,
    certificateFile: server.certificateFile,
    server,
    setValue(name, value, o = {}) {
      const v = variables.get(name);
      if (!v) throw new Error(`test server: no variable ${name}`);
      // A string written into a Double variable is what a misconfigured PLC tag looks like to us.
      const dataType = typeof value === 'string' ? DataType.String : typeof value === 'boolean' ? DataType.Boolean : v.dataType;
      v.node.setValueFromSource(new Variant({ dataType, value }), o.status ?? StatusCodes.Good, o.sourceTimestamp ?? new Date());
    },
    freeze,
    async stop() {
      freeze();
      await server.shutdown(0);
      await serverCertificateManager.dispose();
      await userCertificateManager.dispose();
    },
  };
}

/**
 * A TCP relay between the client and the server, to cut the network under a live connection:
 * `blackhole()` keeps the sockets open but forwards nothing (a pulled cable, a dead switch port),
 * `drop()` resets every connection, `restore()` forwards again.
 */
export class TcpRelay {
  private server?: NetServer;
  private readonly pairs = new Set<[Socket, Socket]>();
  /** Connections that lost bytes while blackholed: their OPC UA stream is corrupt, so restore() resets them. */
  private readonly damaged = new Set<[Socket, Socket]>();
  private blackholed = false;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(port: number): Promise<void> {
    this.port = port;
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const close = () => { client.destroy(); upstream.destroy(); this.pairs.delete(pair); this.damaged.delete(pair); };
      const forward = (to: Socket) => (d: Buffer) => {
        if (this.blackholed) this.damaged.add(pair);
        else to.write(d);
      };
      client.on('data', forward(upstream));
      upstream.on('data', forward(client));
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
  }

  get connections(): number { return this.pairs.size; }

  blackhole(): void { this.blackholed = true; }

  drop(): void {
    for (const [a, b] of this.pairs) { a.resetAndDestroy(); b.destroy(); }
    this.pairs.clear();
  }

  restore(): void {
    this.blackholed = false;
    for (const [a, b] of this.damaged) { a.resetAndDestroy(); b.destroy(); }
    this.damaged.clear();
  }

  async stop(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
