/**
 * Compensation statements (昆明 item 19, 三亚 item 六: compensation for interrupted or insufficient
 * supply): for one customer and a period, each incident that affected them with its minutes in the
 * period, whether it is excluded and why, the minutes paid and the amount, under the rules of the
 * site config's `compensation:` section (core/config/schema.ts).
 *
 * How the minutes are counted:
 * - an incident affects a customer when one of the customer's meters is in its area and, when the
 *   incident records the part of the area affected, in that part (`affectsCustomer`);
 * - every minute is paid at most once: where incidents overlap (an outage and a low-pressure period,
 *   two outages before a merge), the minute goes to the covering incident with the highest rate, and
 *   the others show it as counted under another incident;
 * - a minute covered only by incidents with an excluded cause is not paid (the line says which cause);
 * - the first `minimumMinutes` of each interruption are not paid (compensation starts after them); an
 *   interruption is a run of time covered by counted incidents of one kind, so overlapping or
 *   back-to-back incidents (a split one) share one minimum, taken from the interruption's real start
 *   even when that lies before the period;
 * - a planned outage whose customers were told at least `plannedWithNotice.noticeHours` ahead is paid
 *   at that rate (usually 0) instead of the outage rate;
 * - the period clips every incident; one still open runs to `asOf`.
 * Amounts are rounded to the cent per line; the total is the sum of the lines.
 */
import { CAUSE_CODES, type AffectedPart, type IncidentKind } from '../outages/types.ts';

const MINUTE_MS = 60_000;

export interface CompensationRate { amount: number; per: 'minute' | 'hour' }

/** The site config's `compensation:` section (CompensationConfig), as this module reads it. */
export interface CompensationRules {
  currency: string;
  outage: { rate: CompensationRate; minimumMinutes: number };
  lowPressure: { rate: CompensationRate; minimumMinutes: number };
  plannedWithNotice?: { noticeHours: number; rate: CompensationRate };
  excludeCauses: readonly string[];
}

/**
 * The demo utility's rules (`aquawatch start` without a config): illustrative rates, so that the
 * demo's statements show amounts; a real site sets its own in `compensation:` (default 0).
 */
export const DEMO_COMPENSATION = {
  outage: { rate: { amount: 5, per: 'hour' }, minimumMinutes: 60 },
  lowPressure: { rate: { amount: 1, per: 'hour' }, minimumMinutes: 120 },
  plannedWithNotice: { noticeHours: 24, rate: { amount: 0, per: 'hour' } },
} as const;

/** The rules, with every excluded cause checked against the incidents' cause codes (config key named). */
export function checkCompensationRules(rules: CompensationRules): CompensationRules {
  rules.excludeCauses.forEach((c, i) => {
    if (!(CAUSE_CODES as readonly string[]).includes(c)) {
      throw new Error(`compensation.excludeCauses[${i}]: unknown cause code ${JSON.stringify(c)} (known: ${CAUSE_CODES.join(', ')})`);
    }
  });
  return rules;
}

/** An incident as the statement needs it (IncidentRecord has these fields, plus the notice lead). */
export interface CompensationIncident {
  id: string;
  dma: string;
  kind: IncidentKind;
  start: number;
  /** Absent while the incident lasts. */
  end?: number;
  cause: string;
  planned: boolean;
  /** Planned outages: how long before the start the customers were told (ms). */
  noticeLeadMs?: number;
  /** How the part of the area was recorded, when not all of it was affected. */
  partial?: 'meters' | 'polygon';
}

/** What a line's minutes are paid as. */
export type RateBasis = 'outage' | 'low_pressure' | 'planned_notice';

/** One incident of a statement: the incident's facts, and what of it is paid. */
export interface CompensationLine extends Omit<CompensationIncident, 'id' | 'noticeLeadMs'> {
  incidentId: string;
  basis: RateBasis;
  /** Amount per hour at this line's basis (a per-minute rate × 60). */
  ratePerHour: number;
  /** The incident's minutes inside the period. */
  minutes: number;
  /** Its cause is one the rules exclude: nothing of it is paid. */
  excluded: boolean;
  /** Minutes inside the interruption's first `minimumMinutes`. */
  minimumMinutes: number;
  /** Minutes paid (or left unpaid) under another incident that covers them too. */
  overlapMinutes: number;
  paidMinutes: number;
  amount: number;
}

export interface CompensationTotals {
  /** Minutes in the period during which at least one incident affected the customer. */
  affectedMinutes: number;
  paidOutageMinutes: number;
  paidLowPressureMinutes: number;
  /** Minutes covered only by excluded incidents. */
  excludedMinutes: number;
  amount: number;
}

export interface CompensationResult { lines: CompensationLine[]; totals: CompensationTotals }

export interface StatementOptions {
  from: number;
  to: number;
  /** Open incidents count up to this instant when it is before `to` (ended ones count to their end). Default `to`. */
  asOf?: number;
  rules: CompensationRules;
}

const perMinute = (r: CompensationRate) => (r.per === 'hour' ? r.amount / 60 : r.amount);
const round2 = (v: number) => Math.round(v * 100) / 100;

interface Classified {
  inc: CompensationIncident;
  end: number;
  basis: RateBasis;
  rate: number;
  excluded: boolean;
}

function classify(inc: CompensationIncident, until: number, rules: CompensationRules): Classified {
  const end = Math.max(inc.start, inc.end ?? until);
  const excluded = rules.excludeCauses.includes(inc.cause);
  if (inc.kind === 'low_pressure') {
    return { inc, end, basis: 'low_pressure', rate: perMinute(rules.lowPressure.rate), excluded };
  }
  const notice = rules.plannedWithNotice;
  const told = inc.planned && notice && inc.noticeLeadMs !== undefined && inc.noticeLeadMs >= notice.noticeHours * 3_600_000;
  return { inc, end, basis: told ? 'planned_notice' : 'outage', rate: perMinute(told ? notice.rate : rules.outage.rate), excluded };
}

/** Runs of time covered by `spans` (overlapping or touching ones joined). */
function runs(spans: readonly { start: number; end: number }[]): { start: number; end: number }[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** Better payer first: higher rate, then an outage before low pressure, then the earlier incident. */
function pays(a: Classified, b: Classified): number {
  return b.rate - a.rate || Number(a.inc.kind !== 'outage') - Number(b.inc.kind !== 'outage') || a.inc.start - b.inc.start || a.inc.id.localeCompare(b.inc.id);
}

/** The statement of one customer: `incidents` are the ones that affected them (see affectsCustomer). */
export function compensationStatement(incidents: readonly CompensationIncident[], o: StatementOptions): CompensationResult {
  const until = Math.min(o.to, o.asOf ?? o.to);
  const classified = [...new Map(incidents.map((i) => [i.id, i])).values()].map((i) => classify(i, until, o.rules));
  const all = classified.filter((c) => c.inc.start < o.to && c.end > o.from);

  // the unpaid first minutes of each interruption, per kind, from its real start (incidents before
  // the period included: an interruption that began before it has used its minimum there)
  const minimumWindows = new Map<IncidentKind, { start: number; end: number }[]>();
  for (const kind of ['outage', 'low_pressure'] as const) {
    const minimumMs = (kind === 'outage' ? o.rules.outage : o.rules.lowPressure).minimumMinutes * MINUTE_MS;
    const counted = classified.filter((c) => c.inc.kind === kind && !c.excluded);
    minimumWindows.set(kind, runs(counted.map((c) => ({ start: c.inc.start, end: c.end })))
      .map((r) => ({ start: r.start, end: Math.min(r.end, r.start + minimumMs) })));
  }
  const inMinimum = (kind: IncidentKind, a: number, b: number) => minimumWindows.get(kind)!.some((w) => w.start <= a && b <= w.end);

  const cuts = new Set<number>([o.from, o.to]);
  for (const c of all) { cuts.add(c.inc.start); cuts.add(c.end); }
  for (const ws of minimumWindows.values()) for (const w of ws) cuts.add(w.end);
  const points = [...cuts].filter((t) => t >= o.from && t <= o.to).sort((a, b) => a - b);

  const acc = new Map(all.map((c) => [c.inc.id, { minutes: 0, minimum: 0, overlap: 0, paid: 0 }]));
  const totals: CompensationTotals = { affectedMinutes: 0, paidOutageMinutes: 0, paidLowPressureMinutes: 0, excludedMinutes: 0, amount: 0 };
  for (let k = 0; k + 1 < points.length; k++) {
    const [a, b] = [points[k], points[k + 1]];
    const covering = all.filter((c) => c.inc.start <= a && c.end >= b);
    if (!covering.length) continue;
    const m = (b - a) / MINUTE_MS;
    totals.affectedMinutes += m;
    for (const c of covering) acc.get(c.inc.id)!.minutes += m;
    const counted = covering.filter((c) => !c.excluded).sort(pays);
    if (!counted.length) {
      totals.excludedMinutes += m;
      continue;
    }
    const payer = counted.find((c) => !inMinimum(c.inc.kind, a, b));
    const owner = payer ?? counted[0];
    if (payer) {
      acc.get(payer.inc.id)!.paid += m;
      if (payer.inc.kind === 'outage') totals.paidOutageMinutes += m;
      else totals.paidLowPressureMinutes += m;
    } else acc.get(owner.inc.id)!.minimum += m;
    for (const c of covering) if (c !== owner && !c.excluded) acc.get(c.inc.id)!.overlap += m;
  }

  const lines = all.sort((x, y) => x.inc.start - y.inc.start || x.inc.id.localeCompare(y.inc.id)).map((c): CompensationLine => {
    const s = acc.get(c.inc.id)!;
    const amount = round2(s.paid * c.rate);
    totals.amount += amount;
    return {
      incidentId: c.inc.id, dma: c.inc.dma, kind: c.inc.kind, start: c.inc.start, ...(c.inc.end !== undefined ? { end: c.inc.end } : {}),
      cause: c.inc.cause, planned: c.inc.planned, ...(c.inc.partial ? { partial: c.inc.partial } : {}),
      basis: c.basis, ratePerHour: round2(c.rate * 60), minutes: s.minutes, excluded: c.excluded,
      minimumMinutes: s.minimum, overlapMinutes: s.overlap, paidMinutes: s.paid, amount,
    };
  });
  totals.amount = round2(totals.amount);
  return { lines, totals };
}

/** A customer meter as the statement needs it. */
export interface CustomerMeter { id: string; dma?: string }

/**
 * Whether an incident affected a customer: one of their meters is in the incident's area and, when a
 * part of the area was recorded, in that part (the meters picked, or the meters the server selected
 * inside a drawn polygon). A polygon drawn where the area's meters have no map positions selects no
 * meters: the customer's place is unknown, and they count as affected, so no customer loses
 * compensation for a map the utility has not completed.
 */
export function affectsCustomer(incident: { dma: string; affectedPart?: AffectedPart }, meters: readonly CustomerMeter[]): boolean {
  const part = incident.affectedPart;
  return meters.some((m) => m.dma === incident.dma && (!part?.meters || part.meters.includes(m.id)));
}
