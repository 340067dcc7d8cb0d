/**
 * The README's first command: `aquawatch start` with no configuration starts the whole platform
 * with simulators on embedded defaults, prints the dashboard's address, fills the store, and stops
 * cleanly on SIGTERM, with no warning logged while it stops.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../support/ports.ts';

describe('aquawatch start (demo)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => { if (child && child.exitCode === null) child.kill('SIGKILL'); });

  it('prints the dashboard address, serves health and status, stores simulated readings, stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aw-start-'));
    const httpPort = await freePort();
    const mqttPort = await freePort();
    child = spawn(process.execPath, ['bin/aquawatch.js', 'start', '--data-dir', dataDir, '--http-port', String(httpPort), '--mqtt-port', String(mqttPort)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AQUAWATCH_LOG_LEVEL: 'warn' } });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { out += d; });
    await waitFor(() => out.includes('dashboard:') && out.includes('simulators:'), 60_000, 100, 'the dashboard address and the simulators');
    expect(out).toContain(`dashboard: http://127.0.0.1:${httpPort}/`);
    expect(out).toContain(`MQTT:      mqtt://127.0.0.1:${mqttPort} (embedded)`);
    expect(out).toMatch(/simulators: opc\.tcp:\/\/127\.0\.0\.1:\d+ \(plant OPC UA\)/);

    const base = `http://127.0.0.1:${httpPort}`;
    // readings from every protocol reach the store while the 7-day backfill runs
    const stored = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const v = (src: string) => Number(new RegExp(`aquawatch_readings_in_total\\{source="${src}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return { plant: v('plant'), mqtt: v('demo-mqtt'), sparkplug: v('demo-sparkplug'), pda: v('pda'), stored: Number(/^aquawatch_readings_stored_total (\d+)/m.exec(text)?.[1] ?? 0) };
    };
    await waitFor(async () => { const s = await stored(); return s.plant > 0 && s.mqtt > 0 && s.sparkplug > 0 && s.pda > 0 && s.stored > 10_000; }, 90_000, 500, 'readings from OPC UA, MQTT, Sparkplug B and PDA stored');
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    const h = await health.json() as { sources: { name: string; state: string }[]; analytics: { busConnected: boolean; watermark: string } };
    expect(h.sources.map((s) => [s.name, s.state]).sort()).toEqual([['demo-mqtt', 'connected'], ['demo-sparkplug', 'connected'], ['plant', 'connected']]);
    // analytics in the same process: its state in /health, its metrics in the one /metrics
    expect(h.analytics).toMatchObject({ busConnected: true, watermark: expect.stringMatching(/^20\d\d-/) });
    await waitFor(async () => /^aquawatch_analytics_readings_total [1-9]/m.test(await (await fetch(`${base}/metrics`)).text()), 30_000, 500, 'readings analysed, in /metrics');
    // the old status page moved to /status when the dashboard took `/`
    const page = await (await fetch(`${base}/status`)).text();
    expect(page).toContain('最新值 Latest values');
    expect(page).toMatch(/分析 Analytics: <b class="(ok|degraded)">/);
    expect(page).toMatch(/P-n\d+/);
    const info = await (await fetch(`${base}/api/v1/auth/info`)).json() as { mode: string; demoUsers: { role: string }[] };
    expect(info.mode).toBe('demo');
    expect(info.demoUsers.map((u) => u.role)).toContain('dispatcher');

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    const beforeStop = out.length;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // the simulated devices stop after the platform: their goodbyes (Sparkplug NDEATH, the plant's OPC UA
    // session ending) are not logged as field faults, nor is an MQTT client's ack after its goodbye
    const warnings = out.slice(beforeStop).split('\n').filter((l) => /"level":(40|50|60)/.test(l));
    expect(warnings).toEqual([]);
  }, 150_000);
});
