/**
 * Measure sensor health on the scenario suite: `node --import tsx bench/detect/sensor-health.ts`.
 *
 * sensor-faults.yaml: for each injected fault, was it raised on that sensor, and how long after the
 * fault began; every other raise is a false alarm. The event scenarios (quiet week, bursts, leak,
 * pump trip, quality excursion): every spike or drift raise is a false alarm (none is injected).
 * Prints one JSON line per scenario and a summary line, and the replay cost per reading.
 */
import { SensorHealthDetector } from '../../analytics/detectors/sensor-health/index.ts';
import { runScenario } from '../../test/support/sim-drive.ts';

const SUITE = 'simulators/scenarios/suite';

async function faults(): Promise<Record<string, number>> {
  const started = Date.now();
  const run = await runScenario({ scenario: `${SUITE}/sensor-faults.yaml`, detectors: ({ topology }) => [new SensorHealthDetector({ topology })] });
  const wallMs = Date.now() - started;
  const raised = run.conditions.filter((c) => c.state === 'raise');
  const figures: Record<string, number> = {};
  const matched = new Set<string>();
  let found = 0;
  for (const g of run.groundTruth) {
    const sensor = g.expect.sensor as string | undefined ?? (g.expect.sensors as string[] | undefined)?.[0];
    const hit = raised.find((c) => c.type === g.type && c.sensor === sensor && c.ts >= g.start);
    if (hit) { found++; matched.add(hit.id + hit.ts); }
    figures[`delay_min.${g.type}`] = hit ? Math.round((hit.ts - g.start) / 60_000) : -1;
  }
  const extra = raised.filter((c) => !matched.has(c.id + c.ts));
  console.log(JSON.stringify({ scenario: 'sensor-faults', injected: run.groundTruth.length, found, delays: figures, otherRaises: extra.map((c) => `${c.id}@${new Date(c.ts).toISOString()}`), readings: run.readings, wallMs }));
  return { 'detect.sensor_fault_recall': found / run.groundTruth.length, 'detect.sensor_fault_false_raises': extra.length, ...Object.fromEntries(Object.entries(figures).map(([k, v]) => [`detect.sensor_fault_${k}`, v])) };
}

async function quiet(name: string): Promise<number> {
  const run = await runScenario({ scenario: `${SUITE}/${name}.yaml`, detectors: ({ topology }) => [new SensorHealthDetector({ topology })] });
  const raised = run.conditions.filter((c) => c.state === 'raise' && (c.type === 'sensor_spike' || c.type === 'sensor_drift'));
  console.log(JSON.stringify({ scenario: name, days: Math.round((run.end - run.start) / 86_400_000 * 10) / 10, spikeOrDriftRaises: raised.map((c) => `${c.id}@${new Date(c.ts).toISOString()}`) }));
  return raised.length;
}

const summary: Record<string, number> = await faults();
let falseRaises = 0;
for (const name of (process.argv[2] ?? 'quiet-week,burst,small-bursts,incipient-leak,pump-trip,quality-excursion,planned-outage,tank-drain').split(',')) falseRaises += await quiet(name);
summary['detect.sensor_spike_drift_false_raises_event_scenarios'] = falseRaises;
console.log(JSON.stringify(summary));
