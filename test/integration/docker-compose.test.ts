/**
 * The production compose file parses (Debian's docker-compose validates without an engine), names
 * the services the README promises, and the aquawatch config it mounts is valid for our loader.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../core/config/load.ts';

const COMPOSE = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => existsSync(p));
if (!COMPOSE && process.env.CI) throw new Error('docker-compose is not installed (apt-get install docker-compose)');

describe.skipIf(!COMPOSE)('docker-compose.yml', () => {
  const envFile = join(mkdtempSync(join(tmpdir(), 'aw-compose-')), '.env');
  const env = readFileSync('.env.example', 'utf8').replace(/=$/gm, '=secret');
  writeFileSync(envFile, env);

  it('parses with every secret set, with the simulators under a profile', () => {
    const out = execFileSync(COMPOSE!, ['--env-file', envFile, '-f', 'docker-compose.yml', 'config'], { encoding: 'utf8' });
    const doc = parseYaml(out) as { services: Record<string, { image?: string; profiles?: string[]; environment?: Record<string, string> }> };
    expect(Object.keys(doc.services).sort()).toEqual(['influxdb', 'ingest', 'mosquitto', 'server', 'simulators']);
    expect(doc.services.influxdb.image).toBe('influxdb:2.7');
    expect(doc.services.mosquitto.image).toBe('eclipse-mosquitto:2');
    expect(doc.services.simulators.profiles).toEqual(['simulators']);
    expect(doc.services.influxdb.environment!.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN).toBe('secret');
  });

  it('refuses to start with a secret missing (no default password)', () => {
    const r = spawnSync(COMPOSE!, ['-f', 'docker-compose.yml', 'config', '-q'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/set INFLUXDB_/);
  });

  it('configures Mosquitto with persistence and a raised QoS 1 queue', () => {
    const conf = readFileSync('deploy/mosquitto/mosquitto.conf', 'utf8');
    expect(conf).toMatch(/^persistence true$/m);
    expect(conf).toMatch(/^max_queued_messages 1000000$/m);
    expect(conf).toMatch(/^allow_anonymous false$/m);
  });

  it('mounts an aquawatch config that the loader accepts in production mode', () => {
    const cfg = loadConfig('deploy/aquawatch/config.yaml', { AQUAWATCH_SITE_NAME: 'x', INFLUXDB_TOKEN: 't', MQTT_PASSWORD: 'p', AQUAWATCH_ADMIN_PASSWORD: 'a-long-admin-password' });
    expect(cfg.mode).toBe('production');
    expect(cfg.store).toMatchObject({ type: 'influxdb2', token: 't' });
  });
});
