import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateCity, DEMO_TOWN } from '../city/generator/index.ts';
import { parseInp, meanDemand } from './inp.ts';
import { HydraulicModel } from './model.ts';
import { GroupDemand, LocalClock, loadProfiles, WeeklyProfile } from './demand.ts';
import { deriveProfiles } from './derive-profiles.ts';
import { Rng, SlowNoise, SmoothNoise, hash32 } from './random.ts';

const demoText = generateCity(DEMO_TOWN).inpText;
/** Our own four-junction network in US units (GPM, ft, psi). */
const usTownText = readFileSync(fileURLToPath(new URL('../networks/small-us-town.inp', import.meta.url)), 'utf8');

describe('the .inp reader', () => {
  it('reads elements, units, comments and demands', () => {
    const net = parseInp(usTownText);
    expect([...net.junctions.keys()]).toEqual(['J1', 'J2', 'J3', 'J4']);
    expect([...net.links.values()].filter((l) => l.type === 'pipe').length).toBe(6);
    expect([...net.reservoirs.keys()]).toEqual(['SRC']);
    expect(net.tanks.get('TK')).toMatchObject({ elevation: 850, maxLevel: 20, diameter: 50, comment: 'LEVEL SENSOR' });
    expect(net.flowUnits).toBe('GPM');
    expect(net.si).toBe(false);
    expect(net.junctions.get('J2')!.comment).toBe('PRESSURE SENSOR');
    expect(net.junctions.get('J2')!.demands).toEqual([{ base: 150, pattern: undefined }]);
    expect(net.coordinates.get('J2')).toEqual({ x: 50, y: 80 });
    // [DEMANDS] replaces the [JUNCTIONS] demand, as in EPANET
    const listed = parseInp('[JUNCTIONS]\n j1 10 5 P1\n[DEMANDS]\n j1 2 P-Res ;home\n j1 0.5 P-Ind ;works\n[END]\n');
    expect(listed.junctions.get('j1')!.demands).toEqual([{ base: 2, pattern: 'P-Res', category: 'home' }, { base: 0.5, pattern: 'P-Ind', category: 'works' }]);
    const demo = parseInp(demoText);
    expect([...demo.links.values()].filter((l) => l.type === 'valve').map((l) => `${l.id} ${l.valveType}`).sort()).toEqual(['PRV-1 PRV', 'PRV-2 PRV', 'PRV-3 PRV']);
    expect(demo.flowUnits).toBe('CMH');
    expect(demo.si).toBe(true);
  });
});

describe('the hydraulic model', () => {
  it('gives SI values for a US-unit model (GPM, ft, psi)', async () => {
    const model = await HydraulicModel.open(usTownText, { hydraulicStepS: 3600 });
    try {
      expect(model.flowToM3h).toBeCloseTo(0.2271247, 6);
      expect(model.pressureToM).toBeCloseTo(0.70307, 5);
      // a reservoir at 900 ft over junctions at about 700 ft: some 60 m of pressure
      const p = model.pressureM(model.nodeIndex('J2'));
      expect(p).toBeGreaterThan(40);
      expect(p).toBeLessThan(65);
      expect(model.tankLevelM(model.nodeIndex('TK'))).toBeCloseTo(10 * 0.3048, 1);
      // 400 GPM of demand in all, in m³/h
      expect(['J1', 'J2', 'J3', 'J4'].reduce((t, j) => t + model.demandM3h(model.nodeIndex(j)), 0)).toBeCloseTo(400 * 0.2271247, 1);
      expect(model.hasQuality).toBe(false);
      model.advanceTo(7200);
      expect(model.time).toBe(7200);
    } finally {
      model.close();
    }
  });

  it('keeps each junction\'s average demand when it replaces the time patterns', async () => {
    const net = parseInp(demoText);
    const model = await HydraulicModel.open(demoText, { hydraulicStepS: 300 });
    try {
      let parsed = 0;
      let kept = 0;
      for (const j of net.junctions.values()) {
        parsed += meanDemand(net, j);
        kept += model.junctionDemandCategories(model.nodeIndex(j.id)).reduce((s, c) => s + c.meanM3h, 0);
      }
      expect(kept).toBeCloseTo(parsed, 6);
      expect(parsed).toBeGreaterThan(100); // m³/h
      // with every multiplier at 1, the town draws its average demand
      const demands = model.allDemandsM3h();
      const junctionTotal = [...net.junctions.keys()].reduce((s, id) => s + demands[model.nodeIndex(id) - 1], 0);
      expect(junctionTotal).toBeCloseTo(parsed, 1);
    } finally {
      model.close();
    }
  });

  it('lets a leak out and stops it, closes and reopens a PRV, trips a pump and forces a tank level', async () => {
    const model = await HydraulicModel.open(demoText, {
      hydraulicStepS: 60, quality: { sources: { R1: 0.8, R2: 0.8 }, bulkPerDay: -0.5, initial: 0.5 }, leakJunctions: ['n383'],
    });
    try {
      model.advanceTo(600);
      const n = model.nodeIndex('n383');
      const before = model.demandM3h(n);
      model.setLeakDemand(n, 30);
      model.advanceTo(660);
      expect(model.demandM3h(n) - before).toBeCloseTo(30, 1);
      expect(model.leakDemandM3h(n)).toBe(30);
      model.setLeakDemand(n, 0);
      model.advanceTo(720);
      expect(model.demandM3h(n)).toBeCloseTo(before, 1); // repaired: gone at once
      expect(() => model.setLeakDemand(model.nodeIndex('n384'), 1)).toThrow(/not opened as a leak junction/);

      const prv = model.linkIndex('PRV-3');
      const zone = model.nodeIndex('n661'); // in the low zone behind PRV-3
      const normal = model.pressureM(zone);
      model.setLinkClosed(prv, true);
      model.advanceTo(780);
      expect(model.pressureM(zone)).toBeLessThan(0.5);
      model.setLinkClosed(prv, false);
      model.advanceTo(840);
      expect(model.pressureM(zone)).toBeCloseTo(normal, 0); // controlled again, not wide open

      const pump = model.linkIndex('PUMP_1');
      const tank = model.nodeIndex('T1');
      model.setPumpTripped(pump, true);
      model.advanceTo(4 * 3600);
      expect(model.linkOpen(pump)).toBe(false); // its level controls stay suspended
      model.setTankLevel(tank, 1.5);
      model.advanceTo(4 * 3600 + 60);
      expect(model.tankLevelM(tank)).toBeCloseTo(1.5, 1);
      model.setPumpTripped(pump, false);
      model.advanceTo(4 * 3600 + 120);
      expect(model.flowM3h(pump)).toBeGreaterThan(30); // the pump lifts about twice the hill's use

      model.setSourceQuality(model.nodeIndex('R2'), 0.1);
      model.advanceTo(5 * 3600);
      // the junction at the plant end of R2's outlet main
      expect(model.quality(model.nodeIndex('n799'))).toBeLessThan(0.15);
      expect(model.warnings.size).toBe(0);
    } finally {
      model.close();
    }
  });

  it('refuses a network that does not load, and times that are not on the step', async () => {
    await expect(HydraulicModel.open('[JUNCTIONS]\n j1 10 1\n[PIPES]\n p1 j1 nowhere 100 100 100\n[END]\n', { hydraulicStepS: 60 }))
      .rejects.toThrow(/the network does not load/);
    const model = await HydraulicModel.open(usTownText, { hydraulicStepS: 600 });
    try {
      expect(() => model.advanceTo(900)).toThrow(/multiples of the hydraulic step/);
    } finally {
      model.close();
    }
  });
});

describe('demand profiles from BWDF', () => {
  const file = loadProfiles();

  it('are committed with their provenance, 24 weekday and 24 weekend values each, a weekly mean of 1', () => {
    expect(file.provenance).toMatch(/Battle of the Water Demand Forecasting.*CC BY 4\.0/);
    expect(Object.keys(file.profiles).length).toBe(10);
    for (const [name, p] of Object.entries(file.profiles)) {
      expect(p.weekday.length, name).toBe(24);
      expect(p.weekend.length, name).toBe(24);
      const weekMean = (5 * p.weekday.reduce((a, b) => a + b) + 2 * p.weekend.reduce((a, b) => a + b)) / 168;
      expect(weekMean, name).toBeCloseTo(1, 3);
      // real demand: lower at night than in the morning peak
      expect(Math.min(...p.weekday.slice(1, 5)), name).toBeLessThan(Math.max(...p.weekday.slice(6, 12)));
    }
  });

  it('are interpolated smoothly through the week in local time', () => {
    const profile = new WeeklyProfile(file.profiles['bwdf-dma8']);
    const monday = Date.UTC(2024, 4, 6); // a Monday, as local wall time
    let sum = 0;
    let prev = profile.at(monday);
    let biggestJump = 0;
    for (let m = 1; m <= 7 * 1440; m++) {
      const v = profile.at(monday + m * 60_000);
      biggestJump = Math.max(biggestJump, Math.abs(v - prev));
      sum += v;
      prev = v;
    }
    expect(sum / (7 * 1440)).toBeCloseTo(1, 2);
    expect(biggestJump).toBeLessThan(0.02);
    // 03:30 is the hour's own value; Saturday differs from Monday
    expect(profile.at(monday + 3.5 * 3_600_000)).toBeCloseTo(file.profiles['bwdf-dma8'].weekday[3], 6);
    expect(profile.at(monday + 5 * 86_400_000 + 9.5 * 3_600_000)).toBeCloseTo(file.profiles['bwdf-dma8'].weekend[9], 6);
  });

  it('follow the site\'s clock, and vary by day with the seed, the same day alike in every run', () => {
    const clock = new LocalClock('Asia/Shanghai');
    expect(clock.local(Date.parse('2024-05-06T00:00:00Z'))).toBe(Date.parse('2024-05-06T08:00:00Z'));
    // a profile with day-to-day variation only, so the day level shows in the multiplier itself
    const profile = new WeeklyProfile({ ...file.profiles['bwdf-dma1'], dailySd: 0.05, hourlySd: 0 });
    const a = new GroupDemand('east', profile, 7);
    const b = new GroupDemand('east', profile, 7);
    const t = Date.UTC(2024, 4, 8, 12);
    // b starts a day earlier; on the day both see, both have the same level
    const bYesterday = b.next(t - 86_400_000, 60) / profile.at(t - 86_400_000);
    const aToday = a.next(t, 60) / profile.at(t);
    expect(b.next(t, 60) / profile.at(t)).toBeCloseTo(aToday, 12);
    expect(aToday).not.toBeCloseTo(bYesterday, 6);
    expect(new GroupDemand('east', profile, 8).next(t, 60) / profile.at(t)).not.toBeCloseTo(aToday, 6);
    const noiseless = new GroupDemand('east', profile, 7, 0);
    expect(noiseless.next(t, 60)).toBeCloseTo(profile.at(t), 9);
  });

  it('wander smoothly: the same spread over hours as an AR(1) path, a tenth of its jumps from minute to minute', () => {
    const spread = (make: (rng: Rng) => { step(dtS: number): number }) => {
      const noise = make(new Rng(5, 'wander'));
      const values: number[] = [];
      for (let i = 0; i < 200 * 24 * 60; i++) values.push(noise.step(60));
      const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length);
      return { sd: sd(values), minuteSd: sd(values.slice(1).map((v, i) => v - values[i])) };
    };
    const smooth = spread((rng) => new SmoothNoise(rng, 0.05, 3600));
    const ar1 = spread((rng) => new SlowNoise(rng, 0.05, 3600));
    expect(smooth.sd).toBeGreaterThan(0.04);
    expect(smooth.sd).toBeLessThan(0.06);
    expect(ar1.minuteSd).toBeGreaterThan(0.05 / 7);
    expect(smooth.minuteSd).toBeLessThan(ar1.minuteSd / 8);
  });

  it('are derived from a CSV of hourly inflows by local hour, weekday and weekend', () => {
    const rows = ['Date-time CET-CEST (DD/MM/YYYY HH:mm),DMA 1 (L/s),DMA 2 (L/s)'];
    // four weeks from Monday 2021-03-01: DMA 1 is 2 L/s at night and 4 by day, weekends half; DMA 2 all NaN but one hour
    for (let d = 0; d < 28; d++) {
      const date = new Date(Date.UTC(2021, 2, 1 + d));
      const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
      for (let h = 0; h < 24; h++) {
        const v = (h < 6 ? 2 : 4) * (weekend ? 0.5 : 1);
        const dd = String(date.getUTCDate()).padStart(2, '0');
        rows.push(`${dd}/03/2021 ${String(h).padStart(2, '0')}:00,${v},${d === 0 && h === 0 ? 3 : 'NaN'}`);
      }
    }
    const derived = deriveProfiles(rows.join('\n'));
    const p = derived['bwdf-dma1'];
    expect(p.weekday[0] * 2).toBeCloseTo(p.weekday[12], 3);
    expect(p.weekend[12] * 2).toBeCloseTo(p.weekday[12], 3);
    expect(p.dailySd).toBe(0);
    expect(p.hourlySd).toBe(0);
    expect(p.meanLs).toBeGreaterThan(2);
  });
});

describe('seeded randomness', () => {
  it('repeats for the same seed and name, and differs for another name', () => {
    const draw = (seed: number, name: string) => { const r = new Rng(seed, name); return [r.next(), r.normal(), r.normal()]; };
    expect(draw(1, 'a')).toEqual(draw(1, 'a'));
    expect(draw(1, 'a')).not.toEqual(draw(1, 'b'));
    expect(hash32('P-n54')).not.toBe(hash32('P-n55'));
    const r = new Rng(42);
    const xs = Array.from({ length: 20_000 }, () => r.normal());
    const m = xs.reduce((a, b) => a + b) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(sd).toBeCloseTo(1, 1);
  });
});
