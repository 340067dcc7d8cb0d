/**
 * The user identity an OPC UA session is opened with, from `sources.opcua[].auth`: anonymous, a
 * user name and password, or an X.509 certificate with its private key (read from files now, so a
 * wrong path fails at start naming the key).
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { UserTokenType, type UserIdentityInfo } from 'node-opcua';
import type { OpcuaSourceConfig } from './config.ts';
import { readCertificateFile } from './trust.ts';

/** `resolvePath` makes a configured path absolute (relative paths are under the data folder). */
export function loadIdentity(config: OpcuaSourceConfig, resolvePath: (p: string) => string): UserIdentityInfo {
  const auth = config.auth;
  const at = `sources.opcua (${config.name}).auth`;
  switch (auth.type) {
    case 'anonymous': return { type: UserTokenType.Anonymous };
    case 'username': return { type: UserTokenType.UserName, userName: auth.username, password: auth.password };
    case 'certificate': {
      const certificateData = readCertificateFile(resolvePath(auth.certificate), `${at}.certificate`);
      let privateKey: string;
      const keyFile = resolvePath(auth.privateKey);
      try {
        privateKey = createPrivateKey(readFileSync(keyFile)).export({ format: 'pem', type: 'pkcs8' }).toString();
      } catch (err) {
        throw new Error(`${at}.privateKey: cannot read a private key from ${keyFile}: ${(err as Error).message}`);
      }
      return { type: UserTokenType.Certificate, certificateData, privateKey };
    }
  }
}
