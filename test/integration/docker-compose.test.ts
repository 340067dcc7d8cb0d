/**
 * The production compose file parses (Debian's docker-compose validates without an engine), wires
 * what a working deployment needs (an init step before the services, TLS, InfluxDB users of least
 * privilege per service, a shared state volume, health checks), and the aquawatch config it mounts is valid for
 * our loader. test/deploy/production-topology.test.ts runs the same files as processes.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../core/config/load.ts';
import { SOURCES } from '../../ingest/sources/registry.ts';

const COMPOSE = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => existsSync(p));
if (!COMPOSE && process.env.CI) throw new Error('docker-compose is not installed (apt-get install docker-compose)');

interface Service {
  image?: string; user?: string; entrypoint?: string[]; command?: string[];
  environment?: Record<string, string>; volumes?: (string | { source?: string; target: string; read_only?: boolean })[];
  depends_on?: Record<string, { condition: string }>; healthcheck?: { test?: string[]; disable?: boolean }; ports?: unknown[];
}

/** The services' environment as compose gives it, for loading the mounted config as each service does. */
function serviceEnv(doc: { services: Record<string, Service> }, name: string): NodeJS.ProcessEnv {
  return doc.services[name].environment ?? {};
}

const targets = (s: Service) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));

describe.skipIf(!COMPOSE)('docker-compose.yml', () => {
  const envFile = join(mkdtempSync(join(tmpdir(), 'aw-compose-')), '.env');
  let n = 0;
  // every secret its own value of 48 letters and digits, as the README's one-liner makes them
  writeFileSync(envFile, readFileSync('.env.example', 'utf8').replace(/=$/gm, () => `=secret-value-${String(++n).padStart(35, '0')}`));
  const config = () => parseYaml(execFileSync(COMPOSE!, ['--env-file', envFile, '-f', 'docker-compose.yml', 'config'], { encoding: 'utf8' })) as { services: Record<string, Service> };

  it('parses with every secret set: init, InfluxDB 1.x, Mosquitto and the two aquawatch services', () => {
    const doc = config();
    expect(Object.keys(doc.services).sort()).toEqual(['influxdb', 'ingest', 'init', 'mosquitto', 'server']);
    expect(doc.services.influxdb.image).toMatch(/^influxdb:1\.\d+$/);
    expect(doc.services.mosquitto.image).toBe('eclipse-mosquitto:2');
    for (const name of ['mosquitto', 'ingest', 'server']) {
      expect(doc.services[name].depends_on!.init).toEqual({ condition: 'service_completed_successfully' });
    }
    expect(doc.services.init.entrypoint).toEqual(['sh', '/app/deploy/init/first-start.sh']);
  });

  it('refuses to start with a secret missing (no default password)', () => {
    const r = spawnSync(COMPOSE!, ['-f', 'docker-compose.yml', 'config', '-q'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/set [A-Z_]+/);
  });

  it('refuses to start without AQUAWATCH_HOSTNAMES: the certificate made once at the first start would name only localhost', () => {
    const withoutNames = join(mkdtempSync(join(tmpdir(), 'aw-compose-')), '.env');
    writeFileSync(withoutNames, readFileSync(envFile, 'utf8').replace(/^AQUAWATCH_HOSTNAMES=.*$/m, 'AQUAWATCH_HOSTNAMES='));
    const r = spawnSync(COMPOSE!, ['--env-file', withoutNames, '-f', 'docker-compose.yml', 'config', '-q'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/set AQUAWATCH_HOSTNAMES/);
  });

  it('gives each service InfluxDB users of least privilege, never the administrator (F21)', () => {
    const doc = config();
    const influx = doc.services.influxdb.environment!;
    expect(influx.INFLUXDB_HTTP_AUTH_ENABLED).toBe('true');
    const ingest = loadConfig('deploy/aquawatch/config.yaml', serviceEnv(doc, 'ingest'), SOURCES).store;
    const server = loadConfig('deploy/aquawatch/config.yaml', serviceEnv(doc, 'server'), SOURCES).store;
    const reader = { username: 'reader', password: influx.AQUAWATCH_INFLUX_READER_PASSWORD };
    // ingest writes readings as `ingest`, the server derived series as `analytics`; both read as `reader`
    expect(ingest).toMatchObject({ type: 'influxdb1', database: 'aquawatch', derivedDatabase: 'aquawatch_derived', createDatabase: false,
      writer: { username: 'ingest', password: influx.AQUAWATCH_INFLUX_INGEST_PASSWORD }, reader });
    expect(server).toMatchObject({ writer: { username: 'analytics', password: influx.AQUAWATCH_INFLUX_ANALYTICS_PASSWORD }, reader });
    expect(new Set([influx.AQUAWATCH_INFLUX_INGEST_PASSWORD, influx.AQUAWATCH_INFLUX_ANALYTICS_PASSWORD, influx.AQUAWATCH_INFLUX_READER_PASSWORD, influx.INFLUXDB_ADMIN_PASSWORD]).size).toBe(4);
    // no aquawatch service (init included) gets another service's password or the administrator's
    const secretsOf = (name: string) => Object.values(serviceEnv(doc, name));
    expect(secretsOf('ingest')).not.toContain(influx.AQUAWATCH_INFLUX_ANALYTICS_PASSWORD);
    expect(secretsOf('server')).not.toContain(influx.AQUAWATCH_INFLUX_INGEST_PASSWORD);
    for (const name of ['init', 'ingest', 'server']) expect(secretsOf(name)).not.toContain(influx.INFLUXDB_ADMIN_PASSWORD);
    for (const p of [influx.AQUAWATCH_INFLUX_INGEST_PASSWORD, influx.AQUAWATCH_INFLUX_ANALYTICS_PASSWORD, influx.AQUAWATCH_INFLUX_READER_PASSWORD]) {
      expect(secretsOf('init')).not.toContain(p);
    }
    const users = readFileSync('deploy/influxdb/service-users.sh', 'utf8');
    expect(users).toMatch(/GRANT WRITE ON \\"\$INFLUXDB_DB\\" TO ingest/);
    expect(users).toMatch(/GRANT READ ON \\"\$INFLUXDB_DB\\" TO reader/);
    expect(users).not.toMatch(/ALL PRIVILEGES|GRANT ALL/);
  });

  it('shares one state volume between ingest and server (device tokens have one owner, F20)', () => {
    const doc = config();
    const cfg = loadConfig('deploy/aquawatch/config.yaml', serviceEnv(doc, 'server'), SOURCES);
    expect(cfg.state.path).toBe('/state/state.sqlite');
    expect(targets(doc.services.ingest)).toContain('/state');
    expect(targets(doc.services.server)).toContain('/state');
    expect(targets(doc.services.ingest)).toContain('/data');
  });

  it('serves the dashboard, the PDA API and MQTT over TLS only, and checks every long-running service\'s health', () => {
    const doc = config();
    const cfg = loadConfig('deploy/aquawatch/config.yaml', serviceEnv(doc, 'server'), SOURCES);
    expect(cfg.http.tls).toEqual({ cert: '/tls/server.crt', key: '/tls/server.key' });
    expect(cfg.broker.url).toMatch(/^mqtts:\/\//);
    expect(cfg.broker.tls?.ca).toBe('/tls/ca.crt');
    const conf = readFileSync('deploy/mosquitto/mosquitto.conf', 'utf8');
    expect(conf).toMatch(/^listener 8883$/m);
    expect(conf).not.toMatch(/^listener 1883/m);
    for (const name of ['influxdb', 'mosquitto']) expect(doc.services[name].healthcheck?.test?.length).toBeGreaterThan(0);
    // ingest and server: the image's HEALTHCHECK, pointed at each one's own https /health
    expect(doc.services.ingest.environment!.AQUAWATCH_HEALTH_URL).toBe(`https://localhost:${cfg.http.ingestPort}/health`);
    expect(doc.services.server.environment!.AQUAWATCH_HEALTH_URL).toBe(`https://localhost:${cfg.http.port}/health`);
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/^HEALTHCHECK .*deploy\/healthcheck\.mjs/m);
  });

  it('configures Mosquitto with generated users and ACLs, persistence and a raised QoS 1 queue', () => {
    const conf = readFileSync('deploy/mosquitto/mosquitto.conf', 'utf8');
    expect(conf).toMatch(/^persistence true$/m);
    expect(conf).toMatch(/^max_queued_messages 1000000$/m);
    expect(conf).toMatch(/^allow_anonymous false$/m);
    expect(conf).toMatch(/^password_file \/mosquitto\/auth\/passwd$/m);
    expect(conf).toMatch(/^acl_file \/mosquitto\/auth\/acl$/m);
    expect(readFileSync('deploy/init/first-start.sh', 'utf8')).toMatch(/broker-auth --config \/etc\/aquawatch\/config\.yaml --out \/mosquitto-auth/);
  });

  it('builds on a current Node LTS, runs as node with /data owned by it, and keeps .env out of the image and of git (F21)', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const bases = [...dockerfile.matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
    expect(bases.length).toBeGreaterThan(0);
    for (const major of bases) expect([22, 24, 26]).toContain(major);
    expect(dockerfile).toMatch(/chown node:node \/data/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(readFileSync('.dockerignore', 'utf8').split('\n')).toContain('.env');
    expect(readFileSync('.gitignore', 'utf8').split('\n')).toContain('.env');
  });
});
