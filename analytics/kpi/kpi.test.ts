import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topologySchema } from '../../core/config/schema.ts';
import type { Point } from '../../core/model/reading.ts';
import { Topology } from '../../core/topology/topology.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { Simulation } from '../../simulators/engine.ts';
import { OutageRegister } from '../outages/register.ts';
import type { Incident } from '../outages/types.ts';
import { toCsv, toHtml, toJson, CSV_HEADER } from './format.ts';
import {
  computeKpis, ListIncidentSource, openRegisterReadOnly, previousQuarter, quarterOf, quarterPeriod, registerIncidentSource,
  isoPeriod, PeriodError, type KpiReport,
} from './index.ts';
import { pressureCompliance } from './pressure.ts';
import { fillFromSimulation } from '../../test/support/sim-drive.ts';
import { integrateFlow, registersAt, waterBalance } from './water-balance.ts';

const ZONE = 'Asia/Shanghai';
const MIN = 60_000;
const HOUR = 60 * MIN;
const SUITE = join(import.meta.dirname, '../../simulators/scenarios/suite');

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aquawatch-kpi-'));
  dirs.push(d);
  return d;
}
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

async function memoryStore(): Promise<SqliteStore> {
  const s = new SqliteStore(':memory:');
  await s.init();
  return s;
}

/** Two areas (a: 600 customers, b: 400), pressure sensors at network ends and inside, one inlet each. */
function smallTopology(withEnds = true): Topology {
  return new Topology(topologySchema.parse({
    sites: [{ id: 'net' }],
    dmas: [{ id: 'a', inlets: ['F-a'], customers: 600 }, { id: 'b', inlets: ['F-b'], outlets: [], customers: 400 }],
    sensors: [
      { id: 'F-a', kind: 'flow', unit: 'm3/h', site: 'net', dma: 'a', place: 'inlet' },
      { id: 'F-b', kind: 'flow', unit: 'm3/h', site: 'net', dma: 'b', place: 'inlet' },
      { id: 'P-end-a', kind: 'pressure', unit: 'MPa', site: 'net', dma: 'a', place: withEnds ? 'network-end' : 'network' },
      { id: 'P-end-b', kind: 'pressure', unit: 'MPa', site: 'net', dma: 'b', place: withEnds ? 'network-end' : 'network' },
      { id: 'P-mid-a', kind: 'pressure', unit: 'MPa', site: 'net', dma: 'a', place: 'network' },
      { id: 'P-plant', kind: 'pressure', unit: 'MPa', site: 'net', place: 'plant-outlet' },
    ],
    meters: [{ id: 'M-a1', customer: 'C1', dma: 'a' }, { id: 'M-a2', customer: 'C2', dma: 'a' }, { id: 'M-b1', customer: 'C3', dma: 'b' }],
  }));
}

function point(measurement: string, sensor: string, ts: number, value: number, quality: Point['quality'] = 'good', dma = ''): Point {
  return { measurement, sensor, ts, value, quality, site: 'net', dma };
}

describe('periods in the site time zone', () => {
  it('a quarter runs from local midnight on its first day to local midnight after its last', () => {
    const q3 = quarterPeriod('2026-Q3', ZONE);
    expect(q3.from).toBe(Date.parse('2026-06-30T16:00:00Z'));
    expect(q3.to).toBe(Date.parse('2026-09-30T16:00:00Z'));
    expect(q3.label).toBe('2026-Q3');
    const q4 = quarterPeriod('2026q4', ZONE);
    expect([q4.from, q4.to]).toEqual([Date.parse('2026-09-30T16:00:00Z'), Date.parse('2026-12-31T16:00:00Z')]);
    // a zone with daylight saving: Q2 in Rome starts at +02:00, Q1 at +01:00
    expect(quarterPeriod('2026-Q2', 'Europe/Rome').from).toBe(Date.parse('2026-03-31T22:00:00Z'));
    expect(quarterPeriod('2026-Q1', 'Europe/Rome').from).toBe(Date.parse('2025-12-31T23:00:00Z'));
  });

  it('finds the quarter of an instant by local date, and the previous one', () => {
    // 2026-06-30T16:30Z is Jul 1 00:30 in Shanghai: already Q3 there
    expect(quarterOf(Date.parse('2026-06-30T16:30:00Z'), ZONE).label).toBe('2026-Q3');
    expect(quarterOf(Date.parse('2026-06-30T15:59:59Z'), ZONE).label).toBe('2026-Q2');
    expect(previousQuarter(Date.parse('2026-01-15T00:00:00Z'), ZONE).label).toBe('2025-Q4');
    expect(isoPeriod('2026-07-01', '2026-07-02T00:00', ZONE)).toMatchObject({ from: Date.parse('2026-06-30T16:00:00Z'), to: Date.parse('2026-07-01T16:00:00Z') });
  });

  it('refuses bad periods naming the field', () => {
    expect(() => quarterPeriod('2026-Q5', ZONE)).toThrow(/quarter: "2026-Q5" is not a quarter/);
    expect(() => isoPeriod('2026-07-02', '2026-07-01', ZONE)).toThrow(PeriodError);
    expect(() => isoPeriod('yesterday', '2026-07-01', ZONE)).toThrow(/^from: /);
  });

  it('counts samples on the boundary instants into the right quarter', async () => {
    const store = await memoryStore();
    const q3 = quarterPeriod('2026-Q3', ZONE);
    await store.write([
      point('pressure', 'P-end-a', q3.from - 1000, 0.01), // Jun 30 23:59:59 local: Q2
      point('pressure', 'P-end-a', q3.from, 0.3), // Jul 1 00:00 local: Q3
      point('pressure', 'P-end-a', q3.to - 1000, 0.3), // Sep 30 23:59:59: Q3
      point('pressure', 'P-end-a', q3.to, 0.01), // Oct 1 00:00: Q4
    ]);
    const r = await pressureCompliance(store, smallTopology(), { from: q3.from, to: q3.to });
    expect(r.samples).toBe(2);
    expect(r.share).toBe(1);
    await store.close();
  });
});

describe('outage KPIs from hand-made incidents', () => {
  const from = Date.parse('2026-06-30T16:00:00Z');
  const to = Date.parse('2026-09-30T16:00:00Z');
  const t = (iso: string) => Date.parse(iso);
  const asOf = t('2026-09-01T12:00:00Z');
  const incidents: Incident[] = [
    // planned works, excluded by the Sanya rule: 600 × 120 = 72,000 customer-minutes
    { id: 'a:1', dma: 'a', start: t('2026-07-10T01:00:00Z'), end: t('2026-07-10T03:00:00Z'), customersAffected: 600, planned: true, plannedOutageId: 'po-1', cause: 'maintenance' },
    // burst: 400 × 90 = 36,000
    { id: 'b:1', dma: 'b', start: t('2026-08-02T10:00:00Z'), end: t('2026-08-02T11:30:00Z'), customersAffected: 400, planned: false, cause: 'burst' },
    // power failure, excluded: 200 × 30 = 6,000
    { id: 'a:2', dma: 'a', start: t('2026-08-20T05:00:00Z'), end: t('2026-08-20T05:30:00Z'), customersAffected: 200, planned: false, cause: 'power_failure' },
    // started 30 min before the quarter, lasted 60: 30 min in it, 100 × 30 = 3,000
    { id: 'b:0', dma: 'b', start: from - 30 * MIN, end: from + 30 * MIN, customersAffected: 100, planned: false, cause: 'burst' },
    // still open, an hour before asOf: 50 × 60 = 3,000
    { id: 'a:3', dma: 'a', start: asOf - HOUR, customersAffected: 50, planned: false, cause: 'repair' },
    // outside the quarter
    { id: 'b:9', dma: 'b', start: t('2026-06-01T00:00:00Z'), end: t('2026-06-01T05:00:00Z'), customersAffected: 400, planned: false, cause: 'burst' },
  ];

  async function kpis(excludeCauses?: string[]): Promise<KpiReport> {
    const register = new OutageRegister(':memory:');
    for (const i of incidents) register.recordIncident(i);
    const store = await memoryStore();
    const r = await computeKpis({ store, topology: smallTopology(), incidents: registerIncidentSource(register), from, to, timezone: ZONE, asOf, excludeCauses });
    register.close();
    await store.close();
    return r;
  }

  it('counts planned and unplanned outages with durations clipped to the period', async () => {
    const { outages: o } = await kpis();
    expect(o.planned).toMatchObject({ count: 1, totalMinutes: 120, meanMinutes: 120, areas: ['a'], customersAffected: 600 });
    expect(o.unplanned).toMatchObject({ count: 4, totalMinutes: 90 + 30 + 30 + 60, meanMinutes: 52.5, areas: ['a', 'b'] });
    expect(o.incidents.map((i) => i.id)).toEqual(['b:0', 'a:1', 'b:1', 'a:2', 'a:3']);
    expect(o.incidents.find((i) => i.id === 'a:3')).toMatchObject({ ongoing: true, minutes: 60 });
    expect(o.byCause.map((c) => [c.cause, c.count, c.totalMinutes, c.excluded])).toEqual([
      ['burst', 2, 120, false], ['maintenance', 1, 120, true], ['power_failure', 1, 30, true], ['repair', 1, 60, false],
    ]);
    expect(o.customerMinutesLost).toBe(120_000);
  });

  it('gives SAIDI and SAIFI per customer served, with the Sanya causes excluded by default', async () => {
    const { outages: o } = await kpis();
    expect(o.customersServed).toBe(1000);
    expect(o.excludedCauses).toEqual(['maintenance', 'power_failure', 'raw_water_shortage', 'retrofit']);
    // (36,000 + 3,000 + 3,000) ÷ 1000
    expect(o.saidiMinutes).toBeCloseTo(42, 9);
    expect(o.saidiMinutesAllCauses).toBeCloseTo(120, 9);
    // (400 + 100 + 50) ÷ 1000, and with all causes (600 + 400 + 200 + 100 + 50) ÷ 1000
    expect(o.saifi).toBeCloseTo(0.55, 9);
    expect(o.saifiAllCauses).toBeCloseTo(1.35, 9);
    // per area, for compensation: a lost 120 + 30 + 60 minutes, 60 of them counted
    expect(o.byArea).toEqual([
      { dma: 'a', customers: 600, incidents: 3, outageMinutes: 210, outageMinutesCounted: 60, customerMinutes: 81_000 },
      { dma: 'b', customers: 400, incidents: 2, outageMinutes: 120, outageMinutesCounted: 120, customerMinutes: 39_000 },
    ]);
  });

  it('excludes exactly the chosen causes', async () => {
    expect((await kpis([])).outages.saidiMinutes).toBeCloseTo(120, 9);
    const onlyBursts = (await kpis(['burst'])).outages;
    expect(onlyBursts.saidiMinutes).toBeCloseTo((72_000 + 6_000 + 3_000) / 1000, 9);
    expect(onlyBursts.saifi).toBeCloseTo((600 + 200 + 50) / 1000, 9);
  });

  it('reads the register from a state database file without changing it, and a plain list alike', async () => {
    const dir = tempDir();
    const path = join(dir, 'state.sqlite');
    const register = new OutageRegister(path);
    for (const i of incidents) register.recordIncident(i);
    register.close();
    const opened = openRegisterReadOnly(path);
    if ('missing' in opened) throw new Error(opened.missing);
    const viaFile = await opened.source.incidents(from, to);
    opened.close();
    expect(viaFile.map((i) => i.id).sort()).toEqual(['a:1', 'a:2', 'a:3', 'b:0', 'b:1']);
    expect(new ListIncidentSource(incidents).incidents(from, to).map((i) => i.id).sort()).toEqual(viaFile.map((i) => i.id).sort());
    expect(openRegisterReadOnly(join(dir, 'nothing.sqlite'))).toEqual({ missing: `${join(dir, 'nothing.sqlite')} does not exist` });
    writeFileSync(join(dir, 'empty.sqlite'), '');
    expect(openRegisterReadOnly(join(dir, 'empty.sqlite'))).toMatchObject({ missing: expect.stringMatching(/no outage incidents table/) });
  });
});

describe('pressure compliance on hand-made series', () => {
  const from = Date.parse('2026-07-01T00:00:00+08:00');
  const to = from + 2 * 86_400_000;

  it('is the share of good network-end samples at or above 0.14 MPa, per sensor and overall', async () => {
    const store = await memoryStore();
    const pts: Point[] = [];
    // P-end-a: 100 samples a minute apart, 3 below 0.14 (one exactly 0.14 counts), 1 bad-quality sample (left out)
    for (let i = 0; i < 100; i++) pts.push(point('pressure', 'P-end-a', from + i * MIN, i < 3 ? 0.12 : i === 3 ? 0.14 : 0.3, 'good', 'a'));
    pts.push(point('pressure', 'P-end-a', from + 100 * MIN, 0.0, 'bad', 'a'));
    // P-end-b: 50 samples across the day boundary of the chunked reads, all compliant
    for (let i = 0; i < 50; i++) pts.push(point('pressure', 'P-end-b', from + 86_400_000 - 25 * MIN + i * MIN, 0.25, 'good', 'b'));
    // a network sensor in a trough and the plant outlet: not network ends, so not counted
    for (let i = 0; i < 30; i++) pts.push(point('pressure', 'P-mid-a', from + i * MIN, 0.05, 'good', 'a'));
    pts.push(point('pressure', 'P-plant', from, 0.01));
    await store.write(pts);
    const r = await pressureCompliance(store, smallTopology(), { from, to });
    expect(r.basis).toBe('network-end');
    expect(r.samples).toBe(150);
    expect(r.compliant).toBe(147);
    expect(r.share).toBeCloseTo(147 / 150, 12);
    expect(r.meetsNorm).toBe(true); // 98 % ≥ 97 %
    expect(r.sensors.find((s) => s.sensor === 'P-end-a')).toMatchObject({ samples: 100, compliant: 97, badQuality: 1, minMpa: 0.12 });

    // without network-end sensors, every network pressure sensor counts: P-mid-a's 30 low samples now weigh in
    const all = await pressureCompliance(store, smallTopology(false), { from, to });
    expect(all.basis).toBe('network');
    expect(all.samples).toBe(180);
    expect(all.compliant).toBe(147);
    expect(all.meetsNorm).toBe(false);
    await store.close();
  });

  it('says there is nothing to judge when there are no samples', async () => {
    const store = await memoryStore();
    const r = await pressureCompliance(store, smallTopology(), { from, to });
    expect(r).toMatchObject({ samples: 0, share: null, meetsNorm: null });
    await store.close();
  });
});

describe('water balance details on hand-made series', () => {
  const from = Date.parse('2026-07-01T00:00:00+08:00');
  const to = from + 4 * HOUR;

  it('integrates net inflow over the covered windows and reports the coverage of a gap', async () => {
    const store = await memoryStore();
    const pts: Point[] = [];
    // 60 m³/h at 1-min samples for 4 h, with the third hour missing
    for (let i = 0; i < 240; i++) if (i < 120 || i >= 180) pts.push(point('flow', 'F-a', from + i * MIN, 60, 'good', 'a'));
    await store.write(pts);
    const v = await integrateFlow(store, [{ sensor: 'F-a', sign: 1, intervalS: 60 }], { from, to });
    expect(v.measuredM3).toBeCloseTo(180, 9);
    expect(v.coverage).toBeCloseTo(0.75, 9);
    expect(v.estimatedM3).toBeCloseTo(240, 9);
    await store.close();
  });

  it('interpolates meter registers at the boundaries and leaves out flagged rollbacks', async () => {
    const store = await memoryStore();
    await store.write([
      point('meter', 'M-a1', from - 10 * HOUR, 100), point('meter', 'M-a1', from + 10 * HOUR, 120), // 110 at `from`
      point('meter', 'M-a1', from + 2 * HOUR, 90, 'uncertain'), // a rollback the PDA source flagged: ignored
      point('meter', 'M-a2', from, 500), // exactly on the boundary
      point('meter', 'M-b1', from - 3 * 86_400_000, 10), // nothing after the boundary
    ]);
    const at = await registersAt(store, ['M-a1', 'M-a2', 'M-b1', 'M-none'], from, 45 * 86_400_000);
    expect(at.get('M-a1')).toEqual({ value: 110 });
    expect(at.get('M-a2')).toEqual({ value: 500 });
    expect(at.get('M-b1')).toEqual({ problem: 'no reading after the boundary' });
    expect(at.get('M-none')).toEqual({ problem: 'no reading around the boundary' });
    await store.close();
  });

  it('gives the leakage rate by the CJJ 92-2016 basic formula per area, and grades only the total corrected rate', async () => {
    const store = await memoryStore();
    const pts: Point[] = [];
    for (let i = 0; i < 240; i++) {
      pts.push(point('flow', 'F-a', from + i * MIN, 50, 'good', 'a')); // 200 m³ in 4 h
      pts.push(point('flow', 'F-b', from + i * MIN, 25, 'good', 'b')); // 100 m³
    }
    // a: 180 m³ billed (10 % lost: grade 1); b: 85 m³ billed (15 %: above grade 2) with one meter
    pts.push(point('meter', 'M-a1', from, 1000), point('meter', 'M-a1', to, 1100), point('meter', 'M-a2', from, 0), point('meter', 'M-a2', to, 80));
    pts.push(point('meter', 'M-b1', from - HOUR, 0), point('meter', 'M-b1', to + HOUR, 85 * 6 / 4));
    await store.write(pts);
    const r = await computeKpis({ store, topology: smallTopology(), incidents: [], from, to, timezone: ZONE });
    const [a, b] = r.waterBalance.dmas;
    expect(a).toMatchObject({ dma: 'a', systemInputM3: expect.closeTo(200, 6), billedM3: expect.closeTo(180, 6), complete: true });
    expect(a).not.toHaveProperty('grade');
    expect(a.leakageRatePct).toBeCloseTo(10, 6);
    expect(b.leakageRatePct).toBeCloseTo(15, 6);
    expect(r.waterBalance.total.leakageRatePct).toBeCloseTo((300 - 265) / 300 * 100, 6);
    // no correction inputs configured: the corrected rate and the grade are not given, and the note names every input
    expect(r.leakage).toMatchObject({ basicRatePct: expect.closeTo((300 - 265) / 300 * 100, 6), correctedRatePct: null, grade: null });
    expect(r.leakage.missing).toEqual([
      'leakage.residentialMeteredShare', 'leakage.dn75PipeLengthKm',
      'leakage.annualMeanOutletPressureMpa (or leakage.outletPressureSensors)', 'leakage.maxFrozenSoilDepthM',
    ]);
    expect(r.notes.join('\n')).toContain('corrected leakage rate (CJJ 92-2016) not given: missing leakage.residentialMeteredShare');

    // with the inputs, the outlet pressure measured at the plant: 4 h of 0.5 MPa (R3 = 0.5 %)
    const outlet: Point[] = [];
    for (let i = 0; i < 240; i++) outlet.push(point('pressure', 'P-plant', from + i * MIN, 0.5));
    await store.write(outlet);
    const corrected = await computeKpis({
      store, topology: smallTopology(), incidents: [], from, to, timezone: ZONE,
      leakage: { residentialMeteredShare: 0.5, dn75PipeLengthKm: 0, outletPressureSensors: ['P-plant'], maxFrozenSoilDepthM: 2 },
    });
    const c = corrected.leakage;
    expect(c.missing).toEqual([]);
    expect(c.corrections.map((x) => x.pct)).toEqual([4, -3, 0.5, 1]);
    expect(c.corrections[2]).toMatchObject({ input: expect.closeTo(0.5, 9), source: 'mean of P-plant over 1 of the last 365 days' });
    expect(c.correctedRatePct).toBeCloseTo((300 - 265) / 300 * 100 - 2.5, 6);
    expect(c).toMatchObject({ grade: 1, meetsNationalAim: false }); // 9.17 %: grade 1, above the national aim of 9 %
    await store.close();
  });
});

describe('water balance of an area with a tank', () => {
  const from = Date.parse('2026-07-01T00:00:00+08:00');
  const to = from + 4 * HOUR;
  const topology = new Topology(topologySchema.parse({
    sites: [{ id: 'net' }],
    dmas: [{ id: 'a', inlets: ['F-a'], tanks: [{ level: 'L-a', areaM2: 100 }], customers: 10 }],
    sensors: [
      { id: 'F-a', kind: 'flow', unit: 'm3/h', site: 'net', dma: 'a', place: 'inlet' },
      { id: 'L-a', kind: 'level', unit: 'm', site: 'net', dma: 'a', place: 'tank' },
    ],
  }));

  it('takes the water the tank stored off the system input, and says so; without a level it says what is missing', async () => {
    const store = await memoryStore();
    const pts: Point[] = [];
    // 50 m³/h in; the tank rises 0.5 m (50 m³) over the 4 h: 150 m³ reached the customers
    for (let i = 0; i < 240; i++) pts.push(point('flow', 'F-a', from + i * MIN, 50, 'good', 'a'), point('level', 'L-a', from + i * MIN, 2 + (0.5 * i) / 240, 'good', 'a'));
    await store.write(pts);
    const { dmas: [a] } = await waterBalance(store, topology, { from, to });
    expect(a.systemInputM3).toBeCloseTo(200 - 0.5 * 100 * (225 / 240), 6); // level means of the first and last 15 min, 225 min apart
    expect(a.notes).toContain('input net of 46.9 m³ stored in the area\'s tanks');
    const empty = await memoryStore();
    await empty.write(pts.filter((p) => p.sensor === 'F-a'));
    const { dmas: [b] } = await waterBalance(empty, topology, { from, to });
    expect(b.systemInputM3).toBeCloseTo(200, 6);
    expect(b.notes).toContain("tank level L-a missing at the period's start or end: the water its tanks stored is not taken off the input");
    await store.close();
    await empty.close();
  });
});

describe('on simulated data (demo town, SqliteStore)', () => {
  const dayFrom = Date.parse('2024-05-06T00:00:00+08:00');
  const dayTo = Date.parse('2024-05-07T00:00:00+08:00');
  let quiet: KpiReport;
  let leaky: KpiReport;
  let leakTruth: number;

  async function simulate(scenario: string): Promise<KpiReport> {
    const store = await memoryStore();
    // 15 min past the period's end, so that every meter has a register on the end boundary
    const sim = new Simulation({ scenario, from: dayFrom, to: dayTo + 15 * MIN });
    const { topology } = await fillFromSimulation(sim, store);
    const r = await computeKpis({ store, topology, incidents: [], from: dayFrom, to: dayTo, timezone: ZONE });
    await store.close();
    return r;
  }

  beforeAll(async () => {
    quiet = await simulate(join(SUITE, 'quiet-week.yaml'));
    const dir = tempDir();
    const leakFile = join(dir, 'west-leak.yaml');
    leakTruth = 8;
    writeFileSync(leakFile, [
      'name: KPI test, a leak in West from the start', 'city: demo', 'start: 2024-05-06T00:00:00+08:00', 'duration: 2d', 'interval: 1m', 'seed: 3',
      'events:', '  - type: leak', '    at: 0h', '    dma: west', `    flow: ${leakTruth}`, '    growth: 1m', '',
    ].join('\n'));
    leaky = await simulate(leakFile);
  }, 60_000);

  it('balances input against billed use on a quiet day: leakage rate near zero in every DMA', () => {
    expect(quiet.waterBalance.dmas.map((b) => b.dma)).toEqual(['hill', 'west', 'central', 'east', 'south']);
    for (const b of quiet.waterBalance.dmas) {
      expect(b.input.coverage).toBe(1);
      expect(b.metersUsed).toBe(b.meters);
      expect(b.complete).toBe(true);
      expect(b.billedM3).toBeGreaterThan(100);
      // the simulator's registers balance against the inflow within ~0.1 %
      expect(Math.abs(b.leakageRatePct!)).toBeLessThan(0.1);
    }
    expect(Math.abs(quiet.waterBalance.total.leakageRatePct!)).toBeLessThan(0.1);
  });

  it('finds the leak: West loses about the leak flow × 24 h, the other DMAs are unchanged', () => {
    const west = leaky.waterBalance.dmas.find((b) => b.dma === 'west')!;
    const quietWest = quiet.waterBalance.dmas.find((b) => b.dma === 'west')!;
    expect(west.leakageRatePct!).toBeGreaterThan(10);
    expect(west.leakageRatePct!).toBeGreaterThan(quietWest.leakageRatePct! + 10);
    // an emitter's flow follows pressure, so the lost volume is near, not exactly, 8 m³/h × 24 h
    expect(west.nonRevenueM3!).toBeGreaterThan(0.95 * leakTruth * 24);
    expect(west.nonRevenueM3!).toBeLessThan(1.05 * leakTruth * 24);
    expect(west.billedM3).toBeCloseTo(west.systemInputM3! - west.nonRevenueM3!, 6);
    for (const b of leaky.waterBalance.dmas.filter((x) => x.dma !== 'west')) expect(Math.abs(b.leakageRatePct!)).toBeLessThan(0.1);
    expect(leaky.waterBalance.total.leakageRatePct!).toBeGreaterThan(quiet.waterBalance.total.leakageRatePct! + 2);
  });

  it('measures pressure compliance on the network-end sensors', () => {
    expect(quiet.pressure.basis).toBe('network-end');
    expect(quiet.pressure.sensors.length).toBe(5);
    expect(quiet.pressure.samples).toBe(5 * 1440);
    expect(quiet.pressure.share).not.toBeNull();
    expect(quiet.pressure.meetsNorm).toBe(quiet.pressure.share! >= 0.97);
  });

  it('exports the same figures as JSON, CSV rows and a printable HTML page', () => {
    const json = JSON.parse(toJson(leaky));
    expect(json.period.fromLocal).toBe('2024-05-06T00:00:00+08:00');
    expect(json.waterBalance.dmas[1].leakageRatePct).toBeCloseTo(leaky.waterBalance.dmas[1].leakageRatePct!, 9);

    const lines = toCsv(leaky).trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_HEADER.join(','));
    for (const l of lines) expect(l.split(',').length).toBe(6); // no field here needs quoting
    const rate = lines.find((l) => l.startsWith('water_balance,west,,leakage_rate,'))!;
    expect(Number(rate.split(',')[4])).toBeCloseTo(leaky.waterBalance.dmas[1].leakageRatePct!, 4);
    expect(lines).toContain('reliability,,,excluded_causes,maintenance power_failure raw_water_shortage retrofit,');
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0]))).toEqual(new Set(['period', 'outages', 'reliability', 'pressure', 'pressure_sensor', 'water_balance', 'leakage', 'night_flow', 'notes']));
    expect(lines).toContain('leakage,,R1,source,missing: leakage.residentialMeteredShare,');

    const html = toHtml(leaky, { siteName: 'L-Town <water>' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    for (const label of ['计划停水', 'Planned outages', '突发停水', '用户平均停水时间', 'Average outage time per customer', '漏损率', 'Leakage rate', '水量平衡', '@page']) {
      expect(html).toContain(label);
    }
    expect(html).toContain('L-Town &lt;water&gt;');
    // no correction inputs here: the corrected rate is not given and the corrections table says what is missing
    expect(html).toContain('综合漏损率 Basic %');
    expect(html).toContain('缺 missing: leakage.dn75PipeLengthKm');
    expect((html.match(/<tr>/g) ?? []).length).toBeGreaterThan(5);
  });
});

describe('night-flow trend', () => {
  it('reads the stored nightly series per DMA and gives its slope', async () => {
    const store = await memoryStore();
    const from = Date.parse('2026-07-01T00:00:00+08:00');
    const day = 86_400_000;
    const pts: Point[] = [];
    for (let n = 0; n < 10; n++) {
      const ts = from + n * day + 2 * HOUR;
      pts.push(point('night_flow', 'a', ts, 10 + 0.5 * n, 'good', 'a'), point('leakage_estimate', 'a', ts, 9 + 0.5 * n, 'good', 'a'));
    }
    await store.write(pts);
    const r = await computeKpis({ store, topology: smallTopology(), from, to: from + 30 * day, timezone: ZONE });
    const a = r.nightFlow.find((t) => t.dma === 'a')!;
    expect(a.nights.length).toBe(10);
    expect(a).toMatchObject({ firstM3h: 10, lastM3h: 14.5, meanM3h: 12.25, meanLeakageM3h: 11.25 });
    expect(a.slopeM3hPer30d).toBeCloseTo(15, 9); // 0.5 m³/h a night
    expect(r.nightFlow.find((t) => t.dma === 'b')).toMatchObject({ nights: [], slopeM3hPer30d: null });
    expect(r.notes).toContain('no incident register: outage figures are empty');
    await store.close();
  });
});
