/**
 * Production refuses an OPC UA session anyone on the plant network could forge (review finding F5):
 * security mode None or an anonymous session, unless the source accepts the risk with
 * allowInsecure: true; a password over None, always. Each refusal names its key.
 */
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../../core/config/load.ts';
import { SOURCES } from '../registry.ts';

const production = (opcua: Record<string, unknown>) => parseConfig({
  mode: 'production', auth: { admin: { password: 'a-long-admin-password' } },
  sources: { opcua: [{ name: 'plant', endpoint: 'opc.tcp://plc:4840', ...opcua }] },
}, 'site.yaml', {}, SOURCES);

describe('OPC UA security in production', () => {
  it('refuses None and anonymous by default', () => {
    expect(() => production({})).toThrow(/sources\.opcua\[0\]\.securityMode: None is refused in production mode/);
    expect(() => production({})).toThrow(/sources\.opcua\[0\]\.auth: anonymous sessions are refused/);
  });
  it('refuses a password over None even when insecure is allowed', () => {
    expect(() => production({ allowInsecure: true, auth: { type: 'username', username: 'u', password: 'p' } }))
      .toThrow(/sources\.opcua\[0\]\.auth: a username and password over security mode None travel in clear text/);
  });
  it('accepts SignAndEncrypt with a user, or None when the source says allowInsecure', () => {
    expect(production({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', auth: { type: 'username', username: 'u', password: 'p' } }).mode).toBe('production');
    expect(production({ allowInsecure: true }).mode).toBe('production');
  });
});
