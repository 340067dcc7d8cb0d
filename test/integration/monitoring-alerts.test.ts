/**
 * The shipped alert rules (deploy/monitoring/aquawatch-alerts.yml) work on the platform's real metrics.
 * vmalert accepts the file, and rejects a copy with a broken expression (so the check can fail).
 * A real analytics worker on a real Mosquitto, its /metrics scraped by a real VictoriaMetrics and the
 * rules evaluated by a real vmalert: no alert fires while all is well; the calendar-ending, analysis-
 * behind, bus-disconnected and process-down alerts each fire, labels and summaries filled in, when
 * the test makes their condition true.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { topologySchema } from '../../core/config/schema.ts';
import { Topology } from '../../core/topology/topology.ts';
import { AlarmStore } from '../../core/state/alarm-store.ts';
import { AlarmManager } from '../../analytics/alarms/manager.ts';
import { AnalyticsWorker } from '../../analytics/worker.ts';
import { registerAnalyticsMetrics } from '../../analytics/metrics.ts';
import { MosquittoBroker } from '../support/mosquitto.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { VICTORIA_METRICS_BIN, VictoriaMetricsServer } from '../support/victoria-metrics.ts';
import { VMALERT_BIN, VmAlertServer, vmalertDryRun, type VmAlertAlert } from '../support/vmalert.ts';

const RULES = join(import.meta.dirname, '../../deploy/monitoring/aquawatch-alerts.yml');
const HOUR = 3_600_000;
const WAIT_MS = 30_000;
const POLL_MS = 200;

/** CI installs victoria-metrics (VictoriaMetrics and vmalert): missing, the file fails rather than skips. */
function requireVictoriaMetricsTools(): void {
  const missing = [!VICTORIA_METRICS_BIN && 'victoria-metrics', !VMALERT_BIN && 'vmalert'].filter(Boolean);
  if (missing.length) throw new Error(`${missing.join(' and ')} not found: apt-get install victoria-metrics (the monitoring rules are tested with it)`);
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try { await c(); } catch (e) { console.warn(`cleanup failed: ${(e as Error).message}`); }
  }
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aw-monitoring-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('deploy/monitoring/aquawatch-alerts.yml: vmalert -dryRun', () => {
  it('accepts the shipped rules and refuses a copy with one expression broken', () => {
    requireVictoriaMetricsTools();
    const ok = vmalertDryRun([RULES]);
    expect(ok.error).toBeUndefined();
    expect(ok.status, `vmalert -dryRun: ${ok.stderr}`).toBe(0);

    const text = readFileSync(RULES, 'utf8');
    const good = 'expr: aquawatch_analytics_bus_connected == 0';
    expect(text).toContain(good);
    const broken = join(tempDir(), 'broken.yml');
    writeFileSync(broken, text.replace(good, 'expr: aquawatch_analytics_bus_connected == (0'));
    const bad = vmalertDryRun([broken]);
    expect(bad.error).toBeUndefined();
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/AquawatchAnalyticsBusDisconnected|aquawatch_analytics_bus_connected/);
  });
});

const topology = new Topology(topologySchema.parse({
  sites: [{ id: 'net' }],
  dmas: [{ id: 'central', inlets: ['F-1'] }],
  sensors: [
    { id: 'F-1', kind: 'flow', site: 'net', dma: 'central', unit: 'm3/h' },
    { id: 'P-1', kind: 'pressure', site: 'net', dma: 'central', unit: 'MPa' },
  ],
}));

describe('deploy/monitoring/aquawatch-alerts.yml against the real metrics (Mosquitto, worker, VictoriaMetrics, vmalert)', () => {
  it('fires no alert while all is well, then each alert when its condition is made true', async () => {
    requireVictoriaMetricsTools();
    const dir = tempDir();

    // --- the analytics worker on a real broker, its metrics at /metrics -------------------------
    const broker = new MosquittoBroker();
    cleanups.push(() => rmSync(broker.dir, { recursive: true, force: true }));
    cleanups.push(() => broker.stop());
    await broker.start();
    const store = new AlarmStore(':memory:');
    cleanups.push(() => store.close());
    const alarms = new AlarmManager({ store });
    let wall = Date.now(); // the wall clock the worker and its metrics read: moved by the test
    const wallClock = () => wall;
    const worker = new AnalyticsWorker({ topology, detectors: [], alarms, allowedLatenessMs: 0, wallClock });
    worker.startAt(wall);
    await worker.start(broker.url, { idleAdvanceMs: 0, flushDerivedMs: 0, clientId: `monitoring-alerts-${process.pid}` });
    cleanups.push(() => worker.stop());
    expect(worker.connected).toBe(true);

    let daysLeft = 200;
    const registry = new Registry();
    cleanups.push(registerAnalyticsMetrics(registry, { worker, alarms, calendarDaysLeft: () => daysLeft, wallClock }));
    const app = Fastify();
    app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
    const metricsPort = await freePort();
    await app.listen({ host: '127.0.0.1', port: metricsPort });
    cleanups.push(() => app.close());
    const instance = `127.0.0.1:${metricsPort}`;

    // --- VictoriaMetrics scraping it every second ---------------------------------------------
    const scrapeConfig = join(dir, 'scrape.yml');
    writeFileSync(scrapeConfig, [
      'scrape_configs:',
      '  - job_name: aquawatch-server',
      '    scrape_interval: 1s',
      '    scrape_timeout: 1s',
      '    static_configs:',
      `      - targets: ['${instance}']`,
      '',
    ].join('\n'));
    const vm = new VictoriaMetricsServer({
      extraArgs: [
        `-promscrape.config=${scrapeConfig}`,
        // Instant queries near "now" are otherwise answered as of 30 s ago (the default), so each
        // change would reach vmalert half a minute late.
        '-search.latencyOffset=0s',
      ],
    });
    cleanups.push(() => vm.dispose());
    await vm.start();

    // --- vmalert on a copy of the rules with every `for:` set to 0s ----------------------------
    // The shipped `for:` durations are minutes (a reconnect, a backlog must last before anyone is
    // called); this test checks the expressions, labels and templates against the real metrics,
    // not the waiting, which is vmalert's own behaviour.
    const shipped = readFileSync(RULES, 'utf8');
    const forLines = shipped.match(/^\s*for:\s*\S+\s*$/gm) ?? [];
    expect(forLines.length).toBeGreaterThan(0);
    const rulesCopy = join(dir, 'aquawatch-alerts.yml');
    writeFileSync(rulesCopy, shipped.replace(/^(\s*)for:\s*\S+\s*$/gm, '$1for: 0s'));
    const vmalert = new VmAlertServer({ rules: [rulesCopy], datasourceUrl: vm.url, evaluationInterval: '1s' });
    cleanups.push(() => vmalert.dispose());
    await vmalert.start();

    // --- all well: once vmalert has evaluated every rule on scraped data, nothing is active -----
    const query = async (expr: string) => {
      const res = await fetch(`${vm.url}/api/v1/query?${new URLSearchParams({ query: expr })}`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`VictoriaMetrics query ${expr}: HTTP ${res.status} ${await res.text()}`);
      const body = await res.json() as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return body.data.result;
    };
    // A new series becomes searchable when VictoriaMetrics flushes its index (about 10 s here);
    // force_flush makes the first scrape visible at once, to vmalert as well.
    await waitFor(async () => {
      await vm.forceFlush();
      return (await query('aquawatch_analytics_bus_connected{job="aquawatch-server"}')).some((r) => r.value[1] === '1');
    }, WAIT_MS, POLL_MS, 'VictoriaMetrics to have scraped aquawatch_analytics_bus_connected = 1');
    // vmalert queries at its evaluation time rounded down to the interval (1 s): an evaluation that
    // started more than 1 s after VictoriaMetrics answered sees at least what it answered.
    const scraped = Date.now();
    type Rule = { name: string; health: string; lastError: string; lastEvaluation: string };
    const rules = () => vmalert.groups().then((gs) => (gs as { rules: Rule[] }[]).flatMap((g) => g.rules));
    const evaluated = await waitFor(async () => {
      const all = await rules();
      return all.length > 0 && all.every((r) => Date.parse(r.lastEvaluation) > scraped + 1000) ? all : undefined;
    }, WAIT_MS, POLL_MS, 'vmalert to evaluate every rule after the first scrape');
    expect(evaluated!.filter((r) => r.health !== 'ok' || r.lastError), vmalert.log).toEqual([]);
    expect(await vmalert.alerts()).toEqual([]);

    let lastSeen: unknown = [];
    const firing = async (name: string): Promise<VmAlertAlert> => {
      const alert = await waitFor(async () => {
        const alerts = await vmalert.alerts();
        lastSeen = alerts;
        return alerts.find((a) => a.name === name && a.state === 'firing');
      }, WAIT_MS, POLL_MS, `${name} firing`).catch((e: Error) => {
        throw new Error(`${e.message}\nactive alerts: ${JSON.stringify(lastSeen)}\nvmalert log: ${vmalert.log.slice(-1000)}`);
      });
      return alert!;
    };
    /** Alerts whose condition the test has not made true yet are not active (checked once the last change has fired). */
    const notFiring = async (...names: string[]) =>
      expect((await vmalert.alerts()).filter((a) => names.includes(a.name)).map((a) => `${a.name} ${a.state}`)).toEqual([]);

    // --- the site calendar ends in 10 days ------------------------------------------------------
    daysLeft = 10;
    const calendar = await firing('AquawatchCalendarEnding');
    expect(calendar.labels).toMatchObject({ alertname: 'AquawatchCalendarEnding', severity: 'warning', job: 'aquawatch-server', instance });
    expect(calendar.value).toBe('10');
    expect(calendar.annotations.summary).toBe('节假日历即将到期 The site calendar ends in 10 days');
    await notFiring('AquawatchAnalyticsBehind', 'AquawatchAnalyticsBusDisconnected');

    // --- the wall clock an hour past the watermark ---------------------------------------------
    wall += HOUR;
    expect(worker.health().behindSeconds).toBe(3600);
    const behind = await firing('AquawatchAnalyticsBehind');
    expect(behind.labels).toMatchObject({ severity: 'critical', job: 'aquawatch-server', instance });
    expect(behind.value).toBe('3600');
    expect(behind.annotations.summary).toBe('分析滞后 Analysis is 1h 0m 0s behind live');
    expect(behind.annotations.description).toContain(`Alarms on ${instance} come that much late`);
    await notFiring('AquawatchAnalyticsBusDisconnected');

    // --- the broker gone ------------------------------------------------------------------------
    await broker.stop();
    await waitFor(() => !worker.connected, WAIT_MS, POLL_MS, 'the worker to lose the bus');
    const bus = await firing('AquawatchAnalyticsBusDisconnected');
    expect(bus.labels).toMatchObject({ severity: 'critical', job: 'aquawatch-server', instance });
    expect(bus.annotations.description).toContain(`no alarm is raised on ${instance} while the bus is lost`);

    // --- /metrics gone: the scrape fails, up = 0 ----------------------------------------------
    await app.close();
    const down = await firing('AquawatchProcessDown');
    expect(down.labels).toMatchObject({ severity: 'critical', job: 'aquawatch-server', instance });
    expect(down.annotations.summary).toBe(`进程无响应 aquawatch-server on ${instance} does not answer its scrape`);

    // and each reached the notifier with its labels and summary rendered
    const notified = await waitFor(() => {
      const byName = new Map(vmalert.notified.map((a) => [a.labels.alertname, a]));
      return ['AquawatchAnalyticsBehind', 'AquawatchAnalyticsBusDisconnected', 'AquawatchCalendarEnding', 'AquawatchProcessDown'].every((n) => byName.has(n)) ? byName : undefined;
    }, WAIT_MS, POLL_MS, 'the four alerts at the notifier');
    expect(notified!.get('AquawatchCalendarEnding')!.annotations.summary).toBe(calendar.annotations.summary);
    expect(notified!.get('AquawatchProcessDown')!.labels).toMatchObject({ job: 'aquawatch-server', instance, severity: 'critical' });
  }, 120_000);
});
