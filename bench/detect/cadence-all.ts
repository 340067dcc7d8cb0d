/**
 * Every detector at coarse data (#12.2): each scenario of the suite driven through the real worker,
 * alarm manager and detector registry after two weeks of lead-in, once with the simulator's 1-min
 * readings and once with one instantaneous sample every 15 minutes of every sensor (meters as they
 * are; the topology still declaring 60 s, as a utility's 15-min export imported into it would be).
 * The alarms raised in the scenario's own days are compared by type: what 15-min data raises that
 * 1-min data does not (`detect.cadence_all_extra_15min`) and what it misses
 * (`detect.cadence_all_missing_15min`), each summed over the scenarios, with each scenario's counts in
 * the log. Not in the `detect` suite (about 6 minutes); its figures are quoted in the README.
 *
 *   npm run bench -- detect:cadence-all
 */
import type { Point } from '../../core/model/reading.ts';
import { CUSTOMER_SITE, Topology } from '../../core/topology/topology.ts';
import { AlarmStore } from '../../core/state/alarm-store.ts';
import { Simulation } from '../../simulators/engine.ts';
import { AlarmManager } from '../../analytics/alarms/manager.ts';
import { createDetectors } from '../../analytics/detectors/index.ts';
import { AnalyticsWorker } from '../../analytics/worker.ts';
import { SUITE_DIR } from './fingerprint.ts';

const DAY = 86_400_000;
const LEAD_IN_MS = 14 * DAY;
/** The suite's scenarios but the demo (a showcase of everything at once). */
const SCENARIOS = ['quiet-week', 'burst', 'small-bursts', 'incipient-leak', 'pump-trip', 'planned-outage', 'tank-drain', 'network-event', 'comms-loss', 'quality-excursion', 'sensor-faults'];
const FIXED_NOW = Date.parse('2024-05-13T00:00:00+08:00');

/** Alarms raised by type in the scenario's days, every sensor sampled every `everyMin` minutes. */
export async function alarmsAt(scenario: string, everyMin: number): Promise<Record<string, number>> {
  const file = `${SUITE_DIR}/${scenario}.yaml`;
  const { start, end } = new Simulation({ scenario: file, now: FIXED_NOW }).scenario;
  const sim = new Simulation({ scenario: file, now: FIXED_NOW, from: start - LEAD_IN_MS, to: end });
  const topology = new Topology(sim.topology());
  const store = new AlarmStore(':memory:');
  const alarms = new AlarmManager({ store, now: () => 0 });
  const detectors = createDetectors({ topology, timezone: sim.scenario.timezone });
  const worker = new AnalyticsWorker({ topology, detectors: detectors.all, alarms, timezone: sim.scenario.timezone, allowedLatenessMs: 0, stepMs: 60_000 });
  const raised: Record<string, number> = {};
  alarms.on('transition', (t) => {
    if (t.kind === 'raise' && t.alarm.raisedAt >= start) raised[t.alarm.type] = (raised[t.alarm.type] ?? 0) + 1;
  });
  const every = everyMin * 60_000;
  let last = Number.NaN;
  try {
    for await (const step of sim.steps()) {
      if (Number.isNaN(last)) worker.startAt(step.ts);
      last = step.ts;
      const points: Point[] = [];
      for (const s of step.samples) {
        if (s.ts % every !== 0) continue;
        const info = topology.sensors.get(s.sensor)!;
        points.push({ measurement: info.kind, sensor: s.sensor, ts: s.ts, value: info.convert(s.value), quality: s.quality, site: info.site, dma: info.dma });
      }
      for (const m of step.meters) {
        points.push({ measurement: 'meter', sensor: m.meter, ts: m.ts, value: m.reading, quality: 'good', site: CUSTOMER_SITE, dma: topology.meters.get(m.meter)?.dma ?? '' });
      }
      worker.feedPoints(points);
      worker.drainDerived();
    }
    worker.flush(last + 60_000);
  } finally {
    sim.close();
    store.close();
  }
  return raised;
}

export async function measureEveryDetectorAt15Min(log: (line: string) => void): Promise<Record<string, number>> {
  let extra = 0;
  let missing = 0;
  for (const scenario of SCENARIOS) {
    const fine = await alarmsAt(scenario, 1);
    const coarse = await alarmsAt(scenario, 15);
    const types = [...new Set([...Object.keys(fine), ...Object.keys(coarse)])].sort();
    const more = Object.fromEntries(types.filter((t) => (coarse[t] ?? 0) > (fine[t] ?? 0)).map((t) => [t, (coarse[t] ?? 0) - (fine[t] ?? 0)]));
    const fewer = Object.fromEntries(types.filter((t) => (coarse[t] ?? 0) < (fine[t] ?? 0)).map((t) => [t, (fine[t] ?? 0) - (coarse[t] ?? 0)]));
    extra += Object.values(more).reduce((a, b) => a + b, 0);
    missing += Object.values(fewer).reduce((a, b) => a + b, 0);
    log(JSON.stringify({ scenario, raised1min: fine, raised15min: coarse, moreAt15min: more, fewerAt15min: fewer }));
  }
  return { 'detect.cadence_all_extra_15min': extra, 'detect.cadence_all_missing_15min': missing };
}
