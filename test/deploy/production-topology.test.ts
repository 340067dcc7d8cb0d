/**
 * The production deployment of docker-compose.yml, run as processes on this machine (no Docker
 * here): the same init steps and files, with only addresses and paths changed.
 * - TLS files from deploy/init/certificates.sh; Mosquitto (TLS listener) with the passwd and ACL
 *   that `aquawatch broker-auth` writes from deploy/aquawatch/config.yaml, as the init service does;
 * - InfluxDB 1.x with authentication on, its service users made by deploy/influxdb/service-users.sh
 *   (test/support/influxd.ts runServiceUsersScript, with a stand-in for the image's `influx` CLI);
 * - `aquawatch ingest` and `aquawatch server` as separate processes in production mode, each
 *   writing as its own InfluxDB user (ingest: readings only; server: derived series only) and
 *   reading as the reader, sharing one state database, serving HTTPS.
 * Then: chromium signs in over HTTPS and sees a live value a field sensor published; a PDA token
 * issued in the admin view works at ingest and is refused within 10 s of its revocation there; a
 * device credential cannot publish on the platform's topics. docker-compose.test.ts checks that the
 * compose file wires these files the same way (and passes `docker-compose config`).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parse as parseYaml, stringify } from 'yaml';
import { MOSQUITTO_BIN, MosquittoBroker } from '../support/mosquitto.ts';
import { INFLUXD_BIN, InfluxdServer, runServiceUsersScript } from '../support/influxd.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { startService } from '../support/processes.ts';
import { ensureWebBuilt } from '../../dashboard/web/build.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const READY = Boolean(MOSQUITTO_BIN && INFLUXD_BIN);
// .ci/run asks for both with REQUIRE_*: missing there is a failure, not a skip
const REQUIRED = process.env.CI || process.env.REQUIRE_INFLUXDB === '1' || process.env.REQUIRE_MOSQUITTO === '1';
if (!READY && REQUIRED) throw new Error('the production topology test needs mosquitto and influxd (apt-get install mosquitto influxdb)');

/** The secrets of .env, as the README's one-liner makes them: each its own value. */
const SECRETS = {
  AQUAWATCH_SITE_NAME: 'Topology Test Water Co.',
  AQUAWATCH_ADMIN_PASSWORD: 'admin-secret-0123456789',
  INFLUXDB_ADMIN_USER: 'admin',
  INFLUXDB_ADMIN_PASSWORD: 'influx-admin-secret-1',
  INFLUX_INGEST_PASSWORD: 'influx-ingest-secret-2',
  INFLUX_ANALYTICS_PASSWORD: 'influx-analytics-secret-3',
  INFLUX_READER_PASSWORD: 'influx-reader-secret-6',
  MQTT_PASSWORD: 'mqtt-platform-secret-4',
  MQTT_SENSORS_PASSWORD: 'mqtt-sensors-secret-5',
  AQUAWATCH_METRICS_TOKEN: 'metrics-scrape-token-7-0123456789abcdef',
};
/** What docker-compose.yml gives each aquawatch service. */
const serviceEnv = (service: 'ingest' | 'server') => ({
  AQUAWATCH_SITE_NAME: SECRETS.AQUAWATCH_SITE_NAME,
  MQTT_PASSWORD: SECRETS.MQTT_PASSWORD,
  MQTT_SENSORS_PASSWORD: SECRETS.MQTT_SENSORS_PASSWORD,
  AQUAWATCH_ADMIN_PASSWORD: SECRETS.AQUAWATCH_ADMIN_PASSWORD,
  AQUAWATCH_METRICS_TOKEN: SECRETS.AQUAWATCH_METRICS_TOKEN,
  AQUAWATCH_INFLUX_WRITER: service === 'ingest' ? 'ingest' : 'analytics',
  AQUAWATCH_INFLUX_WRITER_PASSWORD: service === 'ingest' ? SECRETS.INFLUX_INGEST_PASSWORD : SECRETS.INFLUX_ANALYTICS_PASSWORD,
  AQUAWATCH_INFLUX_READER_PASSWORD: SECRETS.INFLUX_READER_PASSWORD,
});

const TOPOLOGY = {
  sites: [{ id: 'NET', kind: 'network' }],
  dmas: [{ id: 'D1', name: 'North' }],
  sensors: [{ id: 'P1', name: 'North pressure', kind: 'pressure', site: 'NET', dma: 'D1' }],
  meters: [{ id: 'M-1', customer: 'C-1', dma: 'D1' }],
};

interface HttpsAnswer { status: number; body: string }

/** An HTTPS request that trusts only the deployment's CA, as a PDA with ca.crt installed does. */
function httpsRequest(url: string, ca: Buffer, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe.skipIf(!READY)('production topology: compose\'s services as processes, TLS, generated broker users, InfluxDB users', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aw-topology-'));
  const tlsDir = join(dir, 'tls');
  const children: ChildProcess[] = [];
  const clients: MqttClient[] = [];
  const influx = new InfluxdServer({ auth: true });
  let broker: MosquittoBroker;
  let browser: Browser | undefined;
  let ca: Buffer;
  let dashboard = '';
  let ingestApi = '';

  const influxQuery = async (statement: string, who?: { user: string; password: string }) => {
    const headers: Record<string, string> = who ? { authorization: `Basic ${Buffer.from(`${who.user}:${who.password}`).toString('base64')}` } : {};
    const res = await fetch(`${influx.url}/query`, { method: 'POST', headers, body: new URLSearchParams({ q: statement }), signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  };

  beforeAll(async () => {
    // init: certificates (once) and Mosquitto's files from the config, as deploy/init/first-start.sh makes them
    execFileSync('sh', ['deploy/init/certificates.sh', tlsDir], { cwd: ROOT, stdio: 'pipe' });
    ca = readFileSync(join(tlsDir, 'ca.crt'));
    // Mosquitto drops to its own user here (compose's init chowns instead)
    chmodSync(dir, 0o755);
    chmodSync(tlsDir, 0o755);
    for (const f of readdirSync(tlsDir)) chmodSync(join(tlsDir, f), 0o644);

    await influx.start();
    const mqttPort = await freePort();
    const deployed = parseYaml(readFileSync(join(ROOT, 'deploy/aquawatch/config.yaml'), 'utf8')) as Record<string, any>;
    const configFor = async (service: 'ingest' | 'server', http: { port: number; ingestPort: number }) => {
      const cfg = structuredClone(deployed);
      cfg.dataDir = join(dir, `${service}-data`);
      cfg.state.path = join(dir, 'state', 'state.sqlite');
      cfg.http = { ...cfg.http, host: '127.0.0.1', ...http, tls: { cert: join(tlsDir, 'server.crt'), key: join(tlsDir, 'server.key') } };
      cfg.store.url = influx.url;
      cfg.broker.url = `mqtts://localhost:${mqttPort}`;
      cfg.broker.tls.ca = join(tlsDir, 'ca.crt');
      cfg.topology = TOPOLOGY;
      cfg.log = { level: 'warn' };
      const file = join(dir, `${service}.yaml`);
      writeFileSync(file, stringify(cfg));
      return file;
    };
    const ports = { port: await freePort(), ingestPort: await freePort() };
    const ingestConfig = await configFor('ingest', ports);
    const serverConfig = await configFor('server', ports);

    const authDir = join(dir, 'mosquitto-auth');
    execFileSync(process.execPath, ['bin/aquawatch.js', 'broker-auth', '--config', ingestConfig, '--out', authDir],
      { cwd: ROOT, env: { ...process.env, ...serviceEnv('ingest') }, stdio: 'pipe' });
    chmodSync(authDir, 0o755);
    broker = new MosquittoBroker({
      auth: { passwordFile: join(authDir, 'passwd'), aclFile: join(authDir, 'acl') },
      tls: { caFile: join(tlsDir, 'ca.crt'), certFile: join(tlsDir, 'mosquitto.crt'), keyFile: join(tlsDir, 'mosquitto.key') },
    });
    await broker.start(mqttPort);

    // influxdb image's first start: the database and the administrator, then service-users.sh
    runServiceUsersScript(influx, {
      admin: { user: SECRETS.INFLUXDB_ADMIN_USER, password: SECRETS.INFLUXDB_ADMIN_PASSWORD }, database: 'aquawatch', cwd: ROOT,
      passwords: { ingest: SECRETS.INFLUX_INGEST_PASSWORD, analytics: SECRETS.INFLUX_ANALYTICS_PASSWORD, reader: SECRETS.INFLUX_READER_PASSWORD },
    });

    await ensureWebBuilt();
    [dashboard, ingestApi] = await Promise.all([
      startService('server', serverConfig, children, serviceEnv('server')),
      startService('ingest', ingestConfig, children, serviceEnv('ingest')),
    ]);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    for (const c of clients) c.end(true);
    for (const c of children) c.kill('SIGKILL');
    await broker?.stop();
    await influx.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const sensorsClient = async () => {
    const c = await mqtt.connectAsync(broker.url, { username: 'network-sensors', password: SECRETS.MQTT_SENSORS_PASSWORD, ca, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };

  it('serves both HTTP APIs over TLS only, with certificates the internal CA vouches for', async () => {
    expect(dashboard).toMatch(/^https:\/\//);
    expect(ingestApi).toMatch(/^https:\/\//);
    const local = (u: string) => u.replace('127.0.0.1', 'localhost');
    expect((await httpsRequest(`${local(dashboard)}/health`, ca)).status).toBe(200);
    expect((await httpsRequest(`${local(ingestApi)}/health`, ca)).status).toBe(200);
    // the monitoring server's scrape of both, with the token: ingest's pipeline, the server's analytics
    const scrape = (base: string) => httpsRequest(`${local(base)}/metrics`, ca, { headers: { authorization: `Bearer ${SECRETS.AQUAWATCH_METRICS_TOKEN}` } });
    expect((await scrape(ingestApi)).body).toMatch(/^aquawatch_outbox_capacity \d+/m);
    expect((await scrape(dashboard)).body).toMatch(/^aquawatch_analytics_bus_connected 1$/m);
    // a client that does not trust the CA is refused (no plain fallback on the same port)
    await expect(fetch(`${local(dashboard)}/health`)).rejects.toThrow();
    await expect(fetch(`${dashboard.replace('https:', 'http:')}/health`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
  });

  it('gives the services InfluxDB users of least privilege: ingest cannot read, the reader cannot write, none administers (F21)', async () => {
    const ingestUser = { user: 'ingest', password: SECRETS.INFLUX_INGEST_PASSWORD };
    const reader = { user: 'reader', password: SECRETS.INFLUX_READER_PASSWORD };
    const analytics = { user: 'analytics', password: SECRETS.INFLUX_ANALYTICS_PASSWORD };
    expect((await influxQuery('DROP DATABASE aquawatch', ingestUser)).body).toMatch(/requires admin privilege|not authorized/);
    expect((await influxQuery('SHOW USERS', reader)).body).toMatch(/requires admin privilege|not authorized/);
    expect((await influxQuery('SELECT * FROM "aquawatch".."pressure"', ingestUser)).body).toMatch(/requires READ on aquawatch/);
    const write = (who: { user: string; password: string }, db: string) => fetch(`${influx.url}/write?db=${db}&precision=ms`, {
      method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${who.user}:${who.password}`).toString('base64')}` },
      body: `pressure,sensor=P1 value=9 ${Date.now()}`, signal: AbortSignal.timeout(10_000),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));
    expect((await write(reader, 'aquawatch')).body).toMatch(/not authorized to write/);
    expect((await write(analytics, 'aquawatch')).body).toMatch(/not authorized to write/);
  });

  it('refuses a device credential on the platform\'s topics', async () => {
    const platform = await mqtt.connectAsync(broker.url, { username: 'aquawatch', password: SECRETS.MQTT_PASSWORD, ca, reconnectPeriod: 0 });
    clients.push(platform);
    const got: string[] = [];
    platform.on('message', (topic) => got.push(topic));
    await platform.subscribeAsync(['aquawatch/v1/#', 'sensors/+/marker'], { qos: 1 });
    const forged = JSON.stringify({ id: 'burst:D1', type: 'burst', state: 'clear', ts: Date.now(), message: 'forged' });
    for (const topic of ['aquawatch/v1/conditions/forged', 'aquawatch/v1/telemetry/D1']) {
      // Mosquitto acknowledges a refused publish (MQTT 3.1.1 has no way to say no), drops it and
      // closes the connection: a publish done when it is acknowledged or the connection is gone
      const device = await sensorsClient();
      await Promise.race([device.publishAsync(topic, forged, { qos: 1 }).catch(() => undefined), new Promise<void>((r) => device.once('close', () => r()))]);
    }
    // Mosquitto routes a publish to its subscribers before acknowledging it: a message the device
    // sends afterwards, on its own topics, arrives after anything it sent before
    await (await sensorsClient()).publishAsync('sensors/P1/marker', 'x', { qos: 1 });
    await waitFor(() => got.includes('sensors/P1/marker'), 10_000, 20, 'the device\'s own message');
    expect(got.filter((t) => t.startsWith('aquawatch/v1/conditions/forged') || t === 'aquawatch/v1/telemetry/D1')).toEqual([]);
  });

  it('signs in over HTTPS in chromium, shows a live value, and a PDA token issued and revoked in the admin view works and stops working at ingest within 10 s (F20)', async () => {
    // chromium trusts exactly this certificate's key (as a PC with ca.crt installed would trust the site)
    const spki = createHash('sha256').update(createPublicKey(readFileSync(join(tlsDir, 'server.crt'))).export({ type: 'spki', format: 'der' })).digest('base64');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--ignore-certificate-errors-spki-list=${spki}`],
    });
    const page: Page = await (await browser.newContext()).newPage();
    const site = dashboard.replace('127.0.0.1', 'localhost');
    await page.goto(`${site}/`);
    expect(await page.locator('[data-demo-user]').count()).toBe(0);
    await page.fill('input[name="username"]', 'admin');
    await page.fill('input[name="password"]', SECRETS.AQUAWATCH_ADMIN_PASSWORD);
    await page.click('form.signin button[type="submit"]');
    await page.waitForSelector('.control-room[data-ready="yes"]', { timeout: 30_000 });
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.httpOnly)?.secure).toBe(true);

    // a field sensor publishes over MQTT/TLS with its own credential: ingest, the bus, the browser
    await page.waitForSelector('[data-testid="trend-pressure"][data-loaded="yes"]', { timeout: 30_000 });
    const sensor = await sensorsClient();
    const sent = new Set<string>();
    let step = 0;
    await waitFor(async () => {
      const value = Math.round(300 + ++step) / 1000; // MPa, a plausible network pressure
      sent.add(String(value));
      await sensor.publishAsync('sensors/P1/value', JSON.stringify({ v: value, t: Date.now() }), { qos: 1 });
      const shown = await page.getAttribute('[data-testid="trend-pressure"] li[data-sensor="P1"]', 'data-value');
      return shown !== null && sent.has(shown);
    }, 60_000, 500, 'a live pressure value on the control room');

    // the admin view issues a token for a PDA (server process, shared state database)
    await page.click('nav a[data-route="admin"]');
    const tokens = page.locator('section:has([data-testid="tokens-table"])');
    await tokens.locator('form input').fill('pda-07');
    await tokens.locator('form button[type="submit"]').click();
    const token = (await tokens.locator('code.secret').textContent({ timeout: 15_000 }))!.trim();
    expect(token.length).toBeGreaterThan(20);

    const upload = (reading: number) => httpsRequest(`${ingestApi.replace('127.0.0.1', 'localhost')}/api/v1/pda/readings`, ca, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ readerId: 'R-1', deviceId: 'pda-07', readings: [{ meter: 'M-1', reading, time: Date.now() - 60_000 }] }),
    });
    const accepted = await upload(12.5);
    expect(accepted.status, accepted.body).toBe(200);

    await tokens.locator('[data-testid="tokens-table"] tr', { hasText: 'pda-07' }).locator('button').click();
    await expect.poll(() => tokens.locator('[data-testid="tokens-table"] tr', { hasText: 'pda-07' }).count(), { timeout: 10_000 }).toBe(0);
    const revokedAt = Date.now();
    await waitFor(async () => (await upload(12.75)).status === 401, 10_000, 200, 'ingest to refuse the revoked token');
    expect(Date.now() - revokedAt).toBeLessThan(10_000);
  }, 180_000);
});
