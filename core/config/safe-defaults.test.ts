/**
 * Safe by default (review finding F4): a config that says no `mode:` runs as demo, whose accounts'
 * passwords are public, so it may listen on loopback only; anything else needs `mode: production`.
 */
import { describe, it, expect } from 'vitest';
import { parseConfig } from './load.ts';

describe('demo mode listens on loopback only', () => {
  it('refuses a config without mode: that binds the dashboard or the embedded broker beyond loopback, naming the key', () => {
    expect(() => parseConfig({ http: { host: '0.0.0.0' } }, 'site.yaml', {})).toThrow(/http\.host: 0\.0\.0\.0: demo mode .*mode: production/);
    expect(() => parseConfig({ broker: { host: '192.168.1.20' } }, 'site.yaml', {})).toThrow(/broker\.host: 192\.168\.1\.20: demo mode/);
  });
  it('accepts loopback in demo, and any address in production', () => {
    expect(parseConfig({ http: { host: '127.0.0.1' } }, 'site.yaml', {}).mode).toBe('demo');
    expect(parseConfig({ http: { host: '::1' } }, 'site.yaml', {}).mode).toBe('demo');
    expect(parseConfig({
      mode: 'production', http: { host: '0.0.0.0' }, auth: { admin: { password: 'a-long-admin-password' } },
    }, 'site.yaml', {}).mode).toBe('production');
  });
});
