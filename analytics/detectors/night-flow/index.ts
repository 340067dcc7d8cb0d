/**
 * Night flow and leakage: per DMA per night, the minimum night flow (MNF: lowest 15-min mean of net
 * inflow between 02:00 and 04:00 local), the legitimate night use from customer counts, the leakage
 * estimate, and a new-leak condition when MNF rises against the DMA's own recent nights.
 * See README.md for the method.
 */
import type { Point } from '../../../core/model/reading.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import { isDayOff, isFestive, type DayCalendar } from '../../baseline/calendar.ts';
import { LocalTime, MINUTE_MS } from '../../baseline/local-time.ts';
import { medianOf } from '../../baseline/median.ts';
import { robustStats } from '../../baseline/time-of-week.ts';
import { DmaInflow, netInflowFromStore, type NetInflow } from '../../dma-inflow.ts';
import type { Condition, Detector, DetectorContext, OpenAlarm } from '../../types.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';
import type { LeakDecision, LeakDecisionLookup } from '../leak-change/decisions.ts';
import { nightFlowOptionsSchema, type NightFlowOptions, type NightFlowSettings } from './options.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import { WarmedConditions } from '../warmed-conditions.ts';

export const NIGHT_FLOW_MEASUREMENT = 'night_flow';
export const LEAKAGE_MEASUREMENT = 'leakage_estimate';

export type { NightFlowOptions };

/**
 * What a night lies between, as people live it: after a working or a rest day (the evening), before a
 * working or a rest day (the morning). Friday night (into-rest) and Saturday night (rest) differ, and
 * Sunday night (into-work) is not Wednesday's (L-Town: Saturday nights run about 8 m³/h above Friday nights).
 */
export type NightKind = 'working' | 'into-rest' | 'rest' | 'into-work';
const NIGHT_KINDS: readonly NightKind[] = ['working', 'into-rest', 'rest', 'into-work'];
/** A night is paired with the working nights of its own week: at most this many days away. */
const PAIRING_DAYS = 3;

interface Night {
  /** Local day number of the night (the date at 02:00). */
  day: number;
  mnf: number;
  /** Start of the lowest window, ms. */
  at: number;
  /** The night before a weekend day or holiday (people stay up, night use is higher), not before a working day. */
  rest: boolean;
  kind: NightKind;
  /**
   * A change of use a dispatcher accepted after this night (a new night-shift factory), m³/h: the
   * night compares as mnf + this, the level it would have had with that use. 0 for most nights.
   */
  acceptedM3h: number;
}

interface DmaNight {
  dma: string;
  site: string;
  customers: number;
  legitimateM3h: number;
  /** Current night being collected: local day, and per-window sums. */
  day: number;
  windows: Map<number, { sum: number; n: number }>;
  nightEndTs: number;
  nightStartTs: number;
  history: Night[];
  active: boolean;
  /** Per kind, how much higher its nights run than working nights, m³/h (NaN until both are known). */
  kindOffsets: Map<NightKind, number>;
  /** Reference frozen when a leak was raised, so the leak does not become its own baseline (as a working night's: each night adds its kind's offset). */
  frozenRef?: { median: number; sigma: number };
  risingNights: number;
  /**
   * Whether the last night compared like with like stood above normal (at least `clearShare` of its
   * rise threshold above its reference): a night of a kind not known yet may continue that rise.
   */
  lastLikeAboveNormal: boolean;
  quietNights: number;
  /** Day of the first rising night of the raised leak (its nights hold the rise). */
  leakFromDay?: number;
  /** While raised: the rises of its nights above the frozen reference (the last LEAK_NIGHTS_KEPT), and of the quiet nights since the flow fell. */
  leakRises: number[];
  quietRises: number[];
  /** The lowest instant of the first quiet night: when the night flow was seen down (the repair's date). */
  fellAt?: number;
}

/** Rises of a raised leak's nights kept for the drop its repair shows. */
const LEAK_NIGHTS_KEPT = 14;

export class NightFlowDetector implements Detector {
  readonly name = 'night-flow';
  private readonly inflow: DmaInflow;
  private readonly local: LocalTime;
  private readonly dmas = new Map<string, DmaNight>();
  private readonly o: NightFlowSettings;
  private derived: Point[] = [];
  private silent = false;
  /** What warmUp found and did not emit (reconcile). */
  private readonly warmed = new WarmedConditions();
  private readonly net: NetInflow[] = [];
  private readonly calendar: DayCalendar | undefined;

  private readonly decisions?: LeakDecisionLookup;
  /** Decisions applied already (one recorded with a time the watermark has passed applies at the next step). */
  private readonly applied = new Set<number>();

  private readonly openAlarms?: () => readonly OpenAlarm[];

  constructor(
    private readonly ctx: DetectorContext, options: NightFlowOptions = {},
    inputs: { decisions?: LeakDecisionLookup; openAlarms?: () => readonly OpenAlarm[] } = {},
  ) {
    this.decisions = inputs.decisions;
    this.openAlarms = inputs.openAlarms;
    this.o = parseDetectorOptions('night-flow', nightFlowOptionsSchema, options);
    if (!(this.o.windowToHour > this.o.windowFromHour)) throw new Error('nightFlow.windowToHour: must be after windowFromHour');
    this.local = new LocalTime(ctx.timezone);
    this.calendar = ctx.calendar;
    this.inflow = new DmaInflow(ctx.topology, ctx.health);
    for (const dma of this.inflow.dmas()) {
      const cfg = ctx.topology.dmas.get(dma)!;
      this.dmas.set(dma, {
        dma, site: this.inflow.siteOf(dma), customers: cfg.customers,
        // L/property/h × properties → L/h → m³/h
        legitimateM3h: (cfg.customers * cfg.nightUseLPerPropertyH) / 1000,
        day: NaN, windows: new Map(), nightEndTs: NaN, nightStartTs: NaN, history: [], kindOffsets: new Map(), active: false, risingNights: 0, lastLikeAboveNormal: false, quietNights: 0, leakRises: [], quietRises: [],
      });
    }
  }

  onReadings(batch: readonly Point[]): Condition[] {
    const out: Condition[] = [];
    for (const r of batch) {
      if (!this.inflow.isBalanceSensor(r.sensor)) continue;
      this.net.length = 0;
      this.inflow.add(r, this.net);
      for (const v of this.net) this.onNet(v.dma, v.ts, v.value, this.inflow.minutesOf(v), out);
    }
    return this.silent ? this.warmed.keep(out) : out;
  }

  onTime(eventTime: number): Condition[] {
    const out: Condition[] = [];
    this.net.length = 0;
    this.inflow.advance(eventTime, this.net);
    for (const v of this.net) this.onNet(v.dma, v.ts, v.value, this.inflow.minutesOf(v), out);
    for (const d of this.dmas.values()) if (!Number.isNaN(d.day) && eventTime >= d.nightEndTs) this.closeNight(d, out);
    if (this.decisions) {
      for (const decision of this.decisions.decisionsUpTo(eventTime)) {
        if (decision.type !== 'new_leak' || this.applied.has(decision.id)) continue;
        this.applied.add(decision.id);
        const d = this.dmas.get(decision.dma);
        if (d && decision.conditionId === `new_leak:${d.dma}`) this.accept(d, decision, eventTime, out);
      }
    }
    return this.silent ? this.warmed.keep(out) : out;
  }

  /**
   * A dispatcher accepted the raised new_leak as a change of use (issue #12.4): the rise (the median
   * of the rising nights above the frozen reference, each at its kind's offset) is added to the
   * nights before it, so the recent nights compare at the new level at once, and the alarm clears
   * with `accepted: true`. A decision about a leak not raised here changes nothing.
   */
  private accept(d: DmaNight, decision: LeakDecision, ts: number, out: Condition[]): void {
    const ref = d.frozenRef;
    const from = d.leakFromDay;
    if (!d.active || !ref || from === undefined) return;
    const rises = d.history.filter((n) => n.day >= from).map((n) => levelOf(n) - (d.kindOffsets.get(n.kind) ?? 0) - ref.median);
    const rise = rises.length ? medianOf(rises) : 0;
    for (const n of d.history) if (n.day < from) n.acceptedM3h += rise;
    d.kindOffsets = kindOffsetsOf(d.history, this.o.minNights);
    d.active = false;
    d.frozenRef = undefined;
    d.leakFromDay = undefined;
    d.risingNights = 0;
    d.quietNights = 0;
    out.push({
      id: `new_leak:${d.dma}`, type: 'new_leak', ts, site: d.site || undefined, dma: d.dma, state: 'clear', priority: 'medium',
      evidence: { referenceM3h: round(ref.median + rise), acceptedRiseM3h: round(rise), accepted: true, decisionId: decision.id, acceptedBy: decision.decidedBy, reason: decision.reason },
      text: alarmText('new_leak.accepted', { dma: d.dma, rise: rise.toFixed(1) }),
    });
  }

  drainDerived(): Point[] {
    const d = this.derived;
    this.derived = [];
    return d;
  }

  /** The nights known for a DMA (oldest first), for tests and the KPI report. */
  nights(dma: string): readonly Night[] {
    return this.dmas.get(dma)?.history ?? [];
  }

  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    const windowMs = this.o.averageMin * MINUTE_MS;
    const from = until - (Math.max(this.o.historyNights, this.o.dayKindNights) + 1) * 86_400_000;
    this.silent = true;
    try {
      for (const dma of this.dmas.keys()) {
        const values = await netInflowFromStore(history, this.inflow, dma, from, Math.floor(until / windowMs) * windowMs, windowMs);
        // one window mean stands for a full window of one-minute samples
        const found: Condition[] = [];
        for (const v of values) this.onNet(dma, v.ts, v.value, this.o.averageMin, found);
        this.warmed.keep(found);
      }
      this.onTime(until);
    } finally {
      this.silent = false;
      this.derived = this.derived.filter((p) => p.ts >= until - 86_400_000);
    }
    for (const a of this.openAlarms?.() ?? []) {
      // (one the replayed nights saw repaired is over: reconcile clears it)
      if (a.type === 'new_leak' && a.raisedAt < until && !this.warmed.endedEpisodeOf(a, this.episodeToleranceMs())) this.resume(a);
    }
  }

  /** A replay may confirm a leak a few nights after live did (its references start afresh). */
  private episodeToleranceMs(): number {
    return (this.o.confirmNights + 1) * 86_400_000;
  }

  /**
   * After warmUp on a live restart (see Detector.reconcile). A `new_leak` the replayed nights raised
   * after the alarm manager's last stored transition, and hold without an alarm, began while it was
   * down: raised now. One raised before that was seen live (no alarm then means it was decided
   * otherwise, or live's nights differed): not raised. An open alarm whose leak the replayed nights
   * saw repaired is cleared.
   */
  reconcile(open: readonly OpenAlarm[], at: number, analysedUntil: number): Condition[] {
    const out = this.warmed.raisesWithoutAlarm(open, at, { raisedAfter: analysedUntil });
    for (const a of open) {
      if (a.type !== 'new_leak' || this.warmed.holds(a.conditionId)) continue;
      const ended = this.warmed.endedEpisodeOf(a, this.episodeToleranceMs());
      if (ended) out.push(WarmedConditions.clearAt(ended, at));
    }
    this.warmed.clear();
    return out;
  }

  /**
   * A new_leak whose alarm is open but which the replayed nights did not raise again (raised before
   * them: the warm-up learnt its nights as normal): raised again against the reference frozen then,
   * a night flow in m³/h like any other (its kind's offset, learnt again, taken off), so its updates
   * and its repair go on as without the restart. Not when the warm-up raised one of its own there.
   */
  private resume(a: OpenAlarm): void {
    const d = a.dma === undefined ? undefined : this.dmas.get(a.dma);
    const e = a.evidence ?? {};
    const median = Number(e.referenceM3h);
    const sigma = Number(e.referenceSigmaM3h);
    if (!d || d.active || a.conditionId !== `new_leak:${d.dma}` || !Number.isFinite(median) || !Number.isFinite(sigma)) return;
    const kind = NIGHT_KINDS.find((k) => k === e.nightKind);
    d.active = true;
    d.frozenRef = { median: median - (kind === undefined ? 0 : d.kindOffsets.get(kind) ?? 0), sigma };
    // every replayed night held it
    d.leakFromDay = d.history[0]?.day;
    d.risingNights = this.o.confirmNights;
    d.lastLikeAboveNormal = true;
    d.quietNights = 0;
    d.leakRises = Number.isFinite(Number(e.riseM3h)) ? [Number(e.riseM3h)] : [];
    d.quietRises = [];
    d.fellAt = undefined;
  }

  /** One net inflow value standing for `minutes` one-minute samples. */
  private onNet(dma: string, ts: number, value: number, minutes: number, out: Condition[]): void {
    const d = this.dmas.get(dma);
    if (!d) return;
    if (!Number.isNaN(d.day) && ts >= d.nightEndTs) this.closeNight(d, out);
    const pos = this.local.position(ts);
    const hour = pos.msOfDay / 3_600_000;
    if (hour < this.o.windowFromHour || hour >= this.o.windowToHour) return;
    if (pos.day !== d.day) {
      if (!Number.isNaN(d.day)) this.closeNight(d, out);
      d.day = pos.day;
      d.windows.clear();
      d.nightStartTs = this.local.instantOf(pos.day, this.o.windowFromHour * 3_600_000);
      d.nightEndTs = this.local.instantOf(pos.day, this.o.windowToHour * 3_600_000);
    }
    // windows on the local clock (02:00, 02:15...); the repeated hour of a fall-back night adds to the same windows
    const w = Math.floor(pos.msOfDay / (this.o.averageMin * MINUTE_MS));
    const acc = d.windows.get(w) ?? { sum: 0, n: 0 };
    acc.sum += value * minutes;
    acc.n += minutes;
    d.windows.set(w, acc);
  }

  private closeNight(d: DmaNight, out: Condition[]): void {
    const perWindow = this.o.averageMin;
    let best: { mean: number; w: number } | undefined;
    for (const [w, acc] of d.windows) {
      if (acc.n < this.o.minCoverage * perWindow) continue;
      const mean = acc.sum / acc.n;
      if (!best || mean < best.mean) best = { mean, w };
    }
    const day = d.day;
    d.day = NaN;
    d.windows.clear();
    if (!best) return; // no usable window tonight (a gap): no figure rather than a wrong one
    if (d.history.length && d.history[d.history.length - 1].day >= day) return;
    const at = this.local.instantOf(day, best.w * this.o.averageMin * MINUTE_MS);
    const rest = this.isRestDay(day);
    const night: Night = { day, mnf: best.mean, at, rest, kind: nightKind(this.isRestDay(day - 1), rest), acceptedM3h: 0 };
    const leakage = best.mean - d.legitimateM3h;
    const ts = d.nightStartTs;
    this.derived.push(
      { measurement: NIGHT_FLOW_MEASUREMENT, sensor: d.dma, ts, value: best.mean, quality: 'good', site: d.site, dma: d.dma },
      { measurement: LEAKAGE_MEASUREMENT, sensor: d.dma, ts, value: leakage, quality: 'good', site: d.site, dma: d.dma },
    );
    // the night after a festive eve (calendar `eves`): its figure is kept, not judged nor learnt
    if (isFestive(day, best.w * this.o.averageMin * MINUTE_MS, this.o.windowToHour * 3_600_000, this.calendar)) return;
    this.judge(d, night, leakage, d.nightEndTs, out);
    d.history.push(night);
    if (d.history.length > Math.max(this.o.historyNights, this.o.dayKindNights)) d.history.shift();
    d.kindOffsets = kindOffsetsOf(d.history, this.o.minNights);
  }

  /** The calendar's holidays and make-up working days first, else the weekday. */
  private isRestDay(day: number): boolean {
    return isDayOff(day, this.calendar);
  }

  /**
   * Tonight's comparison nights, like with like: the last historyNights nights whose kind's offset is
   * known, each moved to tonight's kind. Before tonight's kind is known (the first weekend after a
   * cold start), all recent nights, flagged `likeWithLike: false`: nothing better is known, and a rise
   * against them may be the kind's own (see README: what it cannot see).
   */
  private comparable(d: DmaNight, night: Night): { nights: number[]; likeWithLike: boolean } {
    const recent = d.history.slice(-this.o.historyNights);
    const tonight = d.kindOffsets.get(night.kind);
    if (tonight === undefined) return { nights: recent.map(levelOf), likeWithLike: false };
    const nights: number[] = [];
    for (const n of recent) {
      const offset = d.kindOffsets.get(n.kind);
      if (offset !== undefined) nights.push(levelOf(n) - offset + tonight);
    }
    return { nights, likeWithLike: true };
  }

  /** Compare tonight with the recent nights; raise, update or clear `new_leak:<dma>`. */
  private judge(d: DmaNight, night: Night, leakage: number, ts: number, out: Condition[]): void {
    const { nights: earlier, likeWithLike } = this.comparable(d, night);
    if (!d.active && earlier.length < this.o.minNights) return;
    const offset = d.kindOffsets.get(night.kind) ?? 0;
    const ref = d.frozenRef ? { median: d.frozenRef.median + offset, sigma: d.frozenRef.sigma } : (() => {
      const s = robustStats(earlier);
      return { median: s.median, sigma: Math.max(s.sigma, this.o.sigmaFloorFraction * s.median) };
    })();
    const rise = night.mnf - ref.median;
    // rising: ≥ riseFraction of the reference, or ≥ madK σ and ≥ madMinFraction of it
    const threshold = Math.min(this.o.riseFraction * ref.median, Math.max(this.o.madK * ref.sigma, this.o.madMinFraction * ref.median));
    const normalBelow = this.o.clearShare * threshold;
    // A night of a kind not known yet (the first weekend after a cold start) is compared with other
    // kinds' nights, and nights before a day off run higher (L-Town: 15–25 %): its rise may be its
    // kind's own. A leak stays, so it shows on the like-with-like night before too: such a night may
    // continue a rise that night showed (above normal), never start one.
    const rising = rise >= threshold && (likeWithLike || d.lastLikeAboveNormal);
    if (likeWithLike) d.lastLikeAboveNormal = rise >= normalBelow;
    d.risingNights = rising ? d.risingNights + 1 : 0;
    const evidence = {
      nightFlowM3h: round(night.mnf), referenceM3h: round(ref.median), riseM3h: round(rise), riseShare: round(rise / ref.median, 3),
      referenceSigmaM3h: round(ref.sigma), legitimateNightUseM3h: round(d.legitimateM3h), leakageEstimateM3h: round(leakage),
      customers: d.customers, minimumAt: night.at, nightsCompared: earlier.length, likeWithLike, nightKind: night.kind, risingNights: d.risingNights,
    };
    const base = { id: `new_leak:${d.dma}`, type: 'new_leak', ts, site: d.site || undefined, dma: d.dma };
    if (!d.active) {
      if (d.risingNights >= this.o.confirmNights) {
        d.active = true;
        d.frozenRef = { median: ref.median - offset, sigma: ref.sigma };
        // tonight and the rising nights before it (kept in history) hold the rise
        d.leakFromDay = d.risingNights > 1 ? d.history[Math.max(0, d.history.length - (d.risingNights - 1))]?.day ?? night.day : night.day;
        d.quietNights = 0;
        d.leakRises = [rise];
        d.quietRises = [];
        d.fellAt = undefined;
        out.push({
          ...base, state: 'raise', priority: rise >= 0.25 * ref.median ? 'high' : 'medium', evidence,
          text: alarmText('new_leak.raise', { dma: d.dma, mnf: night.mnf.toFixed(1), rise: rise.toFixed(1), risePct: Math.round((100 * rise) / ref.median) }),
        });
      }
      return;
    }
    if (rise < normalBelow) {
      d.quietNights++;
      if (d.quietNights === 1) d.fellAt = night.at;
      d.quietRises.push(rise);
      if (d.quietNights >= this.o.clearNights) {
        d.active = false;
        d.frozenRef = undefined;
        d.leakFromDay = undefined;
        d.risingNights = 0;
        // the repair: the night flow fell from the leak's nights to the quiet ones, seen first on fellAt
        const repair = d.leakRises.length && d.fellAt !== undefined
          ? { nightDropM3h: round(medianOf(d.leakRises) - medianOf(d.quietRises)), repairedTs: d.fellAt } : {};
        out.push({ ...base, state: 'clear', priority: 'medium', evidence: { ...evidence, ...repair }, text: alarmText('new_leak.clear', { dma: d.dma }) });
      }
      return;
    }
    d.quietNights = 0;
    d.quietRises = [];
    d.fellAt = undefined;
    d.leakRises.push(rise);
    if (d.leakRises.length > LEAK_NIGHTS_KEPT) d.leakRises.shift();
    out.push({
      ...base, state: 'update', priority: rise >= 0.25 * ref.median ? 'high' : 'medium', evidence,
      text: alarmText('new_leak.persists', { dma: d.dma, mnf: night.mnf.toFixed(1), rise: rise.toFixed(1) }),
    });
  }
}

/** A night's flow as the reference sees it: with the change of use accepted after it. */
function levelOf(n: Night): number {
  return n.mnf + n.acceptedM3h;
}

function nightKind(restBefore: boolean, restAfter: boolean): NightKind {
  return restAfter ? (restBefore ? 'rest' : 'into-rest') : restBefore ? 'into-work' : 'working';
}

/**
 * Per kind, how much higher its nights run than the working nights around them: the median over its
 * kept nights of (the night − the median working night within `PAIRING_DAYS` days). Paired within the
 * week, a leak or a season present on both sides cancels (medians over eight weeks do not: a leak
 * running on the weekday nights of two weeks moves the working median, not the weekend's). A kind
 * with fewer than `min` paired nights takes its class's: a night before a day off, both weekend
 * kinds pooled; a night before a working day, the working nights' (0). Unknown until `min` working nights.
 */
function kindOffsetsOf(history: readonly Night[], min: number): Map<NightKind, number> {
  const offsets = new Map<NightKind, number>();
  const working = history.filter((n) => n.kind === 'working');
  if (working.length < min) return offsets;
  const differences = new Map<NightKind, number[]>(NIGHT_KINDS.map((k) => [k, []]));
  for (const n of history) {
    if (n.kind === 'working') continue;
    const around = working.filter((w) => Math.abs(w.day - n.day) <= PAIRING_DAYS).map(levelOf);
    if (around.length) differences.get(n.kind)!.push(levelOf(n) - medianOf(around));
  }
  const beforeRest = [...differences.get('into-rest')!, ...differences.get('rest')!];
  for (const kind of NIGHT_KINDS) {
    const own = differences.get(kind)!;
    if (kind === 'working') offsets.set(kind, 0);
    else if (own.length >= min) offsets.set(kind, medianOf(own));
    else if (kind === 'into-work') offsets.set(kind, 0);
    else if (beforeRest.length >= min) offsets.set(kind, medianOf(beforeRest));
  }
  return offsets;
}

function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
