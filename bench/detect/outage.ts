/**
 * Measures the outage and quality detectors against the scenario suite's ground truth and returns
 * the figures (the names the detection benchmark uses):
 *
 *   npm run bench -- detect:outage
 *
 * Outage events are the ground-truth entries that expect an `outage` alarm (valve closures, planned
 * or not); recall counts those raised as `outage:<dma>` after their start, delay is raise − start,
 * class accuracy compares planned/unplanned and the cause code. Quality events are every expected
 * sensor of the quality ground truth, raised as `quality_<param>:<sensor>`.
 */
import { OutageDetector } from '../../analytics/detectors/outage/index.ts';
import { SensorHealthDetector } from '../../analytics/detectors/sensor-health/index.ts';
import { QualityDetector } from '../../analytics/detectors/quality/index.ts';
import { raises, runScenario } from '../../test/support/sim-drive.ts';
import { OutageRegister, type CauseCode } from '../../analytics/outages/register.ts';
import { Simulation } from '../../simulators/engine.ts';

const MIN = 60_000;
const SUITE = 'simulators/scenarios/suite';

export interface OutageMeasure { events: number; found: number; delaysMin: number[]; classedRight: number; detail: string[] }

export async function measureOutages(files = ['planned-outage.yaml', 'pump-trip.yaml', 'tank-drain.yaml', 'burst.yaml', 'quiet-week.yaml']): Promise<OutageMeasure> {
  const m: OutageMeasure = { events: 0, found: 0, delaysMin: [], classedRight: 0, detail: [] };
  for (const f of files) {
    const scenario = `${SUITE}/${f}`;
    const truth = new Simulation({ scenario }).groundTruth;
    const register = new OutageRegister(':memory:');
    // the register holds what the utility announced: the planned closures of the scenario
    for (const g of truth) {
      if (g.type === 'planned_outage') {
        register.createPlanned({ id: g.id, dmas: g.expect.dmas as string[], start: g.start, end: g.end ?? g.start + 24 * 60 * MIN, notifiedAt: g.expect.noticeAt as number, cause: g.expect.cause as CauseCode, reason: g.id });
      }
    }
    const run = await runScenario({
      scenario,
      detectors: ({ topology }) => {
        const health = new SensorHealthDetector({ topology });
        return [health, new OutageDetector({ topology, health }, { register, stationDmas: { PS1: ['hill'] } })];
      },
    });
    const outages = raises(run.conditions, 'outage');
    for (const g of truth.filter((x) => x.expect.alarm === 'outage')) {
      m.events++;
      const hit = outages.find((c) => c.dma === g.dma && c.ts >= g.start && (g.end === undefined || c.ts <= g.end));
      if (!hit) { m.detail.push(`${f} ${g.id}: missed`); continue; }
      m.found++;
      m.delaysMin.push((hit.ts - g.start) / MIN);
      const planned = g.expect.planned === true;
      const right = hit.evidence!.planned === planned && (!planned || hit.evidence!.cause === g.expect.cause);
      if (right) m.classedRight++;
      m.detail.push(`${f} ${g.id}: delay ${(hit.ts - g.start) / MIN} min, planned=${String(hit.evidence!.planned)} cause=${String(hit.evidence!.cause)}${right ? '' : ' (WRONG)'}`);
    }
    // outages raised where the truth has none (a pump trip emptying a tank does cut Hill off: counted apart)
    for (const c of outages) {
      if (!truth.some((g) => g.expect.alarm === 'outage' && g.dma === c.dma && c.ts >= g.start)) {
        m.detail.push(`${f} outage:${c.dma} at ${new Date(c.ts).toISOString()} not in the truth as an outage (cause ${String(c.evidence!.cause)})`);
      }
    }
    register.close();
  }
  return m;
}

export async function measureQuality(): Promise<{ events: number; found: number; delaysFromStartMin: number[] }> {
  const run = await runScenario({
    scenario: `${SUITE}/quality-excursion.yaml`,
    detectors: ({ topology }) => {
      const health = new SensorHealthDetector({ topology });
      return [health, new QualityDetector({ topology, health })];
    },
  });
  let events = 0; let found = 0; const delays: number[] = [];
  for (const g of run.groundTruth) {
    const param = g.type === 'quality_chlorine_low' ? 'chlorine' : 'turbidity';
    for (const sensor of g.expect.sensors as string[]) {
      events++;
      const hit = run.conditions.find((c) => c.id === `quality_${param}:${sensor}` && c.state === 'raise' && c.ts >= g.start);
      if (hit) { found++; delays.push((hit.ts - g.start) / MIN); }
    }
  }
  return { events, found, delaysFromStartMin: delays };
}

/** Outage recall, delay and class, and quality recall, on the suite. */
export async function measureOutagesAndQuality(log: (line: string) => void): Promise<Record<string, number>> {
  const o = await measureOutages();
  const q = await measureQuality();
  for (const d of o.detail) log(d);
  log(`quality: ${q.found}/${q.events} raised; delays from the event start (min): ${q.delaysFromStartMin.join(', ')}`);
  return {
    'detect.outage_recall': o.events ? o.found / o.events : 1,
    'detect.outage_delay_max_min': o.delaysMin.length ? Math.max(...o.delaysMin) : 0,
    'detect.outage_class_accuracy': o.found ? o.classedRight / o.found : 1,
    'detect.quality_recall': q.events ? q.found / q.events : 1,
  };
}
