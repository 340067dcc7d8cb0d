/**
 * Throwaway TLS material for tests, made by openssl (as deploy/init/certificates.sh does for a
 * deployment): a private CA, a server certificate for 127.0.0.1 and localhost signed by it, and on
 * request a client certificate. Valid for two days.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** With `{ client: true }` only. */
  clientCert?: string;
  clientKey?: string;
}

export function makeTestCertificates(opts: { client?: boolean } = {}): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'aw-certs-'));
  opensslIn(dir)('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=aquawatch test CA');
  // serverAuth only, as deploy/init/certificates.sh makes them: such a certificate is not a client certificate
  writeFileSync(join(dir, 'server.ext'), 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  signWithTestCa(dir, 'server', '127.0.0.1', 'server.ext');
  if (opts.client) signWithTestCa(dir, 'client', 'ingest-test');
  // A broker started as root (Mosquitto) drops to its own user, which must read these.
  chmodSync(dir, 0o755);
  for (const f of ['ca.crt', 'server.crt', 'server.key']) chmodSync(join(dir, f), 0o644);
  const file = (name: string) => join(dir, name);
  return {
    dir, ca: file('ca.crt'), serverCert: file('server.crt'), serverKey: file('server.key'),
    ...(opts.client ? { clientCert: file('client.crt'), clientKey: file('client.key') } : {}),
  };
}

/** Another client certificate with common name `cn`, signed by the CA of `certs`: `<name>.crt` and `<name>.key`. */
export function makeClientCertificate(certs: TestCertificates, name: string, cn: string): { cert: string; key: string } {
  signWithTestCa(certs.dir, name, cn);
  return { cert: join(certs.dir, `${name}.crt`), key: join(certs.dir, `${name}.key`) };
}

/** A self-signed client certificate with common name `cn` (signed by no CA), in the folder of `certs`. */
export function makeSelfSignedCertificate(certs: TestCertificates, name: string, cn: string): { cert: string; key: string } {
  opensslIn(certs.dir)('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`);
  return { cert: join(certs.dir, `${name}.crt`), key: join(certs.dir, `${name}.key`) };
}

function opensslIn(dir: string) {
  return (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function signWithTestCa(dir: string, name: string, cn: string, extFile?: string): void {
  const openssl = opensslIn(dir);
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2',
    ...(extFile ? ['-extfile', extFile] : []));
}
