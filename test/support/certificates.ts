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
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=aquawatch test CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const signed: (readonly [string, string, string])[] = [['server', '127.0.0.1', 'server.ext'], ...(opts.client ? [['client', 'ingest-test', ''] as const] : [])];
  for (const [name, cn, ext] of signed) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2',
      ...(ext ? ['-extfile', ext] : []));
  }
  // A broker started as root (Mosquitto) drops to its own user, which must read these.
  chmodSync(dir, 0o755);
  for (const f of ['ca.crt', 'server.crt', 'server.key']) chmodSync(join(dir, f), 0o644);
  const file = (name: string) => join(dir, name);
  return {
    dir, ca: file('ca.crt'), serverCert: file('server.crt'), serverKey: file('server.key'),
    ...(opts.client ? { clientCert: file('client.crt'), clientKey: file('client.key') } : {}),
  };
}
