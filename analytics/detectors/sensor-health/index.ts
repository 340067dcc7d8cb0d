/**
 * Sensor health: which sensors cannot be trusted right now, and why.
 *
 * Faults (each a condition `sensor_<fault>:<sensor>`):
 * - stale: no reading for `staleIntervals` × the sensor's intervalS, judged on the watermark (onTime);
 * - flatline: the same value `flatlineSamples` times in a row, for kinds that always move a little
 *   (a frozen transmitter or a stuck register); an exact zero of flow or pressure is not counted,
 *   because a stopped flow or an emptied main really reads zero;
 * - range: a value outside the kind's physical range (core/model/units.ts PHYSICAL_RANGE, or a
 *   narrower range given per kind);
 * - bad_quality: `badQualitySamples` bad-quality readings in a row;
 * - offline: the source says the sensor is gone (Sparkplug NDEATH/DDEATH, OPC UA session lost),
 *   passed in by the worker through markOffline/markOnline;
 * - spike: isolated readings far from their neighbours (a Hampel test on a short window, spike.ts),
 *   `spikeSamples` of them within `spikeWindowMs`; a step (pump start, burst) is not a spike, nor is
 *   one a peer (same kind, same DMA) shows at the same instant the same way (the water moved);
 * - drift: the sensor slowly departs from its peers (a CUSUM on the difference to the peers'
 *   median, drift.ts); a step that all or some of the peers share (a burst) is not a drift.
 *
 * Many sensors falling silent together (stale or offline) are one `comms_loss` event, their own
 * conditions linked under it (comms-loss.ts).
 *
 * It is also the SensorHealthView the other detectors consult: a sensor with any fault is excluded
 * until it recovers. Feed it each batch BEFORE the other detectors.
 */
import { readRawHistory } from '../../baseline/history.ts';
import type { Point } from '../../../core/model/reading.ts';
import type { Condition, Detector, DetectorContext, OpenAlarm, SensorHealthView } from '../../types.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import type { Topology } from '../../../core/topology/topology.ts';
import { PHYSICAL_RANGE, type Kind } from '../../../core/model/units.ts';
import { DRIFT_SIZE, SPIKE_MIN_ABS, sensorHealthOptionsSchema, type SensorHealthOptions, type SensorHealthSettings } from './options.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import { SpikeTracker, type SpikeFound } from './spike.ts';
import { DriftTracker } from './drift.ts';
import { CommsLossEvents, type SilenceRaise } from './comms-loss.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';
import { SampleInterval } from '../../baseline/sample-interval.ts';

export type SensorFault = 'stale' | 'flatline' | 'range' | 'bad_quality' | 'offline' | 'spike' | 'drift';

export type { SensorHealthOptions };
export { DRIFT_SIZE, SPIKE_MIN_ABS };

const HOUR = 3_600_000;
/** The worker's step: the drift warm-up steps through stored readings as live did. */
const STEP_MS = 60_000;
/**
 * Days of stored readings the drift warm-up replays: a day to learn the references, then six of
 * judging (the references follow a sensor with a one-week half-life; a drift found by the replay is
 * raised at the restart).
 */
const DRIFT_REPLAY_DAYS = 7;

const FAULT_PRIORITY: Record<SensorFault, Condition['priority']> = {
  stale: 'medium', flatline: 'medium', range: 'medium', bad_quality: 'low', offline: 'medium', spike: 'low', drift: 'low',
};

/**
 * The faults warmUp rebuilds from the stored readings alone, so that after a restart the warmed
 * state is the truth about them (an alarm of one that is over is cleared). Not offline (the source
 * says it, on the bus, not in the store) nor drift (its replayed week may have learnt an older
 * drift as normal: an open drift alarm resumes from its reference; a drift the week finds is raised).
 */
const REBUILT_FAULTS: ReadonlySet<SensorFault> = new Set<SensorFault>(['stale', 'flatline', 'range', 'bad_quality', 'spike']);

interface SensorState {
  lastTs: number;
  lastValue?: number;
  repeatCount: number;
  badCount: number;
  goodCount: number;
  inRangeCount: number;
  offlineSince?: number;
  offlineReason?: string;
  /**
   * The offline fault was taken up from an alarm after a restart: the source's birth may have come
   * while analytics was down, so the sensor's next recent reading ends it too.
   */
  offlineTakenUp?: boolean;
  /** Latest good, in-range value and its time (drift compares it with the peers'). */
  goodValue: number;
  goodTs: number;
  spike?: SpikeTracker;
  spikeTimes: number[];
  lastSpikeTs: number;
  drift?: DriftTracker;
  /** Active faults with the event time they were raised. */
  faults: Map<SensorFault, number>;
  /** For a sensor of the topology: its kind's rules and its staleness limit, ms, looked up once. */
  rules?: KindRules;
  staleLimitMs: number;
  /**
   * The interval its readings come at: the declared one until they show their own (a sensor the
   * topology declares at 5 min whose SCADA export holds 15-min samples). Staleness counts
   * `staleIntervals` of the longer of the two.
   */
  interval?: SampleInterval;
  declaredIntervalMs?: number;
}

/** Sensors compared with one another for drift. */
interface DriftGroup {
  key: string;
  sensors: { id: string; intervalS: number }[];
  /** The sensors' states, in the order of `sensors` (states are never dropped, so held once). */
  states: SensorState[];
}

/** What onReadings needs per kind, worked out once from the options (hot path: no lookups per reading). */
interface KindRules {
  lo: number;
  hi: number;
  spikeMinAbs: number | undefined;
  flatline: boolean;
  zeroIsReal: boolean;
}

/** A sensor onTime checks for staleness, with its state and limit held once. */
interface WatchedSensor {
  id: string;
  state: SensorState;
  limitMs: number;
}

export class SensorHealthDetector implements Detector, SensorHealthView {
  readonly name = 'sensor-health';
  private readonly topology: Topology;
  private readonly o: SensorHealthSettings;
  private readonly states = new Map<string, SensorState>();
  /** Watermark when the detector started: a sensor never heard from is stale counted from here. */
  private firstWatermark?: number;
  private watermark = -Infinity;
  private warming = false;
  private readonly driftGroups: DriftGroup[] = [];
  private driftHour = NaN;
  private readonly kindRules = new Map<string, KindRules>();
  /** Per sensor, the sensors whose simultaneous outliers make its spike the water's (spikePeersOf). */
  private readonly spikePeers = new Map<string, readonly string[]>();
  /** The sensors of the topology not exempt from staleness, built at the first onTime. */
  private watched?: WatchedSensor[];
  private readonly commsLoss: CommsLossEvents;
  /** Silence faults (stale, offline) raised since the last grouping into communications losses. */
  private silences: SilenceRaise[] = [];
  /** The evidence of the faults warmUp found, for their raise when no alarm holds them (reconcile). */
  private readonly warmedEvidence = new Map<string, Record<string, unknown>>();
  /** Readings warmUp read: none means the store knows nothing of the sensors (a first start). */
  private warmedReadings = 0;
  private readonly silent = (sensor: string): boolean => {
    const f = this.states.get(sensor)?.faults;
    return !!f && (f.has('stale') || f.has('offline'));
  };

  constructor(ctx: Pick<DetectorContext, 'topology'>, options: SensorHealthOptions = {}) {
    this.topology = ctx.topology;
    this.o = parseDetectorOptions('sensor-health', sensorHealthOptionsSchema, options);
    this.commsLoss = new CommsLossEvents(this.o);
    this.buildDriftGroups();
  }

  /**
   * Drift peers: the sensors of a kind in one DMA when there are enough of them, else (for water
   * quality) every sensor of that kind in a DMA. Plant sensors (no DMA) are not compared.
   */
  private buildDriftGroups(): void {
    const byDma = new Map<string, { id: string; intervalS: number }[]>();
    const byKind = new Map<string, { id: string; intervalS: number }[]>();
    for (const info of this.topology.sensors.values()) {
      if (!info.dma || this.o.driftSize[info.kind] === undefined) continue;
      const k = `${info.dma}|${info.kind}`;
      (byDma.get(k) ?? byDma.set(k, []).get(k)!).push({ id: info.id, intervalS: info.intervalS });
      (byKind.get(info.kind) ?? byKind.set(info.kind, []).get(info.kind)!).push({ id: info.id, intervalS: info.intervalS });
    }
    const min = this.o.driftMinPeers + 1;
    const leftOver = new Map<string, { id: string; intervalS: number }[]>();
    for (const [key, sensors] of byDma) {
      if (sensors.length >= min) this.driftGroups.push({ key, sensors, states: [] });
      else {
        const kind = key.slice(key.indexOf('|') + 1) as Kind;
        if (this.o.driftNetworkKinds.includes(kind)) (leftOver.get(kind) ?? leftOver.set(kind, []).get(kind)!).push(...sensors);
      }
    }
    // water quality: the DMAs with too few sensors of a kind are compared network-wide
    for (const [kind, sensors] of leftOver) {
      const all = byKind.get(kind)!;
      if (all.length >= min && sensors.length === all.length) this.driftGroups.push({ key: `*|${kind}`, sensors: all, states: [] });
      else if (sensors.length >= min) this.driftGroups.push({ key: `*|${kind}`, sensors, states: [] });
    }
    for (const g of this.driftGroups) {
      for (const s of g.sensors) {
        const kind = this.topology.sensors.get(s.id)!.kind;
        this.state(s.id).drift = new DriftTracker({
          size: this.o.driftSize[kind]!, hSize: this.o.driftThreshold, learnHours: this.o.driftLearnHours,
          rebaseHours: this.o.driftRebaseHours, refHalfLifeHours: 7 * 24, stepHours: this.o.driftStepHours,
        });
      }
    }
    for (const g of this.driftGroups) for (const s of g.sensors) g.states.push(this.states.get(s.id)!);
  }

  isFaulty(sensor: string): boolean {
    const s = this.states.get(sensor);
    return !!s && s.faults.size > 0;
  }

  intervalMs(sensor: string): number | undefined {
    const s = this.states.get(sensor);
    return s?.interval ? Math.max(s.interval.ms, s.declaredIntervalMs ?? 0) : undefined;
  }

  /** The active faults of a sensor, for evidence in other detectors and for the dashboard. */
  faultsOf(sensor: string): SensorFault[] {
    return [...(this.states.get(sensor)?.faults.keys() ?? [])];
  }

  /** Whether a peer (same kind, same DMA) was an outlier the same way at one of the spike's instants. */
  private sharedWithPeer(sensor: string, found: SpikeFound): boolean {
    for (const peer of this.spikePeersOf(sensor)) {
      const tracker = this.states.get(peer)?.spike;
      if (!tracker) continue;
      for (let i = 0; i < found.ts.length; i++) {
        const sign = tracker.outlierAt(found.ts[i]);
        if (sign !== 0 && sign === Math.sign(found.values[i] - found.median)) return true;
      }
    }
    return false;
  }

  /** The other sensors of a sensor's kind in its DMA (none outside a DMA), looked up once. */
  private spikePeersOf(sensor: string): readonly string[] {
    let peers = this.spikePeers.get(sensor);
    if (!peers) {
      const info = this.topology.sensors.get(sensor);
      peers = info?.dma ? [...this.topology.sensors.values()].filter((o) => o.id !== sensor && o.dma === info.dma && o.kind === info.kind).map((o) => o.id) : [];
      this.spikePeers.set(sensor, peers);
    }
    return peers;
  }

  private rulesOf(kind: Kind): KindRules {
    let k = this.kindRules.get(kind);
    if (!k) {
      const [lo, hi] = this.o.range?.[kind] ?? PHYSICAL_RANGE[kind] ?? [-Infinity, Infinity];
      k = {
        lo, hi, spikeMinAbs: this.o.spikeMinAbs[kind], flatline: this.o.flatlineKinds.includes(kind),
        zeroIsReal: this.o.zeroIsRealKinds.includes(kind),
      };
      this.kindRules.set(kind, k);
    }
    return k;
  }

  private state(sensor: string): SensorState {
    let s = this.states.get(sensor);
    if (!s) {
      s = { lastTs: -Infinity, repeatCount: 0, badCount: 0, goodCount: 0, inRangeCount: 0, goodValue: NaN, goodTs: -Infinity, spikeTimes: [], lastSpikeTs: -Infinity, faults: new Map(), staleLimitMs: NaN };
      this.states.set(sensor, s);
    }
    return s;
  }

  /** `silentSince` for a silence fault (stale, offline): when the sensor was last heard. */
  private raise(out: Condition[], sensor: string, fault: SensorFault, ts: number, evidence: Record<string, unknown>, silentSince?: number): void {
    const s = this.state(sensor);
    if (s.faults.has(fault)) return;
    s.faults.set(fault, ts);
    const info = this.topology.sensors.get(sensor);
    if (silentSince !== undefined) {
      this.silences.push({
        conditionId: `sensor_${fault}:${sensor}`, sensor, silentSince, raisedAt: ts, intervalMs: (info?.intervalS ?? 60) * 1000,
        site: info?.site ?? '', dma: info?.dma ?? '', source: info?.source?.type, evidence,
      });
    }
    if (this.warming) {
      this.warmedEvidence.set(`sensor_${fault}:${sensor}`, evidence);
      return;
    }
    out.push(this.faultCondition(sensor, fault, 'raise', ts, evidence));
  }

  private faultCondition(sensor: string, fault: SensorFault, state: 'raise' | 'clear', ts: number, evidence: Record<string, unknown>): Condition {
    const info = this.topology.sensors.get(sensor);
    return {
      id: `sensor_${fault}:${sensor}`, type: `sensor_${fault}`, state, ts, priority: FAULT_PRIORITY[fault],
      site: info?.site, dma: info?.dma || undefined, sensor, evidence,
      text: state === 'raise'
        ? alarmText('sensor_fault.raise', { sensor, fault: `@fault.${fault}` })
        : alarmText('sensor_fault.clear', { sensor, faultCode: fault }),
    };
  }

  private clear(out: Condition[], sensor: string, fault: SensorFault, ts: number, evidence: Record<string, unknown> = {}): void {
    const s = this.states.get(sensor);
    if (!s || !s.faults.has(fault)) return;
    const since = s.faults.get(fault)!;
    s.faults.delete(fault);
    if (fault === 'offline') s.offlineTakenUp = undefined;
    if (this.warming) return;
    out.push(this.faultCondition(sensor, fault, 'clear', ts, { ...evidence, faultSince: since }));
  }

  onReadings(batch: readonly Point[]): Condition[] {
    const out: Condition[] = [];
    for (const r of batch) {
      const s = this.state(r.sensor);
      let rules = s.rules;
      let staleLimitMs = s.staleLimitMs;
      const info = rules ? undefined : this.topology.sensors.get(r.sensor);
      if (!rules) {
        rules = this.rulesOf((info?.kind ?? r.measurement) as Kind);
        staleLimitMs = this.o.staleIntervals * (info?.intervalS ?? 60) * 1000;
        // (a sensor outside the topology takes its kind from each reading: not kept)
        if (info) {
          s.rules = rules; s.staleLimitMs = staleLimitMs;
          s.declaredIntervalMs = info.intervalS * 1000;
          s.interval = new SampleInterval(s.declaredIntervalMs);
        }
      }
      // Late data (older than what we have) says nothing about the sensor now: no flatline counting,
      // and it must not un-stale the sensor.
      if (r.ts <= s.lastTs) continue;
      s.lastTs = r.ts;
      if (s.interval) {
        // readings coarser than declared: silence is counted in their own intervals (15-min samples
        // of a sensor declared at 5 min were stale, and a comms_loss, at every sample)
        s.interval.observe(r.ts);
        staleLimitMs = s.staleLimitMs = this.observedStaleLimitMs(s.interval, s.declaredIntervalMs ?? 0);
      }
      // a late reading that is itself already too old for the watermark does not end staleness
      const fresh = this.watermark - r.ts < staleLimitMs;
      if (s.faults.has('stale') && fresh) this.clear(out, r.sensor, 'stale', r.ts, { value: r.value });
      if (s.offlineTakenUp && fresh) {
        s.offlineSince = undefined; s.offlineReason = undefined;
        this.clear(out, r.sensor, 'offline', r.ts, { value: r.value, endedBy: 'reading' });
      }

      // bad quality
      if (r.quality === 'bad') {
        s.badCount++; s.goodCount = 0;
        if (s.badCount >= this.o.badQualitySamples) this.raise(out, r.sensor, 'bad_quality', r.ts, { samples: s.badCount });
        continue; // a bad value is no evidence for range or flatline
      }
      s.goodCount++; s.badCount = 0;
      if (s.faults.has('bad_quality') && s.goodCount >= this.o.recoverySamples) this.clear(out, r.sensor, 'bad_quality', r.ts);

      // physical range
      const lo = rules.lo;
      const hi = rules.hi;
      if (!Number.isFinite(r.value) || r.value < lo || r.value > hi) {
        s.inRangeCount = 0;
        this.raise(out, r.sensor, 'range', r.ts, { value: r.value, min: lo, max: hi });
        continue;
      }
      s.inRangeCount++;
      if (s.faults.has('range') && s.inRangeCount >= this.o.recoverySamples) this.clear(out, r.sensor, 'range', r.ts, { value: r.value });
      s.goodValue = r.value; s.goodTs = r.ts;

      // spikes
      const minAbs = rules.spikeMinAbs;
      if (minAbs !== undefined) {
        s.spike ??= new SpikeTracker({ window: this.o.spikeWindow, k: this.o.spikeK, minAbs, minRel: this.o.spikeMinRel, maxRun: this.o.spikeMaxRun });
        const found = s.spike.push(r.ts, r.value);
        // a spike a peer showed too, at the same instant and the same way, is the water's (a pump
        // start at both of a town's inlets, as on BattLeDIM), not this sensor's
        if (found && !this.sharedWithPeer(r.sensor, found)) {
          for (const t of found.ts) s.spikeTimes.push(t);
          s.lastSpikeTs = found.ts[found.ts.length - 1];
          const since = r.ts - this.o.spikeWindowMs;
          while (s.spikeTimes.length && s.spikeTimes[0] < since) s.spikeTimes.shift();
          if (s.spikeTimes.length >= this.o.spikeSamples) {
            this.raise(out, r.sensor, 'spike', r.ts, { values: found.values, median: found.median, band: found.band, spikesInWindow: s.spikeTimes.length });
          }
        }
      }

      // flatline
      if (rules.flatline) {
        const zeroIsReal = r.value === 0 && rules.zeroIsReal;
        if (s.lastValue === r.value && !zeroIsReal) s.repeatCount++;
        else {
          if (s.faults.has('flatline')) this.clear(out, r.sensor, 'flatline', r.ts, { value: r.value, previous: s.lastValue });
          s.repeatCount = 1;
        }
        if (s.repeatCount >= this.o.flatlineSamples) this.raise(out, r.sensor, 'flatline', r.ts, { value: r.value, samples: s.repeatCount });
      }
      s.lastValue = r.value;
    }
    if (batch.length) this.endCommsLoss(out, batch[batch.length - 1].ts);
    return out;
  }

  onTime(eventTime: number): Condition[] {
    const out: Condition[] = [];
    if (eventTime <= this.watermark) return out;
    this.watermark = eventTime;
    this.firstWatermark ??= eventTime;
    this.checkDrift(out, eventTime);
    const watched = this.watched ??= this.watchedSensors();
    for (let i = 0; i < watched.length; i++) {
      const w = watched[i];
      const s = w.state;
      const limitMs = Number.isFinite(s.staleLimitMs) ? s.staleLimitMs : w.limitMs;
      const heardAt = Number.isFinite(s.lastTs) ? s.lastTs : this.firstWatermark;
      if (eventTime - heardAt >= limitMs) {
        // an offline sensor is silent by definition: the offline fault already says so
        if (!s.faults.has('offline')) this.raise(out, w.id, 'stale', heardAt + limitMs, { lastReading: Number.isFinite(s.lastTs) ? s.lastTs : null, silentS: Math.round((eventTime - heardAt) / 1000), limitS: limitMs / 1000 }, heardAt);
      }
      if (s.faults.has('spike') && eventTime - s.lastSpikeTs >= this.o.spikeClearMs) {
        s.spikeTimes.length = 0;
        this.clear(out, w.id, 'spike', eventTime, { lastSpike: s.lastSpikeTs });
      }
    }
    this.groupSilences(out, eventTime);
    return out;
  }

  /**
   * The silences raised just now become part of a communications loss when enough sensors went
   * silent together: their conditions name it as parent, those raised earlier by an update. The
   * manager needs those updates before the event's raise (it then takes their alarms under it) and
   * the event's raise before the raises that name it, so `out` is reordered accordingly.
   */
  private groupSilences(out: Condition[], ts: number): void {
    if (!this.silences.length) return;
    const silences = this.silences;
    this.silences = [];
    const eventRaises: Condition[] = [];
    const children = new Set<Condition>();
    const nameParent = (r: SilenceRaise, parent: string): void => {
      const c = out.find((x) => x.id === r.conditionId && x.state === 'raise');
      if (c) {
        c.evidence = { ...c.evidence, parent };
        children.add(c);
      } else if (!this.warming && this.silent(r.sensor)) {
        const info = this.topology.sensors.get(r.sensor);
        const fault = r.conditionId.slice('sensor_'.length, r.conditionId.indexOf(':')) as SensorFault;
        out.push({
          id: r.conditionId, type: `sensor_${fault}`, state: 'update', ts, site: info?.site, dma: info?.dma || undefined, sensor: r.sensor,
          text: alarmText('sensor_fault.raise', { sensor: r.sensor, fault: `@fault.${fault}` }), evidence: { ...r.evidence, parent },
        });
      }
    };
    for (const r of silences) {
      const found = this.commsLoss.note(r, this.silent);
      if (!found) continue;
      nameParent(r, found.id);
      for (const f of found.formed ?? []) if (f !== r) nameParent(f, found.id);
      if (found.raise) eventRaises.push(found.raise);
    }
    if (this.warming || !children.size && !eventRaises.length) return;
    const rest = out.filter((c) => !children.has(c));
    const named = out.filter((c) => children.has(c));
    out.length = 0;
    out.push(...rest, ...eventRaises, ...named);
  }

  /** Communications losses none of whose sensors is silent any more end. */
  private endCommsLoss(out: Condition[], ts: number): void {
    const clears = this.commsLoss.clearOver(this.silent, ts);
    if (!this.warming) out.push(...clears);
  }

  private watchedSensors(): WatchedSensor[] {
    const out: WatchedSensor[] = [];
    for (const info of this.topology.sensors.values()) {
      if (this.o.staleExemptKinds.includes(info.kind)) continue;
      out.push({ id: info.id, state: this.state(info.id), limitMs: this.o.staleIntervals * info.intervalS * 1000 });
    }
    return out;
  }

  /**
   * Each step: every drift-checked sensor's difference to the median of its healthy, recent peers;
   * each hour: the CUSUM verdicts.
   */
  private checkDrift(out: Condition[], eventTime: number): void {
    if (!this.driftGroups.length) return;
    const hour = Math.floor(eventTime / HOUR);
    const closing = !Number.isNaN(this.driftHour) && hour !== this.driftHour;
    this.driftHour = hour;
    const values: number[] = [];
    const peers: number[] = [];
    for (const g of this.driftGroups) {
      if (closing) {
        for (let i = 0; i < g.sensors.length; i++) {
          const m = g.sensors[i];
          const s = g.states[i];
          const verdict = s.drift!.closeHour(Math.max(1, Math.floor(1800 / m.intervalS)));
          if (!verdict) continue;
          if (verdict.drifting) this.raise(out, m.id, 'drift', eventTime, { residual: verdict.residual, cusum: verdict.cusum, reference: verdict.reference, peers: g.key });
          else if (s.faults.has('drift')) this.clear(out, m.id, 'drift', eventTime, { residual: verdict.residual });
        }
      }
      // the values of this step: recent ones; as peers, only from sensors without a fault
      values.length = 0;
      peers.length = 0;
      for (let i = 0; i < g.sensors.length; i++) {
        const m = g.sensors[i];
        const s = g.states[i];
        const recent = eventTime - s.goodTs <= 2 * m.intervalS * 1000;
        values.push(recent ? s.goodValue : NaN);
        if (recent && s.faults.size === 0) peers.push(s.goodValue);
      }
      peers.sort((a, b) => a - b);
      for (let i = 0; i < g.sensors.length; i++) {
        const v = values[i];
        if (Number.isNaN(v)) continue;
        // the median of the peers without this sensor's own value (when it is among them)
        const state = g.states[i];
        const own = state.faults.size === 0 ? peers.indexOf(v) : -1;
        const n = own >= 0 ? peers.length - 1 : peers.length;
        if (n < this.o.driftMinPeers) continue;
        const median = n % 2 ? peerAt(peers, own, n >> 1) : (peerAt(peers, own, (n >> 1) - 1) + peerAt(peers, own, n >> 1)) / 2;
        state.drift!.add(v - median);
      }
    }
  }

  /** The source lost these sensors (Sparkplug death, OPC UA session lost) at event time `ts`. */
  markOffline(sensors: readonly string[], ts: number, reason = 'source lost'): Condition[] {
    const out: Condition[] = [];
    for (const id of sensors) {
      const s = this.state(id);
      s.offlineSince = ts; s.offlineReason = reason;
      this.raise(out, id, 'offline', ts, { reason }, ts);
      // stale said the same thing less precisely
      this.clear(out, id, 'stale', ts, { supersededBy: 'offline' });
    }
    this.groupSilences(out, ts);
    return out;
  }

  /** The sensors marked offline now, with the reason their source gave (analytics/worker.ts catches up by it). */
  offlineSensors(): { sensor: string; reason?: string }[] {
    const out: { sensor: string; reason?: string }[] = [];
    for (const [sensor, s] of this.states) if (s.offlineSince !== undefined) out.push({ sensor, ...(s.offlineReason ? { reason: s.offlineReason } : {}) });
    return out;
  }

  /** The source has the sensors back (Sparkplug birth, session restored). */
  markOnline(sensors: readonly string[], ts: number): Condition[] {
    const out: Condition[] = [];
    for (const id of sensors) {
      const s = this.state(id);
      const reason = s.offlineReason;
      s.offlineSince = undefined; s.offlineReason = undefined;
      this.clear(out, id, 'offline', ts, { reason });
    }
    this.endCommsLoss(out, ts);
    return out;
  }

  /**
   * Rebuilds the last readings and repeat counts from the last hours of the store, so that a
   * restart neither forgets a frozen sensor nor calls every sensor stale for lack of history.
   */
  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    this.warming = true;
    try {
      await this.warmDrift(history, until);
    } finally {
      this.warming = false;
    }
    const watched = [...this.topology.sensors.values()].filter((s) => !this.o.staleExemptKinds.includes(s.kind)).map((s) => s.id);
    const maxIntervalS = Math.max(60, ...[...this.topology.sensors.values()].filter((s) => !this.o.staleExemptKinds.includes(s.kind)).map((s) => s.intervalS));
    // enough for a flatline and a staleness of the slowest sensor, and for spikes: an hour's spikes
    // before the last hour without one (spikeWindowMs + spikeClearMs) after a full Hampel window
    const from = until - Math.max(
      Math.max(this.o.flatlineSamples + 1, this.o.staleIntervals + 1) * maxIntervalS * 1000,
      this.o.spikeWindowMs + this.o.spikeClearMs + (this.o.spikeWindow + 1) * maxIntervalS * 1000,
    );
    const readings = await readRawHistory(history, this.topology, watched, from, until);
    this.warmedReadings = readings.length;
    await this.warmIntervals(history, from, until);
    this.warming = true;
    try {
      this.onReadings(readings);
      this.firstWatermark = from;
      this.onTime(until);
    } finally {
      this.warming = false;
    }
  }

  /**
   * `staleIntervals` intervals as the readings show them, at least the declared one (until 4 gaps
   * have shown the interval, the last gap stands for it: one stale at the start, not four).
   */
  private observedStaleLimitMs(interval: SampleInterval, declaredMs: number): number {
    const observedMs = interval.inferred ? interval.ms : interval.lastGapMs;
    return this.o.staleIntervals * Math.max(Number.isNaN(observedMs) ? 0 : observedMs, declaredMs);
  }

  /**
   * The interval of each watched sensor silent through the replayed window, from its stored
   * readings before its latest (within a week): after a restart a logger back from a 6-hour
   * silence at 15-min samples was stale 3 minutes after its first reading, its interval forgotten
   * and the declared 60 s standing for it (`npm run bench -- detect:restarts-15min`).
   */
  private async warmIntervals(history: TimeSeriesStore, from: number, until: number): Promise<void> {
    const byKind = new Map<string, string[]>();
    for (const info of this.topology.sensors.values()) {
      if (this.o.staleExemptKinds.includes(info.kind)) continue;
      let ids = byKind.get(info.kind);
      if (!ids) byKind.set(info.kind, ids = []);
      ids.push(info.id);
    }
    for (const [kind, sensors] of byKind) {
      const silent = (await history.latest(kind, sensors)).filter((last) => last.ts < from && last.ts >= until - 7 * 24 * HOUR);
      if (!silent.length) continue;
      // one read per kind for all of them: a lost site silences many at once
      const before = await history.query({
        measurement: kind, sensors: silent.map((l) => l.sensor),
        from: Math.min(...silent.map((l) => l.ts)) - 24 * HOUR, to: Math.max(...silent.map((l) => l.ts)) + 1,
      });
      for (const last of silent) {
        const s = this.state(last.sensor);
        const info = this.topology.sensors.get(last.sensor)!;
        s.rules ??= this.rulesOf(info.kind as Kind);
        s.declaredIntervalMs = info.intervalS * 1000;
        s.interval = new SampleInterval(s.declaredIntervalMs);
        // its last 10 readings: 9 gaps, as many as the interval is inferred from
        for (const p of (before.get(last.sensor) ?? []).slice(-10)) s.interval.observe(p.ts);
        s.staleLimitMs = this.observedStaleLimitMs(s.interval, s.declaredIntervalMs);
      }
    }
  }

  /**
   * The drift trackers from the stored readings of the drift-checked sensors over the last
   * DRIFT_REPLAY_DAYS, stepped through as the worker steps live (each minute their latest good
   * values, each one's difference to its peers' median, each hour the verdicts), a day of readings
   * at a time. Without it a restart learnt the references afresh: blind to drift for a day, and a
   * drift in progress taken for the sensor's normal (found by `npm run bench -- detect:restarts`).
   */
  private async warmDrift(history: TimeSeriesStore, until: number): Promise<void> {
    if (!this.driftGroups.length) return;
    const sensors = [...new Set(this.driftGroups.flatMap((g) => g.sensors.map((s) => s.id)))];
    const from = Math.floor((until - DRIFT_REPLAY_DAYS * 86_400_000) / STEP_MS) * STEP_MS;
    const scratch: Condition[] = [];
    let step = from;
    for (let dayFrom = from; dayFrom < until; dayFrom += 86_400_000) {
      const readings = await readRawHistory(history, this.topology, sensors, dayFrom, Math.min(dayFrom + 86_400_000, until));
      for (const r of readings) {
        // the steps before this reading's, as the worker runs them (readings up to a step, then its checks)
        while (step + STEP_MS <= r.ts) { step += STEP_MS; this.checkDrift(scratch, step); }
        const s = this.state(r.sensor);
        const rules = s.rules ?? this.rulesOf((this.topology.sensors.get(r.sensor)?.kind ?? r.measurement) as Kind);
        if (r.quality === 'bad' || !Number.isFinite(r.value) || r.value < rules.lo || r.value > rules.hi || r.ts <= s.goodTs) continue;
        s.goodValue = r.value; s.goodTs = r.ts;
      }
      scratch.length = 0;
    }
    while (step + STEP_MS < until) { step += STEP_MS; this.checkDrift(scratch, step); }
  }

  /**
   * After warmUp on a live restart, the alarms left open by the run before are brought in line with
   * what the stored readings show now (the faults of REBUILT_FAULTS):
   * - an alarm whose fault is over (the sensor came back, or was removed from the topology while
   *   analytics was down) is cleared now: nothing else would ever clear it;
   * - a fault found without its alarm (it began while analytics was down) is raised now, grouped
   *   under its communications loss as a live raise would be; not on a first start, when the store
   *   holds no readings at all and every sensor only looks silent;
   * - a `comms_loss` alarm stays with the event rebuilt from its sensors, or is cleared when none of
   *   them is silent any more;
   * - a `sensor_offline` alarm is cleared when the sensor has been heard since it was raised, else
   *   taken up: the source's birth clears it, or the sensor's next recent reading (the birth may
   *   have come while analytics was down);
   * - a drift alarm resumes from the reference it was raised against (the warm-up's week may have
   *   learnt the drift as normal); a drift the warm-up's week finds without an alarm is raised.
   * Conditions of another detector, and ones of the DMAs' sensors it does not know, are not touched.
   */
  reconcile(open: readonly OpenAlarm[], at: number): Condition[] {
    const clears: Condition[] = [];
    const alarmed = new Set<string>();
    for (const a of open) {
      alarmed.add(a.conditionId);
      if (a.type === 'comms_loss') {
        const sensors = Array.isArray(a.evidence?.sensors) ? (a.evidence.sensors as unknown[]).filter((x): x is string => typeof x === 'string') : [];
        if (!this.commsLoss.takeUp(a.conditionId, sensors, this.silent)) {
          clears.push({
            id: a.conditionId, type: 'comms_loss', state: 'clear', ts: at, priority: 'medium', dma: a.dma,
            text: alarmText('comms_loss.clear', { sensors: sensors.length }), evidence: { sensors, afterRestart: true },
          });
        }
        continue;
      }
      const fault = a.type.startsWith('sensor_') ? a.type.slice('sensor_'.length) as SensorFault : undefined;
      if (!fault || !a.conditionId.startsWith(`${a.type}:`) || !(fault in FAULT_PRIORITY)) continue;
      const sensor = a.conditionId.slice(a.type.length + 1);
      const s = this.states.get(sensor);
      if (fault === 'offline') {
        if (s && s.lastTs > a.raisedAt) {
          clears.push(this.faultCondition(sensor, 'offline', 'clear', at, { heardAt: s.lastTs, faultSince: a.raisedAt, afterRestart: true }));
        } else {
          const st = this.state(sensor);
          st.faults.set('offline', a.raisedAt);
          st.offlineSince = a.raisedAt;
          st.offlineReason = typeof a.evidence?.reason === 'string' ? a.evidence.reason : undefined;
          st.offlineTakenUp = true;
          // as in markOffline: the offline fault says what stale would
          st.faults.delete('stale');
        }
        continue;
      }
      if (fault === 'drift') {
        // resumed from the reference it was raised against (raised before 2026-12-05: no reference, left as it is)
        const reference = a.evidence?.reference;
        if (s?.drift && typeof reference === 'number' && Number.isFinite(reference)) {
          s.drift.resume(reference);
          s.faults.set('drift', a.raisedAt);
        }
        continue;
      }
      if (!REBUILT_FAULTS.has(fault) || s?.faults.has(fault)) continue;
      clears.push(this.faultCondition(sensor, fault, 'clear', at, { afterRestart: true }));
    }
    // faults and events found without their alarm
    const raises: Condition[] = [];
    const updates: Condition[] = [];
    const eventRaises: Condition[] = [];
    const eventOfNew = new Set<string>();
    for (const e of this.commsLoss.list()) {
      if (alarmed.has(e.id) || !this.warmedReadings) continue;
      eventRaises.push(this.commsLoss.raiseOf(e.id, at)!);
      eventOfNew.add(e.id);
    }
    if (this.warmedReadings) {
      for (const [sensor, s] of this.states) {
        for (const fault of s.faults.keys()) {
          if (!REBUILT_FAULTS.has(fault) && fault !== 'drift') continue;
          const id = `sensor_${fault}:${sensor}`;
          const parent = fault === 'stale' ? this.commsLoss.eventOf(sensor) : undefined;
          const evidence = { ...this.warmedEvidence.get(id), ...(parent ? { parent } : {}), afterRestart: true };
          if (!alarmed.has(id)) raises.push(this.faultCondition(sensor, fault, 'raise', at, evidence));
          else if (parent && eventOfNew.has(parent)) {
            // an alarm of its own before the event formed: an update naming it groups it under the event
            updates.push({ ...this.faultCondition(sensor, fault, 'raise', at, evidence), state: 'update' });
          }
        }
      }
    }
    this.warmedEvidence.clear();
    // the manager needs the updates before the event's raise, and the event's raise before the raises that name it
    return [...clears, ...updates, ...eventRaises, ...raises];
  }
}

/** The view a detector gets when health is not tracked (tests of one detector alone). */
/** The k-th of the sorted peers with the one at index `own` (when ≥ 0) left out. */
function peerAt(peers: readonly number[], own: number, k: number): number {
  return peers[own >= 0 && k >= own ? k + 1 : k];
}

export const ALL_HEALTHY: SensorHealthView = { isFaulty: () => false };
