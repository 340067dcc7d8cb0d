/**
 * mqtt.js connect options from a BrokerConfig: credentials and TLS (CA, client certificate and key
 * read from PEM files; peer verification on unless the config turns it off). Every MQTT client of
 * the platform (ingest sources, the bus publisher, analytics, dashboard) builds its options here, so
 * a broker with TLS and passwords is configured once, the same way for all of them.
 */
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { BrokerConfig } from '../config/schema.ts';

/** A broker setting that cannot be used; `field` is the config key at fault (e.g. `broker.tls.ca`). */
export class BrokerConfigError extends Error {
  constructor(readonly field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'BrokerConfigError';
  }
}

const URL_SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'];
const TLS_SCHEMES = ['mqtts:', 'ssl:', 'tls:', 'wss:'];

/** The broker fields a client needs; `url` is a real address (never `embedded`). */
export type BrokerAddress = Partial<BrokerConfig> & { url: string };

/**
 * A source's own broker settings over the platform's: each key given in `override` wins. A source
 * that names another broker (`url`) does not inherit the platform's credentials or TLS files,
 * which belong to the platform broker.
 */
/**
 * The broker URL without the user and password it may carry (`mqtts://user:password@host`), for
 * messages and logs: a source's conditions become alarms every viewer reads.
 */
export function brokerUrlForDisplay(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1');
}

export function resolveBroker(platform: BrokerAddress, override?: Partial<BrokerConfig>): BrokerAddress {
  if (!override) return { ...platform };
  if (override.url !== undefined && override.url !== 'embedded' && override.url !== platform.url) return { ...override, url: override.url };
  return { ...platform, ...override, url: platform.url };
}

/** A PEM file's bytes, or BrokerConfigError naming the config key (`field`) when it cannot be read. */
export function readPem(file: string, field: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new BrokerConfigError(field, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * Options to spread into `mqtt.connect(url, {...})`: username/password and TLS. Throws
 * BrokerConfigError naming the field when the URL is not a broker address or a TLS file cannot be
 * read. `where` prefixes the field names in errors (e.g. `sources.mqtt[0].broker`).
 */
export function mqttConnectOptions(broker: BrokerAddress, where = 'broker'): IClientOptions {
  if (broker.url === 'embedded') {
    throw new BrokerConfigError(`${where}.url`, "'embedded' must be replaced with the embedded broker's mqtt:// address before connecting");
  }
  let url: URL;
  try {
    url = new URL(broker.url);
  } catch {
    throw new BrokerConfigError(`${where}.url`, `not a URL: ${broker.url}`);
  }
  if (!URL_SCHEMES.includes(url.protocol)) {
    throw new BrokerConfigError(`${where}.url`, `scheme ${url.protocol} is not one of ${URL_SCHEMES.map((s) => s.slice(0, -1)).join(', ')}`);
  }
  const options: IClientOptions = {};
  if (broker.username !== undefined) options.username = broker.username;
  if (broker.password !== undefined) options.password = broker.password;
  const tls = broker.tls;
  if (tls) {
    // TLS options on a plain mqtt:// URL would be silently ignored by mqtt.js: say so instead.
    if (!TLS_SCHEMES.includes(url.protocol)) {
      throw new BrokerConfigError(`${where}.url`, `tls is configured but ${url.protocol}// is not encrypted; use mqtts:// (or wss://)`);
    }
    if (tls.ca) options.ca = readPem(tls.ca, `${where}.tls.ca`);
    if (tls.cert) options.cert = readPem(tls.cert, `${where}.tls.cert`);
    if (tls.key) options.key = readPem(tls.key, `${where}.tls.key`);
    if (Boolean(tls.cert) !== Boolean(tls.key)) {
      throw new BrokerConfigError(`${where}.tls.${tls.cert ? 'key' : 'cert'}`, 'a client certificate needs both cert and key');
    }
    options.rejectUnauthorized = tls.rejectUnauthorized ?? true;
  } else if (TLS_SCHEMES.includes(url.protocol)) {
    // mqtts:// without a tls block: the system CA store, with verification on.
    options.rejectUnauthorized = true;
  }
  return options;
}
