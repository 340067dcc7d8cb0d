/**
 * Measures the leak-change detector (slow leaks `leak_trend`, small abrupt leaks `abrupt_leak`) on
 * the simulator: a quarter of the demo town at 15-min data with two leaks growing over weeks and
 * three abrupt leaks of 2-4 m³/h, repaired after weeks (simulators/scenarios/bench/leaks-quarter.yaml).
 * Scored with analytics/scoring as the rule says (found within 14 days of the start of an
 * abrupt leak or the peak of a growing one; later alarms in its window are repeats; every other
 * alarm false), area by area. Deterministic (fixed scenario and seed); a few minutes.
 *
 *   npm run bench -- detect:leak-change
 */
import { LeakChangeDetector } from '../../analytics/detectors/leak-change/index.ts';
import { describeScore, estimatedStartOf, isRetraction, scoreAlarms, type TruthEvent } from '../../analytics/scoring/score.ts';
import { runScenario } from '../../test/support/sim-drive.ts';

const SCENARIO = new URL('../../simulators/scenarios/bench/leaks-quarter.yaml', import.meta.url).pathname;

export const LEAK_CHANGE_FIGURES = {
  found: 'detect.leak_change_found',
  leaks: 'detect.leak_change_leaks',
  false: 'detect.leak_change_false',
  delayAbrupt: 'detect.leak_change_delay_abrupt_median_h',
  delayIncipient: 'detect.leak_change_delay_incipient_median_d',
} as const;

export async function measureLeakChange(log: (line: string) => void): Promise<Record<string, number>> {
  const run = await runScenario({ scenario: SCENARIO, detectors: (ctx) => [new LeakChangeDetector(ctx)] });
  const truth: TruthEvent[] = run.groundTruth.filter((g) => g.type === 'burst' || g.type === 'leak').map((g) => ({
    id: `${g.id} (${g.dma}, ${g.magnitude} m³/h)`, area: g.dma, kind: g.type === 'burst' ? 'abrupt' : 'incipient',
    start: g.start, end: g.end, peak: g.type === 'leak' ? (g.expect.fullSizeFrom as number) : undefined,
  }));
  // a condition may be raised again after a clear: each raise's clear is the first one after it, and
  // a retraction is a clear that says so
  const alarms = run.conditions.filter((c) => c.state === 'raise').map((c) => {
    const clear = run.conditions.find((x) => x.id === c.id && x.state === 'clear' && x.ts >= c.ts);
    return {
      id: c.id, type: c.type, dma: c.dma, raisedAt: c.ts, estimatedStart: estimatedStartOf(c.evidence),
      retractedAt: clear && isRetraction(clear.evidence) ? clear.ts : undefined, clearedAt: clear?.ts,
    };
  });
  for (const c of run.conditions.filter((c) => c.state !== 'update')) {
    log(`${new Date(c.ts).toISOString().slice(0, 16)}Z ${c.state.padEnd(5)} ${c.id} ${JSON.stringify(c.evidence)}`);
  }
  const r = scoreAlarms(truth, alarms, { dataStart: run.start, dataEnd: run.end });
  for (const line of describeScore(r)) log(line);
  return {
    [LEAK_CHANGE_FIGURES.found]: r.found,
    [LEAK_CHANGE_FIGURES.leaks]: r.leaks,
    [LEAK_CHANGE_FIGURES.false]: r.falseAlarms.length,
    [LEAK_CHANGE_FIGURES.delayAbrupt]: r.delayAbruptMedianH,
    [LEAK_CHANGE_FIGURES.delayIncipient]: r.delayIncipientMedianD,
  };
}
