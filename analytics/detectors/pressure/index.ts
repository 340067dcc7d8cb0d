/**
 * Pressure detector, per pressure sensor:
 * - `pressure_low:<sensor>`: below the minimum service pressure (thresholds.low, default 0.14 MPa at
 *   network, network-end and inlet sensors) for the on-delay; clears above low + hysteresis for the
 *   off-delay. Below thresholds.lowLow it is high priority.
 * - `pressure_drop:<sensor>`: a rapid drop (≥ dropMPa within dropWindowMin); clears when the
 *   pressure has recovered half of the drop.
 * - `pressure_deviation:<sensor>`: away from its time-of-week baseline by more than
 *   max(k × 1.4826 MAD, minDeviationMPa) for the on-delay; clears inside half of that.
 * A faulty sensor (ctx.health) is skipped and its conditions cleared. Conditions raised together
 * at many sensors of several DMAs are grouped under one `network_event` (network-event.ts). See README.md.
 */
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import { readRawHistory, replayByTimestamp } from '../../baseline/history.ts';
import type { z } from 'zod';
import { TimeOfWeekBaseline, warmBaselineFromStore } from '../../baseline/time-of-week.ts';
import { SampleInterval } from '../../baseline/sample-interval.ts';
import { pressureOptionsSchema, type PressureSettings } from './options.ts';
import type { Point } from '../../../core/model/reading.ts';
import { medianOfThree } from '../../baseline/median.ts';
import type { Condition, Detector, DetectorContext, OpenAlarm } from '../../types.ts';
import { alarmText, type AlarmText } from '../../../core/messages/alarm-texts.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import type { PlannedOutageLookup } from '../../outages/types.ts';
import { NetworkEvents } from './network-event.ts';
import { WarmedConditions } from '../warmed-conditions.ts';

export type PressureOptions = z.input<typeof pressureOptionsSchema> & {
  /** Burst detector (or anything) telling which burst is active in a DMA: secondary conditions link to it. */
  bursts?: { activeBurst(dma: string): string | undefined };
  /** The planned-outage register: a planned operation explains a network event. */
  planned?: Pick<PlannedOutageLookup, 'findPlanned'>;
};

const TYPES = ['pressure_low', 'pressure_drop', 'pressure_deviation'] as const;
type PressureType = (typeof TYPES)[number];

const MIN = 60_000;
/** The drop window widens with the sample interval up to this one (minutes). */
const MAX_SCALED_INTERVAL_MIN = 15;
/** Samples the drop window holds at least: a median of three before the drop and one after it. */
const DROP_WINDOW_SAMPLES = 5;

interface Active {
  since: number;
  /** The burst or network event it is a secondary effect of. */
  parent?: string;
  /** The network event it is part of (a burst, when there is one, is the parent still). */
  event?: string;
  evidence: Record<string, unknown>;
}

interface Track {
  sensor: string;
  dma: string;
  site: string;
  interval: SampleInterval;
  low: number | undefined;
  lowLow: number | undefined;
  lastTs: number;
  /** Recent (ts, value) for the drop window. */
  ts: number[];
  v: number[];
  lowPending: number | undefined;
  lowClearPending: number | undefined;
  devPending: number | undefined;
  devClearPending: number | undefined;
  lowActive?: Active;
  dropActive?: Active & { before: number; drop: number };
  devActive?: Active;
}

export class PressureDetector implements Detector {
  readonly name = 'pressure';
  private readonly tracks = new Map<string, Track>();
  private readonly baseline: TimeOfWeekBaseline;
  private readonly o: Omit<PressureSettings, 'baseline'>;
  private readonly events: NetworkEvents;
  private silent = false;
  /** What warmUp found and did not emit (reconcile). */
  private readonly warmed = new WarmedConditions();

  constructor(private readonly ctx: DetectorContext, private readonly options: PressureOptions = {}) {
    const { bursts: _bursts, planned, ...config } = options;
    const { baseline, ...settings } = parseDetectorOptions('pressure', pressureOptionsSchema, config);
    this.o = settings;
    this.events = new NetworkEvents(settings, planned);
    this.baseline = new TimeOfWeekBaseline({ timezone: ctx.timezone, calendar: ctx.calendar, historyDays: 21, ...baseline });
    for (const s of ctx.topology.networkSensors()) {
      if (s.kind !== 'pressure') continue;
      const low = s.thresholds?.low ?? (this.o.defaultLowPlaces.includes(s.place) ? this.o.defaultLowMPa : undefined);
      this.tracks.set(s.id, {
        sensor: s.id, dma: s.dma, site: s.site, interval: new SampleInterval(s.intervalS * 1000), low, lowLow: s.thresholds?.lowLow, lastTs: -Infinity, ts: [], v: [],
        lowPending: undefined, lowClearPending: undefined, devPending: undefined, devClearPending: undefined,
      });
    }
  }

  onReadings(batch: readonly Point[]): Condition[] {
    const out: Condition[] = [];
    for (const r of batch) {
      const t = this.tracks.get(r.sensor);
      if (!t) continue;
      if (this.ctx.health.isFaulty(r.sensor)) {
        this.clearAll(t, r.ts, 'sensor in fault', out);
        continue;
      }
      if (r.quality === 'bad' || !Number.isFinite(r.value) || r.ts <= t.lastTs) continue; // bad, late or duplicate
      t.lastTs = r.ts;
      t.interval.observe(r.ts);
      this.baseline.add(r.sensor, r.ts, r.value);
      const mark = out.length;
      this.checkLow(t, r.ts, r.value, out);
      this.checkDrop(t, r.ts, r.value, out);
      this.checkDeviation(t, r.ts, r.value, out);
      if (out.length > mark) this.groupIntoNetworkEvent(t, out, mark);
    }
    const last = batch.length ? batch[batch.length - 1].ts : undefined;
    this.linkToBursts(out, last);
    if (last !== undefined) this.endNetworkEvent(out, last);
    return this.silent ? this.warmed.keep(out) : out;
  }

  onTime(eventTime: number): Condition[] {
    const out: Condition[] = [];
    this.baseline.advance(eventTime);
    for (const t of this.tracks.values()) if (this.ctx.health.isFaulty(t.sensor)) this.clearAll(t, eventTime, 'sensor in fault', out);
    this.linkToBursts(out, eventTime);
    this.endNetworkEvent(out, eventTime);
    return this.silent ? this.warmed.keep(out) : out;
  }

  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    const sensors = [...this.tracks.keys()];
    const replayFrom = Math.floor((until - this.o.replayHours * 3_600_000) / this.baseline.slotMs) * this.baseline.slotMs;
    await warmBaselineFromStore(this.baseline, history, 'pressure', sensors, replayFrom - this.baseline.historyDays * 86_400_000, replayFrom);
    const raw = await readRawHistory(history, this.ctx.topology, sensors, replayFrom, until);
    this.silent = true;
    try {
      replayByTimestamp(raw, (batch) => this.onReadings(batch));
      this.onTime(until);
    } finally {
      this.silent = false;
    }
  }

  /**
   * After warmUp on a live restart (see Detector.reconcile). What the warm-up holds without an
   * alarm began while analytics was down: raised now, a network event before the conditions that
   * name it (a burst's own raise comes from the burst detector, before this one). An open alarm the
   * warm-up saw end is cleared. One it neither holds nor saw end is taken up from its evidence and
   * ends as live would: a low pressure back above its limit by the hysteresis, a drop back by
   * half, a deviation back within half its band, each for its off-delay; a network event when none
   * of its conditions is active. A second network event while the warm-up formed another is
   * cleared: one is held at a time.
   */
  reconcile(open: readonly OpenAlarm[], at: number): Condition[] {
    const raised = this.warmed.raisesWithoutAlarm(open, at);
    const out = [...raised.filter((c) => c.type === 'network_event'), ...raised.filter((c) => c.type !== 'network_event')];
    const events = open.filter((a) => a.type === 'network_event');
    for (const a of [...events, ...open.filter((x) => x.type !== 'network_event')]) {
      if (this.warmed.holds(a.conditionId)) continue;
      const ended = this.warmed.endedOf(a.conditionId);
      if (ended) {
        out.push(WarmedConditions.clearAt(ended, at));
        continue;
      }
      const ev = a.evidence ?? {};
      const since = typeof ev.since === 'number' ? ev.since : a.raisedAt;
      if (a.type === 'network_event') {
        if (!this.events.takeUp(a.conditionId, since, ev)) {
          out.push({ id: a.conditionId, type: 'network_event', state: 'clear', ts: at, text: alarmText('network_event.clear', { sensors: Array.isArray(ev.sensors) ? ev.sensors.length : 0 }), evidence: { ...ev, afterRestart: true } });
        }
        continue;
      }
      const t = (TYPES as readonly string[]).includes(a.type) ? this.tracks.get(a.conditionId.slice(a.type.length + 1)) : undefined;
      if (!t || this.active(t, a.type as PressureType)) continue;
      const parent = typeof ev.parent === 'string' ? ev.parent : undefined;
      const taken: Active = { since, evidence: ev, parent, event: parent?.startsWith('network_event:') ? parent : undefined };
      if (a.type === 'pressure_low' && t.low !== undefined) t.lowActive = taken;
      else if (a.type === 'pressure_deviation') t.devActive = taken;
      else if (a.type === 'pressure_drop' && typeof ev.fromMPa === 'number' && typeof ev.dropMPa === 'number') {
        t.dropActive = { ...taken, before: ev.fromMPa, drop: ev.dropMPa };
      }
    }
    this.warmed.clear();
    return out;
  }

  // ---- rules ----

  private checkLow(t: Track, ts: number, value: number, out: Condition[]): void {
    if (t.low === undefined) return;
    if (!t.lowActive) {
      if (value < t.low) {
        t.lowPending ??= ts;
        if (ts - t.lowPending >= this.o.lowOnDelayMin * MIN) {
          const severe = t.lowLow !== undefined && value < t.lowLow;
          t.lowActive = { since: t.lowPending, evidence: { valueMPa: value, thresholdMPa: t.low, lowLowMPa: t.lowLow, belowSince: t.lowPending } };
          t.lowClearPending = undefined;
          out.push(this.cond(t, 'pressure_low', 'raise', ts, severe ? 'high' : 'medium', t.lowActive,
            alarmText('pressure_low.raise', { sensor: t.sensor, value: fmt(value), limit: fmt(t.low) })));
        }
      } else t.lowPending = undefined;
      return;
    }
    if (value >= t.low + this.o.hysteresisMPa) {
      t.lowClearPending ??= ts;
      if (ts - t.lowClearPending >= this.o.lowOffDelayMin * MIN) {
        out.push(this.cond(t, 'pressure_low', 'clear', ts, 'medium', { ...t.lowActive, evidence: { ...t.lowActive.evidence, valueMPa: value } },
          alarmText('pressure_low.clear', { sensor: t.sensor, limit: fmt(t.low) })));
        t.lowActive = undefined;
        t.lowPending = undefined;
      }
    } else t.lowClearPending = undefined;
  }

  private checkDrop(t: Track, ts: number, value: number, out: Condition[]): void {
    t.ts.push(ts);
    t.v.push(value);
    // `dropWindowMin` at 1-min data; at a coarser interval wide enough for the medians of three
    const from = ts - Math.max(this.o.dropWindowMin, DROP_WINDOW_SAMPLES * t.interval.minutes(MAX_SCALED_INTERVAL_MIN)) * MIN;
    let cut = 0;
    while (cut < t.ts.length && t.ts[cut] < from) cut++;
    if (cut) {
      t.ts.splice(0, cut);
      t.v.splice(0, cut);
    }
    if (t.dropActive) {
      // recovered half of the drop: over
      if (value >= t.dropActive.before - t.dropActive.drop / 2) {
        out.push(this.cond(t, 'pressure_drop', 'clear', ts, 'medium', { ...t.dropActive, evidence: { ...t.dropActive.evidence, valueMPa: value } },
          alarmText('pressure_drop.clear', { sensor: t.sensor })));
        t.dropActive = undefined;
      }
      return;
    }
    if (t.v.length < 3) return;
    // smooth single-sample noise: the latest value against the highest of the window, both as medians of three
    const now = medianOfThree(t.v[t.v.length - 1], t.v[t.v.length - 2], t.v[t.v.length - 3]);
    let before = -Infinity;
    let beforeTs = ts;
    for (let i = 1; i + 1 < t.v.length - 2; i++) {
      const m = medianOfThree(t.v[i - 1], t.v[i], t.v[i + 1]);
      if (m > before) {
        before = m;
        beforeTs = t.ts[i];
      }
    }
    const drop = before - now;
    if (drop >= this.o.dropMPa) {
      t.dropActive = {
        since: beforeTs, before, drop,
        evidence: { dropMPa: round(drop), fromMPa: round(before), toMPa: round(now), withinMin: round((ts - beforeTs) / MIN, 1), startedAt: beforeTs },
      };
      out.push(this.cond(t, 'pressure_drop', 'raise', ts, drop >= 2 * this.o.dropMPa ? 'high' : 'medium', t.dropActive,
        alarmText('pressure_drop.raise', { sensor: t.sensor, drop: fmt(drop), minutes: Math.round((ts - beforeTs) / MIN) })));
    }
  }

  private checkDeviation(t: Track, ts: number, value: number, out: Condition[]): void {
    const e = this.baseline.expected(t.sensor, ts);
    if (!e || !e.sameType || e.days < this.o.deviationMinDays) return;
    const limit = Math.max(this.o.deviationK * e.sigma, this.o.minDeviationMPa);
    const dev = value - e.median;
    const evidence = { valueMPa: round(value), baselineMPa: round(e.median), deviationMPa: round(dev), limitMPa: round(limit), baselineDays: e.days };
    if (!t.devActive) {
      if (Math.abs(dev) > limit) {
        t.devPending ??= ts;
        if (ts - t.devPending >= this.o.deviationOnDelayMin * MIN) {
          t.devActive = { since: t.devPending, evidence: { ...evidence, direction: dev < 0 ? 'below' : 'above' } };
          t.devClearPending = undefined;
          out.push(this.cond(t, 'pressure_deviation', 'raise', ts, 'low', t.devActive,
            alarmText('pressure_deviation.raise', { sensor: t.sensor, direction: dev < 0 ? '@below' : '@above', deviation: fmt(Math.abs(dev)) })));
        }
      } else t.devPending = undefined;
      return;
    }
    if (Math.abs(dev) < limit / 2) {
      t.devClearPending ??= ts;
      if (ts - t.devClearPending >= this.o.deviationOffDelayMin * MIN) {
        out.push(this.cond(t, 'pressure_deviation', 'clear', ts, 'low', { ...t.devActive, evidence }, alarmText('pressure_deviation.clear', { sensor: t.sensor })));
        t.devActive = undefined;
        t.devPending = undefined;
      }
    } else t.devClearPending = undefined;
  }

  private clearAll(t: Track, ts: number, reason: string, out: Condition[]): void {
    const msg = alarmText('pressure.withdrawn', { sensor: t.sensor, reason: `@reason.${reason.replaceAll(' ', '_')}` });
    if (t.lowActive) out.push(this.cond(t, 'pressure_low', 'clear', ts, 'medium', { ...t.lowActive, evidence: { ...t.lowActive.evidence, reason } }, msg));
    if (t.dropActive) out.push(this.cond(t, 'pressure_drop', 'clear', ts, 'medium', { ...t.dropActive, evidence: { ...t.dropActive.evidence, reason } }, msg));
    if (t.devActive) out.push(this.cond(t, 'pressure_deviation', 'clear', ts, 'low', { ...t.devActive, evidence: { ...t.devActive.evidence, reason } }, msg));
    t.lowActive = t.dropActive = t.devActive = undefined;
    t.lowPending = t.devPending = undefined;
    t.ts.length = 0;
    t.v.length = 0;
  }

  private active(t: Track, type: PressureType): Active | undefined {
    return type === 'pressure_low' ? t.lowActive : type === 'pressure_drop' ? t.dropActive : t.devActive;
  }

  /**
   * The conditions a reading at `t` just added (out[mark..]): a raise not explained by a burst joins
   * the active network event, or with the raises before it forms one. The manager needs the event's
   * raise before the raises that name it, and the updates of those already sent before the event's
   * raise (it then takes their alarms under it), so out is reordered accordingly.
   */
  private groupIntoNetworkEvent(t: Track, out: Condition[], mark: number): void {
    if (t.dma && this.options.bursts?.activeBurst(t.dma)) return;
    const fresh = out.splice(mark);
    for (const c of fresh) {
      const a = c.state === 'raise' ? this.active(t, c.type as PressureType) : undefined;
      const r = a ? this.events.noteRaise({ conditionId: c.id, sensor: t.sensor, dma: t.dma, site: t.site, ts: c.ts }) : undefined;
      if (!a || !r) { out.push(c); continue; }
      a.event = a.parent = r.id;
      c.evidence = { ...c.evidence, parent: r.id };
      if (r.formed && r.raise) {
        const named: Condition[] = [];
        for (const f of r.formed) {
          if (f.conditionId === c.id) continue;
          const type = f.conditionId.slice(0, f.conditionId.indexOf(':')) as PressureType;
          const ft = this.tracks.get(f.sensor)!;
          const fa = this.active(ft, type);
          if (!fa) continue; // cleared since
          fa.event = fa.parent = r.id;
          const i = out.findIndex((x) => x.id === f.conditionId && x.state === 'raise');
          if (i >= 0) {
            const [raised] = out.splice(i, 1);
            raised.evidence = { ...raised.evidence, parent: r.id };
            named.push(raised);
          } else out.push(this.cond(ft, type, 'update', c.ts, undefined, fa, alarmText('pressure.secondary', { sensor: ft.sensor, parent: r.id })));
        }
        out.push(r.raise, ...named);
      }
      out.push(c);
    }
  }

  /** The network event ends when none of its conditions is active. */
  private endNetworkEvent(out: Condition[], ts: number): void {
    const id = this.events.activeId;
    if (!id) return;
    let stillActive = false;
    for (const t of this.tracks.values()) {
      if (t.lowActive?.event === id || t.dropActive?.event === id || t.devActive?.event === id) { stillActive = true; break; }
    }
    const clear = this.events.clearIfOver(stillActive, ts);
    if (clear) out.push(clear);
  }

  /** Active conditions in a DMA with a burst get evidence.parent = the burst's id (an update when it appears), else their network event's. */
  private linkToBursts(out: Condition[], ts: number | undefined): void {
    const bursts = this.options.bursts;
    if (!bursts || ts === undefined) return;
    for (const t of this.tracks.values()) {
      // (twice a step over every sensor: the common case, nothing active, allocates nothing)
      if (!t.lowActive && !t.dropActive && !t.devActive) continue;
      const burst = t.dma ? bursts.activeBurst(t.dma) : undefined;
      for (const [type, a] of [['pressure_low', t.lowActive], ['pressure_drop', t.dropActive], ['pressure_deviation', t.devActive]] as const) {
        const parent = burst ?? a?.event;
        if (!a || a.parent === parent) continue;
        a.parent = parent;
        const raisedNow = out.find((c) => c.id === `${type}:${t.sensor}` && c.state === 'raise');
        if (raisedNow) raisedNow.evidence = { ...raisedNow.evidence, parent };
        else out.push(this.cond(t, type, 'update', ts, type === 'pressure_deviation' ? 'low' : 'medium', a,
          parent ? alarmText('pressure.secondary', { sensor: t.sensor, parent }) : alarmText('pressure.unlinked', { sensor: t.sensor })));
      }
    }
  }

  /** `priority` undefined: an update that keeps the alarm's. */
  private cond(t: Track, type: string, state: Condition['state'], ts: number, priority: Condition['priority'], a: Active, text: AlarmText): Condition {
    return {
      id: `${type}:${t.sensor}`, type, state, ts, ...(priority ? { priority } : {}), site: t.site || undefined, dma: t.dma || undefined, sensor: t.sensor, text,
      evidence: { ...a.evidence, since: a.since, ...(a.parent ? { parent: a.parent } : {}) },
    };
  }
}

function round(x: number, d = 4): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function fmt(x: number): string {
  return x.toFixed(3);
}
