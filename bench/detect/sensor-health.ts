/**
 * Measures sensor health on the scenario suite (`npm run bench -- detect:sensor-health`).
 *
 * sensor-faults.yaml: for each injected fault, was it raised on that sensor, and how long after the
 * fault began; every other raise is a false alarm. The event scenarios (quiet week, bursts, leak,
 * pump trip, quality excursion): every spike or drift raise is a false alarm (none is injected).
 * Returns the figures; logs one line per scenario with the detail and the replay cost.
 */
import { SensorHealthDetector } from '../../analytics/detectors/sensor-health/index.ts';
import { runScenario } from '../../test/support/sim-drive.ts';

const SUITE = 'simulators/scenarios/suite';
const EVENT_SCENARIOS = ['quiet-week', 'burst', 'small-bursts', 'incipient-leak', 'pump-trip', 'quality-excursion', 'planned-outage', 'tank-drain'];

async function faults(log: (line: string) => void): Promise<Record<string, number>> {
  const started = Date.now();
  const run = await runScenario({ scenario: `${SUITE}/sensor-faults.yaml`, detectors: ({ topology }) => [new SensorHealthDetector({ topology })] });
  const wallMs = Date.now() - started;
  const raised = run.conditions.filter((c) => c.state === 'raise');
  const delays: Record<string, number> = {};
  const matched = new Set<string>();
  let found = 0;
  for (const g of run.groundTruth) {
    const sensor = g.expect.sensor as string | undefined ?? (g.expect.sensors as string[] | undefined)?.[0];
    const hit = raised.find((c) => c.type === g.type && c.sensor === sensor && c.ts >= g.start);
    if (hit) { found++; matched.add(hit.id + hit.ts); }
    delays[`delay_min.${g.type}`] = hit ? Math.round((hit.ts - g.start) / 60_000) : -1;
  }
  const extra = raised.filter((c) => !matched.has(c.id + c.ts));
  log(JSON.stringify({ scenario: 'sensor-faults', injected: run.groundTruth.length, found, delays, otherRaises: extra.map((c) => `${c.id}@${new Date(c.ts).toISOString()}`), readings: run.readings, wallMs }));
  return { 'detect.sensor_fault_recall': found / run.groundTruth.length, 'detect.sensor_fault_false_raises': extra.length, ...Object.fromEntries(Object.entries(delays).map(([k, v]) => [`detect.sensor_fault_${k}`, v])) };
}

async function spikeOrDriftRaises(name: string, log: (line: string) => void): Promise<number> {
  const run = await runScenario({ scenario: `${SUITE}/${name}.yaml`, detectors: ({ topology }) => [new SensorHealthDetector({ topology })] });
  const raised = run.conditions.filter((c) => c.state === 'raise' && (c.type === 'sensor_spike' || c.type === 'sensor_drift'));
  log(JSON.stringify({ scenario: name, days: Math.round((run.end - run.start) / 86_400_000 * 10) / 10, spikeOrDriftRaises: raised.map((c) => `${c.id}@${new Date(c.ts).toISOString()}`) }));
  return raised.length;
}

/** Fault recall and delays on sensor-faults.yaml; spike and drift raises (all false) on the event scenarios. */
export async function measureSensorHealth(log: (line: string) => void, scenarios = EVENT_SCENARIOS): Promise<Record<string, number>> {
  const figures = await faults(log);
  let falseRaises = 0;
  for (const name of scenarios) falseRaises += await spikeOrDriftRaises(name, log);
  figures['detect.sensor_spike_drift_false_raises_event_scenarios'] = falseRaises;
  return figures;
}
