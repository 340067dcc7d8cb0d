/**
 * The large city at scale (`npm run bench -- simulate`): `aquawatch simulate --city large`'s fleet
 * (simulators/large-city: 6,239 sensors and 99,650 AMR meters) against a split platform, each part
 * its own process as deployed: Mosquitto, `aquawatch ingest` and `aquawatch server` (analytics with
 * the dashboard), on an embedded SQLite store.
 * - simulate.large_city_readings_per_s: the simulator (in this process) at `max` speed over the
 *   last `backfillMin` minutes, generating and publishing every report (MQTT to the broker with
 *   QoS 1 acknowledgements, OPC UA, AMR batches answered by the ingest's PDA API): readings / wall s;
 * - then real time: the CPU of the ingest and of the server process (/proc/PID/stat, the same
 *   user + system time process.cpuUsage gives inside them) over `windowS` seconds while they
 *   consume the live feed, as CPU-seconds per second per 10,000 sensors and meters
 *   (simulate.large_city_ingest_cpu_per_10k, simulate.large_city_analytics_cpu_per_10k), the
 *   simulator's own CPU in % of one core, and its largest lag behind real time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/log.ts';
import { amrCity } from '../simulators/large-city/plan.ts';
import { LargeCitySimulator } from '../simulators/large-city/simulator.ts';
import { MosquittoBroker } from '../test/support/mosquitto.ts';
import { freePort } from '../test/support/ports.ts';

export interface LargeCityFigures {
  sensors: number;
  fleetReadingsPerS: number;
  backfillReadings: number;
  readingsPerS: number;
  ingestCpuPer10k: number;
  analyticsCpuPer10k: number;
  simulatorCpuPct: number;
  maxLagMs: number;
  liveReadings: number;
  rejectedOrRefused: number;
  /**
   * Readings the ingest stored, and the analytics worker received (on time, or behind its watermark:
   * the backfill's readings from before the server started, and AMR reads in late batches), of those
   * the simulator sent.
   */
  storedFraction: number;
  analysedFraction: number;
}

const HZ = 100; // USER_HZ on Linux

function cpuSecondsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / HZ; // utime + stime (fields 14 and 15)
}

/** Starts `aquawatch <command> --config FILE` and resolves when it prints its ready line. */
function startService(command: 'ingest' | 'server', configFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/aquawatch.js', command, '--config', configFile], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AQUAWATCH_LOG_LEVEL: 'warn' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('"ready":true')) { child.stdout!.off('data', onData); child.stdout!.resume(); resolve(child); }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (c) => reject(new Error(`aquawatch ${command} exited ${c} before it was ready: ${out.slice(-500)}`)));
  });
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function measureLargeCity(o: { backfillMin: number; windowS: number; log?: (line: string) => void }): Promise<LargeCityFigures> {
  const say = o.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-large-'));
  const broker = new MosquittoBroker();
  let ingest: ChildProcess | undefined;
  let server: ChildProcess | undefined;
  let sim: LargeCitySimulator | undefined;
  try {
    await broker.start();
    const t0 = performance.now();
    const city = amrCity();
    const now = Date.now();
    sim = new LargeCitySimulator({ city, dataDir: join(dir, 'sim'), from: now - o.backfillMin * 60_000, log: silentLogger });
    await sim.open();
    say(`city and model ready in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${city.sensors.length} sensors, ${city.meters.length} AMR meters, ${sim.plan.readingsPerS.toFixed(1)} readings/s`);
    const ingestPort = await freePort();
    const httpPort = await freePort();
    const configFile = join(dir, 'platform.json');
    writeFileSync(configFile, JSON.stringify(sim.platformConfig({
      dataDir: join(dir, 'platform'), broker: { url: broker.url }, log: { level: 'warn' },
      http: { host: '127.0.0.1', port: httpPort, ingestPort },
    })));
    ingest = await startService('ingest', configFile);
    server = await startService('server', configFile);
    await sim.connect({ brokerUrl: broker.url, httpBase: `http://127.0.0.1:${ingestPort}` });
    say('platform (ingest, server) ready and devices connected');

    // the simulator at full speed over the last backfillMin minutes, up to now
    const b0 = performance.now();
    const backfill = await sim.run('max', Date.now());
    const backfillS = (performance.now() - b0) / 1000;
    const backfillReadings = backfill.readings;
    say(`backfill: ${backfillReadings} readings in ${backfillS.toFixed(1)} s (generating ${(backfill.generateMs / 1000).toFixed(1)} s, ${backfill.hydraulicSolves} hydraulic solutions)`);

    // then live: the platform consuming the feed in real time
    const live = sim.run('realtime');
    await new Promise((r) => setTimeout(r, 15_000)); // the backfill's tail drains first
    const before = { ingest: cpuSecondsOf(ingest.pid!), server: cpuSecondsOf(server.pid!), sim: process.cpuUsage(), readings: sim.stats.readings, at: performance.now() };
    sim.stats.maxLagMs = 0;
    await new Promise((r) => setTimeout(r, o.windowS * 1000));
    const seconds = (performance.now() - before.at) / 1000;
    const ingestCpu = (cpuSecondsOf(ingest.pid!) - before.ingest) / seconds;
    const serverCpu = (cpuSecondsOf(server.pid!) - before.server) / seconds;
    const simCpu = process.cpuUsage(before.sim);
    const liveReadings = sim.stats.readings - before.readings;
    const maxLagMs = sim.stats.maxLagMs;
    await sim.stop();
    await live;
    const per10k = sim.size / 10_000;
    // everything sent reached the store and the analytics (wait for the tail, at most a minute)
    const sent = sim.stats.readings;
    const stored = async () => Number(/^aquawatch_readings_stored_total (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${ingestPort}/metrics`)).text())?.[1] ?? 0);
    // (AMR reads arriving behind the watermark go to the meter detectors as late meter readings;
    // the backfill's sensor readings from before the server started are late and not analysed)
    const analysed = async () => {
      const { analytics } = (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as { analytics: { readings: number; lateMeterReadings: number; late: number } };
      return analytics.readings + analytics.lateMeterReadings + analytics.late;
    };
    for (let waited = 0; waited < 60_000 && ((await stored()) < sent || (await analysed()) < sent); waited += 1000) await new Promise((r) => setTimeout(r, 1000));
    const storedFraction = (await stored()) / sent;
    const analysedFraction = (await analysed()) / sent;
    say(`live ${seconds.toFixed(0)} s: ${liveReadings} readings (${(liveReadings / seconds).toFixed(1)}/s); ingest ${(100 * ingestCpu).toFixed(1)} % of a core, `
      + `server ${(100 * serverCpu).toFixed(1)} %, simulator ${((100 * (simCpu.user + simCpu.system)) / 1e6 / seconds).toFixed(1)} %; largest lag ${maxLagMs.toFixed(0)} ms; `
      + `of ${sent} readings sent, ${(100 * storedFraction).toFixed(2)} % stored, ${(100 * analysedFraction).toFixed(2)} % received by the analytics`);
    return {
      sensors: sim.size, fleetReadingsPerS: sim.plan.readingsPerS, backfillReadings, readingsPerS: backfillReadings / backfillS,
      ingestCpuPer10k: ingestCpu / per10k, analyticsCpuPer10k: serverCpu / per10k,
      simulatorCpuPct: (100 * (simCpu.user + simCpu.system)) / 1e6 / seconds, maxLagMs, liveReadings,
      rejectedOrRefused: sim.headEndStats?.refused ?? 0, storedFraction, analysedFraction,
    };
  } finally {
    await sim?.stop().catch(() => undefined);
    await stopChild(server);
    await stopChild(ingest);
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
