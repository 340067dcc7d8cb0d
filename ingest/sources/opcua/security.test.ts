/**
 * Security of the OPC UA source against a real node-opcua server: the trust workflow for the server
 * certificate (refused until trusted, demo mode auto-accepts, trust from the configuration), every
 * supported security policy, and the three user identities.
 */
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OPCUACertificateManager } from 'node-opcua';
import { pino, type Logger } from 'pino';
import { OpcuaSource } from './source.ts';
import { thumbprintOf } from './trust.ts';
import { removeTempFolders, startTestServer, tempFolder, type TestServer } from '../../../test/support/opcua-server.ts';
import { opcuaSourceSchema, type OpcuaSourceConfig } from './config.ts';
import { parseTopology } from '../../../core/config/load.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { RecordingContext } from '../../../test/support/recording-context.ts';
import { freePort, waitFor } from '../../../test/support/ports.ts';

const topology = new Topology(parseTopology({
  sites: [{ id: 'plant1', kind: 'plant' }],
  sensors: [{ id: 'plant1.outlet.flow', kind: 'flow', site: 'plant1', source: { type: 'opcua', server: 'plant1', nodeId: 'ns=1;s=Outlet.Flow' } }],
}, '(test topology)'));

function config(endpoint: string, over: Record<string, unknown>): OpcuaSourceConfig {
  return opcuaSourceSchema.parse({ name: 'plant1', endpoint, samplingIntervalMs: 50, publishingIntervalMs: 100, ...over });
}

const newDataDir = () => tempFolder('sec');

describe('OpcuaSource security', () => {
  let server: TestServer;
  let source: OpcuaSource | undefined;
  let userCertificate: string;
  let userPrivateKey: string;

  beforeAll(async () => {
    server = await startTestServer({
      port: await freePort(),
      pkiFolder: tempFolder('sec-server'),
      // No unsecured endpoint: every connection must pass the certificate checks.
      securityModes: ['Sign', 'SignAndEncrypt'],
      securityPolicies: ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'],
      allowAnonymous: true,
      users: [{ username: 'operator', password: 's3cret' }],
      variables: [{ name: 'Outlet.Flow', initial: 100, changeEveryMs: 100 }],
    });
    // An X509 user identity, as an operator's certificate would be.
    const userPki = new OPCUACertificateManager({ rootFolder: tempFolder('user'), disableFileWatchers: true });
    await userPki.initialize();
    userCertificate = join(userPki.rootDir, 'own', 'certs', 'operator.pem');
    await userPki.createSelfSignedCertificate({
      applicationUri: 'urn:aquawatch:operator', subject: '/CN=operator/O=aquawatch', dns: [], startDate: new Date(), validity: 365, outputFile: userCertificate,
    });
    userPrivateKey = join(userPki.rootDir, 'own', 'private', 'private_key.pem');
    await userPki.dispose();
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
  });
  afterAll(async () => {
    await server?.stop();
    removeTempFolders();
  });

  /** How the server sees its current sessions' users. */
  const serverSessionTokens = () => server.server.engine.getSessions().map((s) => ({
    type: s.userIdentityToken?.constructor.name,
    userName: (s.userIdentityToken as { userName?: string } | undefined)?.userName,
  }));

  it('refuses an untrusted server certificate with a clear error, and connects once it is trusted', async () => {
    const dataDir = newDataDir();
    const ctx = new RecordingContext(topology);
    source = new OpcuaSource(config(server.endpoint, { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' }), { dataDir, demoMode: false });
    await source.start(ctx);

    const pki = join(dataDir, 'pki', 'opcua');
    const condition = (await waitFor(() => ctx.conditions.find((c) => c.id === 'opcua.certificate_untrusted:plant1'), 15_000, 50, 'certificate condition'))!;
    const serverThumbprint = thumbprintOf(Buffer.from(new X509Certificate(await readPem(server.certificateFile)).raw));
    expect(condition).toMatchObject({ type: 'source.certificate_untrusted', state: 'raise', priority: 'high', evidence: { thumbprint: serverThumbprint } });
    expect(condition.message).toContain('is not trusted');
    expect(condition.message).toContain(join(pki, 'trusted', 'certs'));
    expect(source.status()).toMatchObject({ state: 'disconnected', detail: { lastError: expect.stringContaining('BadCertificateUntrusted') } });
    expect(ctx.conditions.find((c) => c.id === 'opcua.session_lost:plant1')).toMatchObject({ state: 'raise' });
    expect(ctx.readings).toEqual([]);
    // node-opcua filed the refused certificate where the operator can inspect it.
    expect(readdirSync(join(pki, 'rejected')).length).toBeGreaterThan(0);

    // The operator trusts it: copy the server's certificate into the trusted folder. No restart needed.
    copyFileSync(server.certificateFile, join(pki, 'trusted', 'certs', 'plant1-server.pem'));
    await waitFor(() => ctx.readings.length > 0, 15_000, 50, 'readings once trusted');
    await waitFor(() => source!.status().state === 'connected', 5_000, 50, 'connected');
    expect(ctx.conditions.filter((c) => c.id === 'opcua.certificate_untrusted:plant1').map((c) => c.state)).toEqual(['raise', 'clear']);
    expect(ctx.conditions.filter((c) => c.id === 'opcua.session_lost:plant1').map((c) => c.state)).toEqual(['raise', 'clear']);
  });

  it('in demo mode trusts an unknown server certificate automatically and says so', async () => {
    const dataDir = newDataDir();
    const ctx = new RecordingContext(topology);
    // The recording context's logger is silent; give it one that keeps the warnings.
    const warnings: { msg: string; thumbprint?: string }[] = [];
    (ctx as { log: Logger }).log = pino({ level: 'warn' }, { write: (line: string) => { warnings.push(JSON.parse(line)); } });
    source = new OpcuaSource(config(server.endpoint, { securityMode: 'SignAndEncrypt', securityPolicy: 'Aes256_Sha256_RsaPss' }), { dataDir, demoMode: true });
    await source.start(ctx);
    await waitFor(() => ctx.readings.length > 0, 15_000, 50, 'readings');

    const thumbprint = thumbprintOf(Buffer.from(new X509Certificate(await readPem(server.certificateFile)).raw));
    expect(source.status().detail).toMatchObject({ autoTrustedCertificates: [thumbprint] });
    expect(warnings).toContainEqual(expect.objectContaining({ thumbprint, msg: expect.stringContaining('demo mode: trusting an unknown OPC UA server certificate automatically') }));
    expect(readdirSync(join(dataDir, 'pki', 'opcua', 'trusted', 'certs')).length).toBe(1);
    expect(ctx.conditions.filter((c) => c.id === 'opcua.certificate_untrusted:plant1')).toEqual([]);
  });

  it('trusts the certificates listed in trustedServerCertificates (Sign, Aes128_Sha256_RsaOaep)', async () => {
    const dataDir = newDataDir();
    const ctx = new RecordingContext(topology);
    source = new OpcuaSource(config(server.endpoint, {
      securityMode: 'Sign', securityPolicy: 'Aes128_Sha256_RsaOaep', trustedServerCertificates: [server.certificateFile],
    }), { dataDir, demoMode: false });
    await source.start(ctx);
    await waitFor(() => ctx.readings.length > 0, 15_000, 50, 'readings');
    expect(source.status()).toMatchObject({ state: 'connected', detail: { securityMode: 'Sign', securityPolicy: 'Aes128_Sha256_RsaOaep' } });
    expect(ctx.conditions).toEqual([]);
  });

  it('authenticates with username and password, and reports a refused password', async () => {
    const dataDir = newDataDir();
    const trusted = { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', trustedServerCertificates: [server.certificateFile] };
    const ctx = new RecordingContext(topology);
    source = new OpcuaSource(config(server.endpoint, { ...trusted, auth: { type: 'username', username: 'operator', password: 's3cret' } }), { dataDir, demoMode: false });
    await source.start(ctx);
    await waitFor(() => ctx.readings.length > 0, 15_000, 50, 'readings with the right password');
    expect(serverSessionTokens()).toContainEqual({ type: 'UserNameIdentityToken', userName: 'operator' });
    await source.stop();

    const refused = new RecordingContext(topology);
    source = new OpcuaSource(config(server.endpoint, { ...trusted, auth: { type: 'username', username: 'operator', password: 'wrong' } }), { dataDir, demoMode: false });
    await source.start(refused);
    const lost = (await waitFor(() => refused.conditions.find((c) => c.id === 'opcua.session_lost:plant1'), 15_000, 50, 'session_lost'))!;
    expect(lost.message).toMatch(/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/);
    expect(source.status().state).toBe('disconnected');
    expect(refused.readings).toEqual([]);
  });

  it('authenticates with an X509 user certificate', async () => {
    const ctx = new RecordingContext(topology);
    source = new OpcuaSource(config(server.endpoint, {
      securityMode: 'SignAndEncrypt', securityPolicy: 'Aes256_Sha256_RsaPss', trustedServerCertificates: [server.certificateFile],
      auth: { type: 'certificate', certificate: userCertificate, privateKey: userPrivateKey },
    }), { dataDir: newDataDir(), demoMode: false });
    await source.start(ctx);
    await waitFor(() => ctx.readings.length > 0, 15_000, 50, 'readings');
    expect(source.status().state).toBe('connected');
    expect(serverSessionTokens()).toContainEqual({ type: 'X509IdentityToken', userName: undefined });
  });

  it('rejects inconsistent or unreadable security settings with the field and the reason', async () => {
    const dataDir = newDataDir();
    expect(() => new OpcuaSource(config(server.endpoint, { securityMode: 'SignAndEncrypt' }), { dataDir, demoMode: false }))
      .toThrow('sources.opcua (plant1).securityPolicy: securityMode SignAndEncrypt needs a policy');
    expect(() => new OpcuaSource(config(server.endpoint, { securityPolicy: 'Basic256Sha256' }), { dataDir, demoMode: false }))
      .toThrow('sources.opcua (plant1).securityPolicy: must be None when securityMode is None');

    const missingCert = new OpcuaSource(config(server.endpoint, {
      securityMode: 'Sign', securityPolicy: 'Basic256Sha256', auth: { type: 'certificate', certificate: 'no/such.pem', privateKey: userPrivateKey },
    }), { dataDir, demoMode: false });
    await expect(missingCert.start(new RecordingContext(topology))).rejects.toThrow(`sources.opcua (plant1).auth.certificate: cannot read ${join(dataDir, 'no/such.pem')}`);

    const notACert = new OpcuaSource(config(server.endpoint, {
      securityMode: 'Sign', securityPolicy: 'Basic256Sha256', trustedServerCertificates: [userPrivateKey],
    }), { dataDir, demoMode: false });
    await expect(notACert.start(new RecordingContext(topology))).rejects.toThrow(`sources.opcua (plant1).trustedServerCertificates[0]: ${userPrivateKey} is not a PEM or DER certificate`);
    expect(notACert.status().state).toBe('stopped');
  });
});

async function readPem(file: string): Promise<Buffer> {
  const { readFile } = await import('node:fs/promises');
  return readFile(file);
}
