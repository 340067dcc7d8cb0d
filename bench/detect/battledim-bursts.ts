/**
 * What a burst must be for the burst detector to see it on a real utility's data: BattLeDIM's
 * L-Town SCADA for January–June 2019 (5-min flows, tank T1's level read to 1 cm; the reference data
 * folder, core/reference-data.ts) with 2-hour bursts added to the main p227's flow, one every
 * 2 days 7 h 5 min from January 10 (74, walking through the hours of the day and the weekdays), of
 * 20, 30 and 50 m³/h (10, 15 and 25 % of the mean inflow). The burst detector alone, fed the
 * readings directly (no import, no store); a raise within 2.5 h of a burst's start finds it, every
 * other raise is counted apart (the data's own leaks and noise among them). One JSON line per size.
 * Not part of `npm run bench -- detect`: its figures are quoted in analytics/detectors/burst/README.md.
 *
 *   node --import tsx bench/detect/battledim-bursts.ts
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Topology } from '../../core/topology/topology.ts';
import { topologySchema } from '../../core/config/schema.ts';
import type { Point } from '../../core/model/reading.ts';
import type { Condition } from '../../analytics/types.ts';
import { referenceFile } from '../../core/reference-data.ts';
import { BurstDetector } from '../../analytics/detectors/burst/index.ts';
import { battledimTopology, tankDiameter } from './battledim.ts';

const INTERVAL_MS = 300_000;
const BURST_MS = 2 * 3_600_000;
const FOUND_WITHIN_MS = 2.5 * 3_600_000;
const FIRST = Date.parse('2019-01-10T00:00:00Z');
const LAST = Date.parse('2019-06-28T00:00:00Z');
const EVERY_MS = 2 * 86_400_000 + 7 * 3_600_000 + 5 * 60_000;

/** `Timestamp;a;b` rows with decimal commas, as BattLeDIM writes them (UTC). */
export function readBattledimCsv(file: string): { ts: number; values: number[] }[] {
  return readFileSync(file, 'utf8').trim().split('\n').slice(1).map((line) => {
    const [stamp, ...cells] = line.split(';');
    return { ts: Date.parse(`${stamp.replace(' ', 'T')}Z`), values: cells.map((c) => Number(c.replace(',', '.'))) };
  });
}

export function injectedBurstStarts(): number[] {
  const starts: number[] = [];
  for (let t = FIRST; t < LAST; t += EVERY_MS) starts.push(Math.floor(t / INTERVAL_MS) * INTERVAL_MS);
  return starts;
}

export function measureInjectedBursts(sizeM3h: number): { sizeM3h: number; bursts: number; found: number; delayMedianMin: number; otherRaises: number } {
  const topology = new Topology(topologySchema.parse(battledimTopology(tankDiameter(readFileSync(referenceFile('ltown'), 'utf8')))));
  const flows = readBattledimCsv(referenceFile('battledim-flows'));
  const levels = new Map(readBattledimCsv(referenceFile('battledim-levels')).map((r) => [r.ts, r.values[0]]));
  const starts = injectedBurstStarts();
  const detector = new BurstDetector({ topology, health: { isFaulty: () => false }, timezone: 'UTC' }, { emitInflow: false });
  const raised: Condition[] = [];
  const point = (sensor: string, measurement: string, ts: number, value: number): Point => ({ measurement, sensor, ts, value, quality: 'good', site: 'ltown', dma: 'ltown' });
  let next = 0;
  for (const { ts, values: [p227, p235, pump] } of flows) {
    while (next < starts.length && starts[next] + BURST_MS <= ts) next++;
    const burst = next < starts.length && ts >= starts[next] ? sizeM3h : 0;
    const level = levels.get(ts);
    const batch = [point('ltown-p227', 'flow', ts, p227 + burst), point('ltown-p235', 'flow', ts, p235), point('ltown-pump1', 'flow', ts, pump)];
    if (level !== undefined) batch.push(point('ltown-t1-level', 'level', ts, level));
    for (const c of [...detector.onReadings(batch), ...detector.onTime(ts + 1)]) if (c.state === 'raise') raised.push(c);
  }
  const used = new Set<Condition>();
  const delays: number[] = [];
  for (const start of starts) {
    const c = raised.find((r) => r.ts >= start && r.ts <= start + FOUND_WITHIN_MS);
    if (!c) continue;
    used.add(c);
    delays.push((c.ts - start) / 60_000);
  }
  delays.sort((a, b) => a - b);
  return { sizeM3h, bursts: starts.length, found: delays.length, delayMedianMin: delays[Math.floor(delays.length / 2)] ?? NaN, otherRaises: raised.filter((c) => !used.has(c)).length };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const size of [20, 30, 50]) console.log(JSON.stringify(measureInjectedBursts(size)));
}
