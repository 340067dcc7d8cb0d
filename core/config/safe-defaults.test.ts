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
      mode: 'production', http: { host: '0.0.0.0', behindTlsProxy: true }, auth: { admin: { password: 'a-long-admin-password' } },
    }, 'site.yaml', {}).mode).toBe('production');
  });
});

describe('production refuses unsafe transport, naming the key (F5)', () => {
  const admin = { admin: { username: 'admin', password: 'a-long-admin-password' } };
  const production = (raw: Record<string, unknown>) => () => parseConfig({ mode: 'production', auth: admin, ...raw }, 'site.yaml', {});

  it('credentials over plain mqtt:// to a broker beyond loopback: the platform broker and any source\'s', () => {
    expect(production({ broker: { url: 'mqtt://broker.plant:1883', username: 'aquawatch', password: 'secret' } }))
      .toThrow(/broker\.url: credentials over plain mqtt:\/\//);
    expect(production({ broker: { url: 'mqtt://aquawatch:secret@broker.plant:1883' } })).toThrow(/broker\.url: credentials/);
    expect(production({ sources: { sparkplug: [{ name: 'spb', broker: { url: 'mqtt://edge.plant', username: 'u', password: 'p' } }] } }))
      .toThrow(/sources\.sparkplug\[0\]\.broker\.url: credentials/);
    // TLS, loopback, or no credentials: accepted
    expect(production({ broker: { url: 'mqtts://broker.plant:8883', username: 'aquawatch', password: 'secret' } })().mode).toBe('production');
    expect(production({ broker: { url: 'mqtt://127.0.0.1:1883', username: 'aquawatch', password: 'secret' } })().mode).toBe('production');
    expect(production({ sources: { mqtt: [{ name: 'open', broker: { url: 'mqtt://public.example' } }] } })().mode).toBe('production');
  });

  it('rejectUnauthorized: false in any broker block, Sparkplug included', () => {
    expect(production({ broker: { url: 'mqtts://b:8883', tls: { rejectUnauthorized: false } } })).toThrow(/broker\.tls\.rejectUnauthorized: must be true/);
    expect(production({ sources: { sparkplug: [{ name: 'spb', broker: { url: 'mqtts://b:8883', tls: { rejectUnauthorized: false } } }] } }))
      .toThrow(/sources\.sparkplug\[0\]\.broker\.tls\.rejectUnauthorized: must be true/);
  });

  it('HTTP (dashboard and ingest API) beyond loopback without TLS, unless a proxy in front terminates it', () => {
    expect(production({ http: { host: '0.0.0.0' } })).toThrow(/http\.host: 0\.0\.0\.0: production mode serves .* over HTTPS only: set http\.tls/);
    expect(production({ http: { host: '0.0.0.0', tls: { cert: '/tls/server.crt', key: '/tls/server.key' } } })().mode).toBe('production');
    expect(production({ http: { host: '10.0.0.5', behindTlsProxy: true } })().http.behindTlsProxy).toBe(true);
    expect(production({ http: { host: '127.0.0.1' } })().mode).toBe('production');
  });

  it('F5 an embedded broker beyond loopback without broker.tls cert and key (its passwords would travel in clear text)', () => {
    const credentials = { username: 'aquawatch', password: 'secret' };
    expect(production({ broker: { host: '0.0.0.0', ...credentials } })).toThrow(/broker\.tls: an embedded broker listening beyond loopback .* needs broker\.tls: \{ cert, key \} .*clear text/);
    expect(production({ broker: { host: '10.0.0.5', ...credentials, tls: { ca: '/tls/ca.crt' } } })).toThrow(/broker\.tls: an embedded broker/);
    expect(production({ broker: { host: '0.0.0.0', ...credentials, tls: { cert: '/tls/broker.crt', key: '/tls/broker.key' } } })().broker.tls?.cert).toBe('/tls/broker.crt');
    // on loopback it needs neither; a broker named by URL is checked by its scheme (above)
    expect(production({ broker: { host: '127.0.0.1' } })().mode).toBe('production');
  });
});
