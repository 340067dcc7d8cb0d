/** Compensation statements on worked examples (each one's arithmetic in its comment). */
import { describe, expect, it } from 'vitest';
import { compensationSchema } from '../../core/config/schema.ts';
import { affectsCustomer, checkCompensationRules, DEMO_COMPENSATION, compensationStatement, type CompensationIncident, type CompensationRules } from './compensation.ts';
import { SANYA_EXCLUDED_CAUSES } from './types.ts';

const H = 3_600_000;
const T = Date.parse('2026-10-01T00:00:00Z');
const at = (hours: number) => T + hours * H;

/** 6 per hour of outage after its first hour; 1 per hour of low pressure after its first two; planned with notice free. */
const RULES: CompensationRules = checkCompensationRules(compensationSchema.parse({
  outage: { rate: { amount: 6, per: 'hour' }, minimumMinutes: 60 },
  lowPressure: { rate: { amount: 1, per: 'hour' }, minimumMinutes: 120 },
  plannedWithNotice: { noticeHours: 24, rate: { amount: 0, per: 'hour' } },
}));
const NO_MINIMUM: CompensationRules = { ...RULES, outage: { ...RULES.outage, minimumMinutes: 0 }, lowPressure: { ...RULES.lowPressure, minimumMinutes: 0 } };

const outage = (id: string, start: number, end: number | undefined, more: Partial<CompensationIncident> = {}): CompensationIncident =>
  ({ id, dma: 'north', kind: 'outage', start, ...(end !== undefined ? { end } : {}), cause: 'burst', planned: false, ...more });
const DAY = { from: at(0), to: at(24) };

describe('compensation statements', () => {
  it('pays an outage after its minimum: 3 h burst, first hour unpaid, 120 min × 6/h = 12', () => {
    const { lines, totals } = compensationStatement([outage('a', at(10), at(13))], { ...DAY, rules: RULES });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ minutes: 180, minimumMinutes: 60, paidMinutes: 120, excluded: false, basis: 'outage', ratePerHour: 6, amount: 12 });
    expect(totals).toEqual({ affectedMinutes: 180, paidOutageMinutes: 120, paidLowPressureMinutes: 0, excludedMinutes: 0, amount: 12 });
  });

  it('pays nothing for an excluded cause and says so (municipal power failure)', () => {
    const { lines, totals } = compensationStatement([outage('a', at(10), at(14), { cause: 'power_failure' })], { ...DAY, rules: RULES });
    expect(lines[0]).toMatchObject({ minutes: 240, excluded: true, paidMinutes: 0, amount: 0 });
    expect(totals).toMatchObject({ excludedMinutes: 240, amount: 0 });
  });

  it('counts overlapping outages once, with one minimum for the interruption they form', () => {
    // A 10–12 and B 11–13: 3 h without water, not 4; the first hour (10–11) is the minimum:
    // A is paid 11–12 (60 min), B 12–13 (60 min, its 11–12 counted under A): 120 min × 6/h = 12
    const { lines, totals } = compensationStatement([outage('a', at(10), at(12)), outage('b', at(11), at(13))], { ...DAY, rules: RULES });
    expect(lines.map((l) => [l.incidentId, l.minutes, l.minimumMinutes, l.overlapMinutes, l.paidMinutes, l.amount])).toEqual([
      ['a', 120, 60, 0, 60, 6],
      ['b', 120, 0, 60, 60, 6],
    ]);
    expect(totals).toMatchObject({ affectedMinutes: 180, paidOutageMinutes: 120, amount: 12 });
    // the same incident listed twice (overlapping pages of a source) is one incident
    expect(compensationStatement([outage('a', at(10), at(12)), outage('a', at(10), at(12))], { ...DAY, rules: NO_MINIMUM }).totals.amount).toBe(12);
  });

  it('pays a minute covered by an outage and low pressure once, at the better rate', () => {
    // low pressure 09–12, outage 10–11 inside it: the outage hour at 6/h, the two low-pressure hours at 1/h = 8
    const lp: CompensationIncident = { ...outage('lp', at(9), at(12)), kind: 'low_pressure', cause: 'unknown' };
    const { lines, totals } = compensationStatement([lp, outage('o', at(10), at(11))], { ...DAY, rules: NO_MINIMUM });
    expect(lines.find((l) => l.incidentId === 'lp')).toMatchObject({ basis: 'low_pressure', minutes: 180, overlapMinutes: 60, paidMinutes: 120, amount: 2 });
    expect(lines.find((l) => l.incidentId === 'o')).toMatchObject({ paidMinutes: 60, amount: 6 });
    expect(totals).toMatchObject({ affectedMinutes: 180, paidOutageMinutes: 60, paidLowPressureMinutes: 120, amount: 8 });
  });

  it('pays the minutes of a counted incident that an excluded one overlaps', () => {
    // power failure 10–14 (excluded), burst 12–16: 12–16 paid (4 h, no minimum) = 24; 10–12 excluded
    const { lines, totals } = compensationStatement([outage('pf', at(10), at(14), { cause: 'power_failure' }), outage('b', at(12), at(16))], { ...DAY, rules: NO_MINIMUM });
    expect(lines.find((l) => l.incidentId === 'b')).toMatchObject({ paidMinutes: 240, amount: 24 });
    expect(lines.find((l) => l.incidentId === 'pf')).toMatchObject({ excluded: true, paidMinutes: 0, overlapMinutes: 0 });
    expect(totals).toMatchObject({ affectedMinutes: 360, excludedMinutes: 120, amount: 24 });
  });

  it('clips to the period: an outage begun before it has used its minimum there; an open one runs to asOf', () => {
    // 22:00 the day before to 01:00: 60 min in the period, the minimum (22–23) spent before it: 60 min × 6/h = 6
    const { lines } = compensationStatement([outage('late', at(-2), at(1))], { ...DAY, rules: RULES });
    expect(lines[0]).toMatchObject({ minutes: 60, minimumMinutes: 0, paidMinutes: 60, amount: 6 });
    // open since 20:00, asOf 23:30: 210 min, 60 of them the minimum, 150 × 6/h = 15
    const open = compensationStatement([outage('open', at(20), undefined)], { ...DAY, asOf: at(23.5), rules: RULES });
    expect(open.lines[0]).toMatchObject({ minutes: 210, paidMinutes: 150, amount: 15 });
    // an incident entirely outside the period is not listed
    expect(compensationStatement([outage('before', at(-5), at(-1))], { ...DAY, rules: RULES }).lines).toEqual([]);
  });

  it('a split incident (back to back) shares one minimum', () => {
    const { totals } = compensationStatement([outage('first', at(10), at(11)), outage('second', at(11), at(13))], { ...DAY, rules: RULES });
    expect(totals).toMatchObject({ paidOutageMinutes: 120, amount: 12 });
  });

  it('pays a planned outage told 24 h ahead at its own rate, one told later at the outage rate', () => {
    const told = compensationStatement([outage('p', at(10), at(13), { planned: true, cause: 'repair', noticeLeadMs: 48 * H })], { ...DAY, rules: RULES });
    expect(told.lines[0]).toMatchObject({ basis: 'planned_notice', ratePerHour: 0, paidMinutes: 120, amount: 0 });
    const late = compensationStatement([outage('p', at(10), at(13), { planned: true, cause: 'repair', noticeLeadMs: 2 * H })], { ...DAY, rules: RULES });
    expect(late.lines[0]).toMatchObject({ basis: 'outage', amount: 12 });
  });

  it('takes per-minute rates and rounds each line to the cent', () => {
    const rules = { ...NO_MINIMUM, outage: { rate: { amount: 0.0333, per: 'minute' as const }, minimumMinutes: 0 } };
    const { lines, totals } = compensationStatement([outage('a', at(1), at(1) + 7 * 60_000)], { ...DAY, rules });
    expect(lines[0]).toMatchObject({ ratePerHour: 2, amount: 0.23 }); // 7 × 0.0333 = 0.2331
    expect(totals.amount).toBe(0.23);
  });
});

describe('which incidents affected a customer', () => {
  const meters = [{ id: 'M-1', dma: 'north' }];
  it('the whole area, picked meters, a polygon (meters selected inside, or no positions known), another area', () => {
    expect(affectsCustomer({ dma: 'north' }, meters)).toBe(true);
    expect(affectsCustomer({ dma: 'south' }, meters)).toBe(false);
    expect(affectsCustomer({ dma: 'north', affectedPart: { meters: ['M-1', 'M-9'] } }, meters)).toBe(true);
    expect(affectsCustomer({ dma: 'north', affectedPart: { meters: ['M-9'] } }, meters)).toBe(false);
    const square: [number, number][] = [[0, 0], [10, 0], [10, 10], [0, 10]];
    expect(affectsCustomer({ dma: 'north', affectedPart: { polygon: square, meters: ['M-9'] } }, meters)).toBe(false);
    expect(affectsCustomer({ dma: 'north', affectedPart: { polygon: square, meters: ['M-1'] } }, meters)).toBe(true);
    expect(affectsCustomer({ dma: 'north', affectedPart: { polygon: square } }, meters)).toBe(true);
  });
});

describe('the compensation rules in the config', () => {
  it('the demo\'s rules are a valid section', () => {
    expect(compensationSchema.parse(DEMO_COMPENSATION)).toMatchObject({ currency: 'CNY', outage: { minimumMinutes: 60 } });
  });

  it('default to the Sanya exclusions and refuse an unknown cause code', () => {
    expect(compensationSchema.parse({}).excludeCauses).toEqual([...SANYA_EXCLUDED_CAUSES]);
    expect(() => checkCompensationRules(compensationSchema.parse({ excludeCauses: ['power_failure', 'storm'] })))
      .toThrow('compensation.excludeCauses[1]: unknown cause code "storm"');
  });
});
