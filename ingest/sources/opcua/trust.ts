/**
 * Trust of the server certificate: the client's PKI folders (trusted/, rejected/), certificates
 * the configuration lists, and the verdicts node-opcua reaches, reported to the source.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate, createHash } from 'node:crypto';
import { OPCUACertificateManager, type StatusCode } from 'node-opcua';
import type { Logger } from 'pino';

/** Where an operator puts the server certificates to trust, and where refused ones are filed. */
export const trustedFolderOf = (pkiFolder: string): string => join(pkiFolder, 'trusted', 'certs');
export const rejectedFolderOf = (pkiFolder: string): string => join(pkiFolder, 'rejected');

/** The first certificate of a DER chain (a server may send its certificate followed by its issuers). */
function leafCertificate(chain: Buffer): Buffer {
  // DER SEQUENCE: 0x30, then a short or long-form length.
  if (chain.length < 2 || chain[0] !== 0x30) return chain;
  const first = chain[1];
  if (first < 0x80) return chain.subarray(0, 2 + first);
  const lengthBytes = first & 0x7f;
  let length = 0;
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + chain[2 + i];
  return chain.subarray(0, 2 + lengthBytes + length);
}

export function thumbprintOf(certificate: Buffer): string {
  return createHash('sha1').update(leafCertificate(certificate)).digest('hex');
}

export interface TrustEvents {
  /** Demo mode accepted a certificate nobody trusted before. */
  autoAccepted(thumbprint: string): void;
  /** The certificate was refused (and filed under rejected/). */
  refused(thumbprint: string, status: string): void;
}

type CheckCallback = (err: Error | null, status?: StatusCode) => void;

/**
 * The client's certificate manager, reporting its verdicts on server certificates: node-opcua decides
 * (trusted/ folder, issuers, validity), this only tells the source what was decided so it can say so.
 */
export class ServerTrustStore extends OPCUACertificateManager {
  constructor(private readonly pkiRoot: string, acceptUnknown: boolean, private readonly events: TrustEvents) {
    // File watchers off: the source reloads the folders before each connection attempt instead.
    super({ rootFolder: pkiRoot, automaticallyAcceptUnknownCertificate: acceptUnknown, disableFileWatchers: true });
  }

  get trustedFolder(): string { return trustedFolderOf(this.pkiRoot); }
  get rejectedFolder(): string { return rejectedFolderOf(this.pkiRoot); }

  /** Server certificates listed in the config join the trusted folder (idempotent). */
  async trustFiles(files: { file: string; field: string }[], log?: Logger): Promise<void> {
    for (const { file, field } of files) {
      const der = readCertificateFile(file, field);
      await this.trustCertificate(der);
      log?.info({ file, thumbprint: thumbprintOf(der) }, 'server certificate trusted from configuration');
    }
  }

  /**
   * Re-read the PKI folders, so that a certificate an operator put into trusted/certs counts from the
   * next attempt on, without a restart. node-opcua lets a copy left in rejected/ win over trusted/;
   * the operator's explicit choice should win, so such a rejected copy is removed first.
   */
  async reload(log?: Logger): Promise<void> {
    try {
      this.removeRejectedCopiesOfTrusted(log);
      await this.reloadCertificates();
    } catch (err) {
      log?.warn({ err: (err as Error).message }, 'cannot reload the PKI folders');
    }
  }

  /** Before initialize() and each reload: the operator's trusted/ wins over a copy in rejected/. */
  removeRejectedCopiesOfTrusted(log?: Logger): void {
    const trusted = new Set(certificatesIn(this.trustedFolder).map((c) => c.thumbprint));
    for (const c of certificatesIn(this.rejectedFolder)) {
      if (!trusted.has(c.thumbprint)) continue;
      rmSync(c.file, { force: true });
      log?.info({ thumbprint: c.thumbprint, file: c.file }, 'server certificate trusted by the operator: removed its copy from rejected/');
    }
  }

  override checkCertificate(chain: Buffer | Buffer[]): Promise<StatusCode>;
  override checkCertificate(chain: Buffer | Buffer[], callback: CheckCallback): void;
  override checkCertificate(chain: Buffer | Buffer[], callback?: CheckCallback): Promise<StatusCode> | void {
    const verdict = this.checkAndReport(chain);
    if (!callback) return verdict;
    verdict.then((s) => callback(null, s), (e: Error) => callback(e));
  }

  private async checkAndReport(chain: Buffer | Buffer[]): Promise<StatusCode> {
    const leaf = Array.isArray(chain) ? chain[0] : chain;
    // Only auto-accepting needs to know whether the certificate was known before (the question files an
    // unknown certificate under rejected/, exactly as the check itself would).
    const before = this.automaticallyAcceptUnknownCertificate ? await this.isCertificateTrusted(chain) : undefined;
    const status = await (super.checkCertificate as (c: Buffer | Buffer[]) => Promise<StatusCode>)(chain);
    const thumbprint = thumbprintOf(leaf);
    if (status.isGood() && before === 'BadCertificateUntrusted') this.events.autoAccepted(thumbprint);
    if (!status.isGood()) this.events.refused(thumbprint, status.toString());
    return status;
  }
}

/** A certificate file, PEM or DER, as DER. */
export function readCertificateFile(file: string, field: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new Error(`${field}: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return Buffer.from(new X509Certificate(bytes).raw);
  } catch (err) {
    throw new Error(`${field}: ${file} is not a PEM or DER certificate: ${(err as Error).message}`);
  }
}

/** The certificates of a PKI folder with their SHA-1 thumbprints; files that are not certificates are skipped. */
function certificatesIn(folder: string): { file: string; thumbprint: string }[] {
  if (!existsSync(folder)) return [];
  const out: { file: string; thumbprint: string }[] = [];
  for (const name of readdirSync(folder)) {
    const file = join(folder, name);
    try {
      out.push({ file, thumbprint: thumbprintOf(Buffer.from(new X509Certificate(readFileSync(file)).raw)) });
    } catch {
      // a directory, a CRL or a stray file: not ours to judge
    }
  }
  return out;
}
