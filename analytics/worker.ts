/**
 * The analytics worker: runs the detectors over the telemetry in EVENT time and hands their
 * conditions to the alarm manager.
 *
 * Readings arrive in any order (per-DMA batches from several ingest instances, late PDA uploads).
 * The worker keeps a watermark: the event time up to which input is taken as complete. Sources do
 * not keep the same pace (in the demo's backfill the OPC UA plant, the MQTT sensors and the
 * Sparkplug loggers replay the same week at different speeds, and even the items of one OPC UA
 * subscription arrive at different paces), so the watermark follows each SENSOR: the worker keeps
 * the newest reading time of every sensor with a source address, and the watermark is the slowest
 * ACTIVE sensor's time − the allowed lateness. A sensor from which nothing has arrived for
 * `sourceIdleMs` is left out: a dead sensor or source must not stop analytics (its
 * sensors then go stale on the others' watermark). Nor must one whose clock is behind: a sensor that
 * sends only readings older than the watermark holds it for `sensorClockLagMs` at most, then
 * `sensor_clock_skew` is raised for it and the others are analysed on. Customer meters (PDA uploads, read monthly) and
 * derived series never hold it back; sensors without a source address (whose source is not known)
 * count as one feed, whose time is the newest of their readings. With one such feed (a topology
 * without addresses, a test) the watermark is the newest reading time − the lateness.
 * It buffers readings, and moves the watermark in
 * fixed steps aligned to the epoch (`stepMs`, default 1 min): at each step boundary b it gives every
 * detector the readings in [previous boundary, b) sorted by (time, sensor), then onTime(b), feeds
 * the conditions to the alarm manager and moves the manager's clock to b. Because the steps do
 * not depend on how the input was batched, a live feed, a backfill and a replay of the store
 * (analytics/replay.ts) make the same detector calls and so raise the same alarms.
 *
 * A customer meter reading older than the watermark (PDA rounds upload hours after reading) goes
 * at once to the detectors that keep their own per-meter order (`acceptsLateMeterReadings`).
 * Any other reading older than the watermark is too late: it is counted and dropped (it is in the store,
 * so a replay still sees it). Memory is bounded: past `maxBufferedReadings` the watermark is forced
 * forward, and derived series wait for drainDerived() up to `maxDerivedBuffered`.
 */
import { EventEmitter } from 'node:events';
import type { MqttClient, IClientOptions } from 'mqtt';
import type { Point, Reading } from '../core/model/reading.ts';
import type { Topology } from '../core/topology/topology.ts';
import type { TimeSeriesStore } from '../core/tsdb/types.ts';
import { ACTIVE_CONDITIONS_FILTER, CONDITION_FILTER, OFFLINE_SENSORS_FILTER, STATUS_FILTER, TELEMETRY_FILTER, alarmTopic } from '../core/bus/topics.ts';
import { checkTelemetry } from '../core/bus/messages/telemetry.ts';
import { checkActiveConditions, checkBusCondition, conditionNamespacesOf, type ActiveConditions, type Condition } from '../core/bus/messages/condition.ts';
import { emptyDropCounts, type BusDropCounts, type BusRefusal } from '../core/bus/messages/trust.ts';
import { encodeAlarmTransition, type AlarmTransition } from '../core/bus/messages/alarm.ts';
import { checkOfflineSensors, checkSensorStatus, type OfflineSensors } from '../core/bus/messages/status.ts';
import { ingestConditionText } from '../core/messages/ingest-texts.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { ReadingsListeners, type ReadingsListener, type TelemetryFeed } from '../core/bus/telemetry-feed.ts';
import type { Detector, OpenAlarm } from './types.ts';
import { runStep } from './step.ts';
import { monotonicMs } from '../core/time/monotonic.ts';
import type { AlarmManager } from './alarms/manager.ts';

export interface AnalyticsWorkerOptions {
  topology: Topology;
  /** History for warmUp, and where start() writes derived series. */
  store?: TimeSeriesStore;
  detectors: readonly Detector[];
  alarms?: AlarmManager;
  /** Site time zone (the detectors get it in their context; kept here for them and for logs). */
  timezone?: string;
  /** How late a reading may come and still be used. Default 2 min. */
  allowedLatenessMs?: number;
  /** Watermark step. Default 60 s. */
  stepMs?: number;
  /** Readings held before the watermark is forced forward. Default 1,000,000. */
  maxBufferedReadings?: number;
  /** Derived points held for drainDerived(). Default 200,000 (the oldest are dropped past it). */
  maxDerivedBuffered?: number;
  /**
   * A sensor (or the feed of sensors without an address) from which no reading has arrived for
   * this long no longer holds the watermark back. Default 2 min.
   */
  sourceIdleMs?: number;
  /**
   * The longest one sensor may hold the watermark back while it sends only readings older than it
   * (a clock behind, or old data being replayed), so the longest one bad clock delays every alarm:
   * past it the sensor no longer holds the watermark, `sensor_clock_skew` is raised for it, and the
   * others are analysed on. It holds again once its readings are current. Default 10 min.
   */
  sensorClockLagMs?: number;
  /**
   * Wall clock (ms), for the bus's future check and to bound the idle advance's start (see
   * advanceIfIdle); tests pass a fake one. Default Date.now.
   */
  wallClock?: () => number;
  /**
   * Monotonic clock (ms, any origin) for the durations the worker measures itself: `sourceIdleMs`,
   * `sensorClockLagMs`, the idle advance. A step of the wall clock must not make every source look
   * silent at once or let event time jump (F17). Tests pass a fake one. Default core/time/monotonic.ts.
   */
  monotonicClock?: () => number;
  /**
   * A bus message (telemetry reading, ingest condition) timed further than this ahead of the wall
   * clock is dropped and counted: the clock skew the platform allows (config ingest.maxFutureMs).
   * Default 5 min.
   */
  busClockSkewMs?: number;
  /**
   * Who takes the sources' sensor status (aquawatch/v1/status/<source>: Sparkplug death, OPC UA
   * session lost): sensor health, which marks the sensors offline and back online.
   */
  sensorStatus?: SensorStatusSink;
  /**
   * A live restart: the alarms whose condition was active when the platform stopped (the state
   * database). After warmUp each detector reconciles them with what it found (Detector.reconcile).
   * A replay passes none: it starts its alarm tracks afresh.
   */
  openAlarms?: () => readonly OpenAlarm[];
  log?: Logger;
}

/** The part of sensor health (analytics/detectors/sensor-health) the status messages go to. */
export interface SensorStatusSink {
  markOffline(sensors: readonly string[], ts: number, reason?: string): Condition[];
  markOnline(sensors: readonly string[], ts: number): Condition[];
  /** The sensors marked offline now, with the reason given when they were marked. */
  offlineSensors(): { sensor: string; reason?: string }[];
}

/** The reason a sensor is marked offline by its source: it names the source, which the catch-up from the source's offline list relies on. */
const offlineReasonOf = (source: string) => `${source}: source lost the sensor`;

export interface WorkerStats {
  readings: number;
  late: number;
  /** Late customer meter readings handed to the detectors that take them. */
  lateMeterReadings: number;
  unknownSensor: number;
  invalid: number;
  forcedAdvances: number;
  conditions: number;
  conditionErrors: number;
  detectorErrors: number;
  derivedDropped: number;
  busErrors: number;
  /** Bus messages dropped by the checks of core/bus/messages (readings, for `future`), by reason. */
  busDropped: BusDropCounts;
  buffered: number;
  watermark: number;
  /** Feeds (sensors, and the feed of sensors without an address) the watermark follows, and those holding it now. */
  feeds: number;
  activeFeeds: number;
}

/** Why the live worker is degraded: a code and its figures (the dashboard words it), and the words for /health. */
export type WorkerProblem =
  | { code: 'bus_lost'; seconds: number; message: string }
  | { code: 'behind'; minutes: number; maxMinutes: number; message: string };

/** The live worker's own state as /health gives it (AnalyticsWorker.health). */
export interface WorkerHealth {
  status: 'ok' | 'degraded';
  problems: WorkerProblem[];
  busConnected: boolean;
  /** The watermark (ISO); null before the worker has one. */
  watermark: string | null;
  /** Wall clock minus the watermark, in seconds. */
  behindSeconds: number | null;
  /** The most its own waiting rules (lateness, a lagging sensor, an idle bus) keep it behind, in seconds. */
  behindExpectedMaxSeconds: number;
}

/** A bus connection lost for less than this is a reconnect in progress, not a problem to report. */
export const BUS_RECONNECT_GRACE_MS = 30_000;

/** A feed's progress: the newest reading time it sent and when (monotonic clock) it last sent. */
interface FeedProgress {
  key: string;
  latestTs: number;
  lastArrival: number;
  /** Monotonic time since which it has sent only readings older than the watermark; undefined when its last one was current. */
  lateSince?: number;
  /** `sensor_clock_skew` is raised for it. */
  skewRaised: boolean;
}

/**
 * The feed whose pace a sensor's readings follow for the watermark: the sensor itself when it has
 * a source address, '-' (one feed for all of them) when it has none. Undefined for customer meters
 * and derived series, which must not hold the watermark (PDA uploads are late by nature; derived
 * series come from the detectors themselves).
 */
export function watermarkFeedOf(sensor: { id: string; kind: string; source?: { type: string } }): string | undefined {
  if (sensor.kind === 'meter') return undefined;
  if (!sensor.source) return '-';
  if (sensor.source.type === 'pda' || sensor.source.type === 'derived') return undefined;
  return sensor.id;
}

export interface WorkerStartOptions {
  /** mqtt.js options (credentials, TLS): build them with core/bus/mqtt-client.ts mqttConnectOptions. */
  connect?: IClientOptions;
  clientId?: string;
  /** Publish alarm transitions to aquawatch/v1/alarms/<dma>. Default true. */
  publishAlarms?: boolean;
  /** Write derived series to the store this often (wall time). Default 10 s; 0 = never. */
  flushDerivedMs?: number;
  /**
   * When no reading has arrived for this long, let event time run on (advanceIfIdle), so
   * time-driven checks (stale sensors, on-delays) still run while every source is silent. Default
   * 5 min; 0 = never. A backfill resuming after such a pause: its readings up to the pause's
   * length after its newest one are counted late.
   */
  idleAdvanceMs?: number;
}

type WorkerEvents = { condition: [Condition]; error: [Error] };

/**
 * The worker is also the process's telemetry feed (core/bus/telemetry-feed.ts): what its bus
 * subscription decodes goes to the live gateway as well, so a process that runs both subscribes and
 * decodes once.
 */
export class AnalyticsWorker extends EventEmitter<WorkerEvents> implements TelemetryFeed {
  readonly topology: Topology;
  readonly timezone: string;
  private readonly detectors: readonly Detector[];
  private readonly lateMeterDetectors: readonly Detector[];
  private readonly store?: TimeSeriesStore;
  private readonly alarms?: AlarmManager;
  private readonly lateness: number;
  private readonly stepMs: number;
  private readonly maxBuffered: number;
  private readonly maxDerived: number;
  private readonly sourceIdleMs: number;
  private readonly sensorClockLagMs: number;
  private readonly wallClock: () => number;
  private readonly monotonicClock: () => number;
  private readonly busClockSkewMs: number;
  private readonly sensorStatus?: SensorStatusSink;
  private readonly openAlarms?: () => readonly OpenAlarm[];
  /** Per sensor, the progress record of its feed; null: the sensor does not hold the watermark. */
  private readonly feedOfSensor = new Map<string, FeedProgress | null>();
  private readonly feeds = new Map<string, FeedProgress>();
  private readonly log: Logger;
  private pending: Point[] = [];
  private pendingSorted = true;
  private maxTs = Number.NEGATIVE_INFINITY;
  /** Every reading before this event time has been given to the detectors. */
  private mark = Number.NEGATIVE_INFINITY;
  private derived: Point[] = [];
  private readonly s: Omit<WorkerStats, 'buffered' | 'watermark' | 'feeds' | 'activeFeeds'> = {
    readings: 0, late: 0, lateMeterReadings: 0, unknownSensor: 0, invalid: 0, forcedAdvances: 0, conditions: 0, conditionErrors: 0,
    detectorErrors: 0, derivedDropped: 0, busErrors: 0, busDropped: emptyDropCounts(),
  };
  private client?: MqttClient;
  private timers: NodeJS.Timeout[] = [];
  /** When the last telemetry came from the bus, on both clocks (advanceIfIdle). */
  private lastInputWall = Number.NEGATIVE_INFINITY;
  private lastInputMono = 0;
  /** The last reading dropped as late, for the log. */
  private lastLate?: Point;
  /** Monotonic time the bus connection was lost (undefined while connected or before start). */
  private busLostAt?: number;
  /** start()'s idleAdvanceMs (0 before start: a replay is never behind the wall clock on purpose). */
  private idleAdvanceMs = 0;
  private unpublish?: () => void;
  private readonly telemetryListeners: ReadingsListeners;

  constructor(opts: AnalyticsWorkerOptions) {
    super();
    const positive = (v: number | undefined, field: string, min: number) => {
      if (v !== undefined && !(Number.isFinite(v) && v >= min)) throw new Error(`${field}: must be a number ≥ ${min} (got ${v})`);
    };
    positive(opts.allowedLatenessMs, 'allowedLatenessMs', 0);
    positive(opts.stepMs, 'stepMs', 1);
    positive(opts.maxBufferedReadings, 'maxBufferedReadings', 1);
    positive(opts.maxDerivedBuffered, 'maxDerivedBuffered', 1);
    positive(opts.sourceIdleMs, 'sourceIdleMs', 0);
    positive(opts.busClockSkewMs, 'busClockSkewMs', 0);
    positive(opts.sensorClockLagMs, 'sensorClockLagMs', 0);
    if (opts.wallClock !== undefined && typeof opts.wallClock !== 'function') throw new Error('wallClock: must be a function returning ms');
    if (opts.monotonicClock !== undefined && typeof opts.monotonicClock !== 'function') throw new Error('monotonicClock: must be a function returning ms');
    const names = new Set<string>();
    opts.detectors.forEach((d, i) => {
      if (!d || typeof d.onReadings !== 'function' || typeof d.onTime !== 'function') throw new Error(`detectors[${i}]: not a Detector (onReadings and onTime are required)`);
      if (names.has(d.name)) throw new Error(`detectors[${i}].name: ${d.name} is used twice`);
      names.add(d.name);
    });
    this.topology = opts.topology;
    this.timezone = opts.timezone ?? 'Asia/Shanghai';
    this.detectors = opts.detectors;
    this.lateMeterDetectors = opts.detectors.filter((d) => d.acceptsLateMeterReadings === true);
    this.store = opts.store;
    this.alarms = opts.alarms;
    this.lateness = opts.allowedLatenessMs ?? 120_000;
    this.stepMs = opts.stepMs ?? 60_000;
    this.maxBuffered = opts.maxBufferedReadings ?? 1_000_000;
    this.maxDerived = opts.maxDerivedBuffered ?? 200_000;
    this.sourceIdleMs = opts.sourceIdleMs ?? 120_000;
    this.sensorClockLagMs = opts.sensorClockLagMs ?? 10 * 60_000;
    this.wallClock = opts.wallClock ?? Date.now;
    this.monotonicClock = opts.monotonicClock ?? monotonicMs;
    this.sensorStatus = opts.sensorStatus;
    this.openAlarms = opts.openAlarms;
    this.busClockSkewMs = opts.busClockSkewMs ?? 5 * 60_000;
    for (const info of opts.topology.sensors.values()) {
      const key = watermarkFeedOf(info);
      this.feedOfSensor.set(info.id, key === undefined ? null : this.progressOf(key));
    }
    this.log = opts.log ?? silentLogger;
    this.telemetryListeners = new ReadingsListeners(this.log);
  }

  /** The event time up to which the detectors have seen all input. */
  get watermark(): number { return this.mark; }

  get stats(): WorkerStats {
    const now = this.monotonicClock();
    let activeFeeds = 0;
    for (const p of this.feeds.values()) if (this.holdsWatermark(p, now)) activeFeeds++;
    return { ...this.s, busDropped: { ...this.s.busDropped }, buffered: this.pending.length, watermark: this.mark, feeds: this.feeds.size, activeFeeds };
  }

  /**
   * Warm the detectors from stored history ending at `until` and start the watermark there: a
   * restart neither raises a storm (the detectors know the current state) nor goes blind (baselines
   * are ready). Readings before `until` that arrive afterwards are late: warmUp has seen them.
   */
  async warmUp(until: number): Promise<void> {
    if (this.store) {
      for (const d of this.detectors) {
        if (!d.warmUp) continue;
        try {
          await d.warmUp(this.store, until);
        } catch (e) {
          this.s.detectorErrors++;
          this.log.error({ detector: d.name, err: e }, 'detector warm-up failed; it starts cold');
        }
      }
    }
    if (this.openAlarms) this.reconcileOpenAlarms(this.openAlarms(), until, this.alarms?.eventTime ?? -Infinity);
    this.startAt(until);
  }

  /** After warmUp: alarms whose condition ended while analytics was down are cleared, conditions that began then are raised. */
  private reconcileOpenAlarms(open: readonly OpenAlarm[], until: number, analysedUntil: number): void {
    // the worker's own: a clock put right while analytics was down ends its alarm with the first current reading
    for (const a of open) {
      if (a.type !== 'sensor_clock_skew') continue;
      const feed = this.feeds.get(a.conditionId.slice('sensor_clock_skew:'.length));
      if (feed) feed.skewRaised = true;
    }
    let cleared = 0;
    let raised = 0;
    for (const d of this.detectors) {
      if (!d.reconcile) continue;
      try {
        for (const c of d.reconcile(open, until, analysedUntil)) {
          if (c.state === 'clear') cleared++;
          else if (c.state === 'raise') raised++;
          this.handleCondition(c);
        }
      } catch (e) {
        this.s.detectorErrors++;
        this.log.error({ detector: d.name, err: e }, 'detector could not reconcile the open alarms; they stay as they are');
      }
    }
    this.log.info({ openAlarms: open.length, cleared, raised }, 'open alarms reconciled with the state found after the restart');
  }

  /** Start the watermark at `ts` without warming (a test, or a replay that starts cold). */
  startAt(ts: number): void {
    if (!Number.isFinite(ts)) throw new Error('startAt: ts must be a finite event time, ms');
    if (ts > this.mark) this.mark = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    // Every sensor of the topology is expected from here: one not heard from yet holds the
    // watermark at the start for sourceIdleMs (its first readings are on their way), not longer.
    const now = this.monotonicClock();
    for (const p of this.feeds.values()) {
      if (p.latestTs < ts) p.latestTs = ts;
      if (p.lastArrival < now) p.lastArrival = now;
    }
  }

  /** Readings from the telemetry bus (canonical units); kind, site and DMA are joined from the topology. */
  feed(readings: readonly Reading[]): void {
    const points: Point[] = [];
    for (const r of readings) {
      const info = this.topology.sensors.get(r.sensor);
      if (!info) { this.s.unknownSensor++; continue; }
      points.push({ measurement: info.kind, sensor: r.sensor, ts: r.ts, value: r.value, quality: r.quality, site: info.site, dma: info.dma });
    }
    this.feedPoints(points);
  }

  /** Readings already joined with their sensor's attributes (from the store). */
  feedPoints(points: readonly Point[]): void {
    let last = this.pending.length ? this.pending[this.pending.length - 1] : undefined;
    const now = this.monotonicClock();
    let lateMeters: Point[] | undefined;
    for (const p of points) {
      if (!Number.isFinite(p.ts) || typeof p.value !== 'number' || Number.isNaN(p.value)) { this.s.invalid++; continue; }
      // the feed's progress counts even when the reading itself is too late to use
      let feed = this.feedOfSensor.get(p.sensor);
      if (feed === undefined) feed = this.progressOf('-'); // not in the topology (straight from a store)
      if (feed) {
        if (p.ts > feed.latestTs) feed.latestTs = p.ts;
        feed.lastArrival = now;
        if (p.ts >= this.mark) {
          feed.lateSince = undefined;
          if (feed.skewRaised) this.clockSkewEnded(feed, p);
        } else {
          feed.lateSince ??= now;
          if (!feed.skewRaised && now - feed.lateSince >= this.sensorClockLagMs) this.clockSkewFound(feed, p, now);
        }
      }
      if (p.ts < this.mark) {
        if (p.measurement === 'meter' && this.lateMeterDetectors.length) (lateMeters ??= []).push(p);
        else { this.s.late++; this.lastLate = p; }
        continue;
      }
      if (last && (p.ts < last.ts || (p.ts === last.ts && p.sensor < last.sensor))) this.pendingSorted = false;
      this.pending.push(p);
      last = p;
      this.s.readings++;
      if (p.ts > this.maxTs) this.maxTs = p.ts;
    }
    if (lateMeters) this.runLateMeterReadings(lateMeters);
    if (this.pending.length > this.maxBuffered) {
      // Too much held back: give up waiting for stragglers older than what must go.
      this.sortPending();
      this.s.forcedAdvances++;
      this.advance(this.pending[this.pending.length - this.maxBuffered].ts + 1, true);
    }
    this.advance(this.completeUntil(now) - this.lateness, false);
  }

  /**
   * The event time up to which the active feeds have sent: the slowest one's newest reading. A
   * feed silent for longer than sourceIdleMs is not waited for; when none is active (only
   * meters came, or all went silent) it is the newest reading time. O(sensors) per feed() call.
   */
  private completeUntil(now: number): number {
    let slowest = Number.POSITIVE_INFINITY;
    for (const p of this.feeds.values()) {
      if (!this.holdsWatermark(p, now)) continue;
      if (p.latestTs < slowest) slowest = p.latestTs;
    }
    return slowest === Number.POSITIVE_INFINITY ? this.maxTs : Math.min(slowest, this.maxTs);
  }

  /**
   * A feed holds the watermark back while it is heard from (sourceIdleMs) and, when it sends only
   * readings older than the watermark, for sensorClockLagMs at most.
   */
  private holdsWatermark(p: FeedProgress, now: number): boolean {
    if (now - p.lastArrival > this.sourceIdleMs) return false;
    return p.lateSince === undefined || now - p.lateSince < this.sensorClockLagMs;
  }

  private progressOf(key: string): FeedProgress {
    let p = this.feeds.get(key);
    if (!p) this.feeds.set(key, p = { key, latestTs: Number.NEGATIVE_INFINITY, lastArrival: Number.NEGATIVE_INFINITY, skewRaised: false });
    return p;
  }

  /** A feed that has sent only readings older than the watermark for sensorClockLagMs. */
  private clockSkewFound(feed: FeedProgress, p: Point, now: number): void {
    feed.skewRaised = true;
    const behindMin = Math.round((this.mark - feed.latestTs) / 60_000);
    const forMin = Math.round((now - (feed.lateSince ?? now)) / 60_000);
    this.handleCondition({
      ...this.clockSkewIdentity(feed, p), state: 'raise', ts: this.mark, priority: 'medium',
      message: `sensor ${feed.key === '-' ? p.sensor : feed.key}: for ${forMin} min every reading has arrived older than the analysis time (its newest ${behindMin} min behind): its clock is behind, or it replays old data. It no longer holds back the analysis of the other sensors; its readings are stored but not analysed live`,
      evidence: { latestTs: feed.latestTs, watermark: this.mark, lateForMs: now - (feed.lateSince ?? now) },
    }, { advanceClock: false });
  }

  private clockSkewEnded(feed: FeedProgress, p: Point): void {
    feed.skewRaised = false;
    this.handleCondition({
      ...this.clockSkewIdentity(feed, p), state: 'clear', ts: this.mark,
      message: `sensor ${feed.key === '-' ? p.sensor : feed.key}: its readings are current again`,
    }, { advanceClock: false });
  }

  private clockSkewIdentity(feed: FeedProgress, p: Point): Pick<Condition, 'id' | 'type' | 'sensor' | 'site' | 'dma'> {
    // the feed of sensors without an address is one feed: one condition for it
    const sensor = feed.key === '-' ? undefined : feed.key;
    return { id: `sensor_clock_skew:${feed.key}`, type: 'sensor_clock_skew', sensor, site: sensor ? p.site : undefined, dma: sensor && p.dma ? p.dma : undefined };
  }

  /** Move the watermark to `until` whatever the lateness (end of input, end of a replay chunk). */
  flush(until: number): void {
    if (until > this.maxTs) this.maxTs = until;
    this.advance(until, true);
  }

  /** Derived series the detectors produced since the last call, for storage. */
  drainDerived(): Point[] {
    const out = this.derived;
    this.derived = [];
    return out;
  }

  private sortPending(): void {
    if (this.pendingSorted) return;
    this.pending.sort((a, b) => a.ts - b.ts || (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
    this.pendingSorted = true;
  }

  /**
   * Step the watermark to `target`: through each aligned step boundary ≤ target, and, when
   * `partial`, to `target` itself.
   */
  private advance(target: number, partial: boolean): void {
    if (!(target > this.mark) || !Number.isFinite(target)) return;
    if (this.mark === Number.NEGATIVE_INFINITY) {
      if (!this.pending.length) return;
      this.sortPending();
      this.mark = Math.floor(this.pending[0].ts / this.stepMs) * this.stepMs;
    }
    this.sortPending();
    let i = 0;
    for (;;) {
      let b = Math.floor(this.mark / this.stepMs) * this.stepMs + this.stepMs;
      if (b > target) {
        if (!partial || target <= this.mark) break;
        b = target;
      }
      const start = i;
      while (i < this.pending.length && this.pending[i].ts < b) i++;
      this.runStep(start === i ? [] : this.pending.slice(start, i), b);
      this.mark = b;
    }
    if (i) this.pending = i === this.pending.length ? [] : this.pending.slice(i);
  }

  /**
   * Meter readings the watermark has passed, to the detectors that take them: their conditions
   * carry the readings' own (past) times and do not move the alarm manager's clock.
   */
  private runLateMeterReadings(points: Point[]): void {
    points.sort((a, b) => a.ts - b.ts || (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
    this.s.lateMeterReadings += points.length;
    const conditions: Condition[] = [];
    for (const d of this.lateMeterDetectors) {
      try {
        for (const c of d.onReadings(points)) conditions.push(c);
      } catch (e) {
        this.s.detectorErrors++;
        this.log.error({ detector: d.name, err: e }, 'detector failed on late meter readings; continuing');
      }
    }
    for (const c of conditions) this.handleCondition(c, { advanceClock: false });
  }

  /** One step: the readings before `b`, then onTime(b) (analytics/step.ts); conditions to the alarm manager. */
  private runStep(batch: readonly Point[], b: number): void {
    const { conditions, derived, failures } = runStep(this.detectors, batch, b);
    for (const f of failures) {
      this.s.detectorErrors++;
      this.log.error({ detector: f.detector, err: f.error, eventTime: b }, 'detector failed on a step; continuing with the others');
    }
    if (derived.length) this.keepDerived(derived);
    for (const c of conditions) this.handleCondition(c);
    this.alarms?.advanceTo(b);
  }

  private handleCondition(c: Condition, opts: { advanceClock?: boolean } = {}): void {
    this.s.conditions++;
    this.emit('condition', c);
    if (!this.alarms) return;
    try {
      this.alarms.onCondition(c, opts);
    } catch (e) {
      this.s.conditionErrors++;
      this.log.warn({ condition: c?.id, err: (e as Error).message }, 'condition refused by the alarm manager');
    }
  }

  private keepDerived(points: readonly Point[]): void {
    for (const p of points) this.derived.push(p);
    const over = this.derived.length - this.maxDerived;
    if (over > 0) { this.derived.splice(0, over); this.s.derivedDropped += over; }
  }

  // --- live --------------------------------------------------------------------------------------

  /**
   * Subscribe to the telemetry and the ingest conditions on the bus, publish alarm transitions,
   * and write derived series to the store. Call warmUp() first.
   */
  async start(busUrl: string, opts: WorkerStartOptions = {}): Promise<void> {
    const { connectAsync } = await import('mqtt');
    const client = await connectAsync(busUrl, {
      ...opts.connect, clientId: opts.clientId ?? `aquawatch-analytics-${process.pid}`, clean: true, reconnectPeriod: 1000,
    });
    this.client = client;
    this.noteInput();
    client.on('close', () => { this.busLostAt ??= this.monotonicClock(); });
    client.on('connect', () => { this.busLostAt = undefined; });
    client.on('message', (topic, payload, packet) => this.onBusMessage(topic, payload, packet.retain));
    client.on('error', (e) => { this.s.busErrors++; this.log.warn({ err: e.message }, 'analytics bus client error'); });
    await client.subscribeAsync([TELEMETRY_FILTER, CONDITION_FILTER, ACTIVE_CONDITIONS_FILTER, ...(this.sensorStatus ? [STATUS_FILTER, OFFLINE_SENSORS_FILTER] : [])], { qos: 1 });
    if (this.alarms && opts.publishAlarms !== false) {
      const listener = (t: AlarmTransition) => {
        client.publish(alarmTopic(t.alarm.dma), encodeAlarmTransition(t), { qos: 1 }, (e) => { if (e) this.s.busErrors++; });
      };
      this.alarms.on('transition', listener);
      this.unpublish = () => this.alarms?.off('transition', listener);
    }
    const flushMs = opts.flushDerivedMs ?? 10_000;
    if (flushMs > 0 && this.store) this.timers.push(setInterval(() => void this.writeDerived(), flushMs));
    const idleMs = this.idleAdvanceMs = opts.idleAdvanceMs ?? 5 * 60_000;
    if (idleMs > 0) this.timers.push(setInterval(() => this.advanceIfIdle(idleMs), Math.min(idleMs, 10_000)));
    // Late readings are dropped silently per reading; say so once a minute, with the watermark's state.
    let lateReported = 0;
    this.timers.push(setInterval(() => {
      if (this.s.late === lateReported) return;
      const { late, watermark, feeds, activeFeeds, forcedAdvances } = this.stats;
      const example = this.lastLate && { sensor: this.lastLate.sensor, ts: new Date(this.lastLate.ts).toISOString() };
      this.log.warn({ late: late - lateReported, watermark: new Date(watermark).toISOString(), feeds, activeFeeds, forcedAdvances, example }, 'late readings dropped (older than the watermark)');
      lateReported = late;
    }, 60_000));
    for (const t of this.timers) t.unref();
  }

  /**
   * When no telemetry has come from the bus for `idleMs`, let event time run on without input, so
   * time-driven checks (stale sensors, on-delays) still run while every source is silent: the
   * watermark moves to the event time of the last input plus the time elapsed since, minus the
   * allowed lateness. The elapsed time is the MONOTONIC clock's, not the wall clock now minus the
   * wall clock then: a step of the wall clock during the silence (NTP correcting it, an RTC fixed)
   * would carry the watermark and the alarm manager's clock with it, so the readings that follow at
   * their true times would be dropped as late, sensors reported stale and shelving ended early (F17).
   * The last input's event time is its newest reading's, but no later than the wall clock then: a
   * device clock ahead (within the allowed skew) must not carry event time past the other sensors.
   * start() calls it on a timer; tests call it directly.
   */
  advanceIfIdle(idleMs: number): void {
    const silentFor = this.monotonicClock() - this.lastInputMono;
    if (silentFor < idleMs) return;
    this.advance(Math.min(this.maxTs, this.lastInputWall) + silentFor - this.lateness, false);
  }

  private noteInput(): void {
    this.lastInputMono = this.monotonicClock();
    this.lastInputWall = this.wallClock();
  }

  /** The telemetry the bus subscription decodes and checks, for the other readers in the process (TelemetryFeed). */
  onReadings(listener: ReadingsListener): () => void {
    return this.telemetryListeners.add(listener);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /**
   * Degraded when the bus has been lost for longer than a reconnect takes, or when the watermark
   * is further behind the wall clock than the worker's own rules hold it: the allowed lateness,
   * plus the longest of a lagging sensor's hold (sensorClockLagMs), a silent source's
   * (sourceIdleMs) and an idle bus's (idleAdvanceMs, checked every 10 s), plus one step. Further
   * behind than that, it is catching up on a backlog (a backfill, a restart after an outage) or
   * stalled; either way alarms come late. The HTTP status stays 200: the dashboard still serves.
   */
  health(): WorkerHealth {
    const problems: WorkerProblem[] = [];
    const busConnected = this.connected;
    if (!busConnected && this.busLostAt !== undefined) {
      const seconds = Math.round((this.monotonicClock() - this.busLostAt) / 1000);
      if (seconds * 1000 >= BUS_RECONNECT_GRACE_MS) {
        problems.push({ code: 'bus_lost', seconds, message: `not connected to the telemetry bus for ${seconds} s: no reading is analysed and no alarm raised` });
      }
    }
    const expectedMaxMs = this.lateness + Math.max(this.sensorClockLagMs, this.sourceIdleMs, this.idleAdvanceMs + 10_000) + this.stepMs;
    const known = Number.isFinite(this.mark);
    const behindMs = known ? Math.max(0, this.wallClock() - this.mark) : null;
    if (behindMs !== null && behindMs > expectedMaxMs) {
      const minutes = Math.round(behindMs / 60_000);
      const maxMinutes = Math.round(expectedMaxMs / 60_000);
      problems.push({
        code: 'behind', minutes, maxMinutes,
        message: `the analysis is ${minutes} min behind the wall clock (its own rules hold it at most ${maxMinutes} min): catching up on a backlog, or stalled; alarms come late`,
      });
    }
    return {
      status: problems.length ? 'degraded' : 'ok', problems, busConnected,
      watermark: known ? new Date(this.mark).toISOString() : null,
      behindSeconds: behindMs === null ? null : Math.round(behindMs / 1000),
      behindExpectedMaxSeconds: Math.round(expectedMaxMs / 1000),
    };
  }

  /** Bus messages dropped by the checks (TelemetryFeed; conditions included). */
  get dropped(): BusDropCounts {
    return { ...this.s.busDropped };
  }

  /**
   * One message from the bus, checked before use (core/bus/messages): a message that is not its
   * topic's, a condition outside ingest's namespaces (a forged `clear` of a detector's alarm) and
   * a time beyond the allowed clock skew (a forged far-future reading) are dropped and counted.
   */
  onBusMessage(topic: string, payload: Buffer, retained = false): void {
    const clock = { now: this.wallClock, maxFutureMs: this.busClockSkewMs };
    if (topic.startsWith(ACTIVE_CONDITIONS_FILTER.slice(0, -1))) {
      // only as the broker hands it on subscribing (retained): the catch-up after being away. Live
      // changes come one by one on the conditions topic, in order; a copy of this list forwarded
      // live could overtake them.
      if (!retained) return;
      const a = checkActiveConditions(topic, payload, clock);
      if (!a.ok) { this.dropBusMessage(topic, a); return; }
      this.catchUpOnConditions(a.active, conditionNamespacesOf(topic));
      return;
    }
    if (topic.startsWith(TELEMETRY_FILTER.slice(0, -1))) {
      this.noteInput();
      const t = checkTelemetry(payload, clock);
      if (!t.ok) { this.dropBusMessage(topic, t); return; }
      if (t.future) this.dropBusMessage(topic, { ok: false, reason: 'future', detail: `${t.future} readings beyond the allowed clock skew` }, t.future);
      this.telemetryListeners.emit(t.readings);
      this.feed(t.readings);
      return;
    }
    if (topic.startsWith(OFFLINE_SENSORS_FILTER.slice(0, -1))) {
      // as the active conditions: only as the broker hands it on subscribing, the catch-up
      if (!retained) return;
      const o = checkOfflineSensors(topic, payload, clock);
      if (!o.ok) { this.dropBusMessage(topic, o); return; }
      this.catchUpOnOfflineSensors(o.offline);
      return;
    }
    if (topic.startsWith(STATUS_FILTER.slice(0, -1))) {
      const st = checkSensorStatus(topic, payload, clock);
      if (!st.ok) { this.dropBusMessage(topic, st); return; }
      this.onSensorStatus(st.status);
      return;
    }
    const c = checkBusCondition(topic, payload, clock);
    if (!c.ok) { this.dropBusMessage(topic, c); return; }
    // Ingest conditions run on ingest's clock (wall time): they must not move event time.
    this.handleCondition(c.condition, { advanceClock: false });
  }

  /**
   * A publisher's active conditions, received on (re)subscribing: those without an active alarm
   * are raised (they began while analytics was away), and, when the list is complete, the active
   * alarms in the publisher's namespaces it no longer holds are cleared (they ended meanwhile).
   */
  private catchUpOnConditions(active: ActiveConditions, namespaces: readonly string[]): void {
    if (!this.alarms) return;
    const alarmsActive = this.alarms.openAlarms().filter((a) => a.state.startsWith('active'));
    const open = new Set(alarmsActive.map((a) => a.conditionId));
    const held = new Set(active.conditions.map((c) => c.id));
    let raised = 0;
    let cleared = 0;
    for (const c of active.conditions) {
      if (open.has(c.id)) continue;
      this.handleCondition({ ...c, state: 'raise' }, { advanceClock: false });
      raised++;
    }
    if (active.complete) {
      for (const a of alarmsActive) {
        if (held.has(a.conditionId) || !namespaces.some((p) => a.conditionId.startsWith(p))) continue;
        const clear: Condition = {
          id: a.conditionId, type: a.type, state: 'clear', ts: active.ts, ...(a.dma ? { dma: a.dma } : {}), ...(a.sensor ? { sensor: a.sensor } : {}),
          message: 'no longer active at its source (caught up after analytics was away)', evidence: { afterReconnect: true },
        };
        // in every reader's language where ingest's texts have the type's clear
        const text = ingestConditionText(clear);
        this.handleCondition(text ? { ...clear, text } : clear, { advanceClock: false });
        cleared++;
      }
    }
    if (raised || cleared) this.log.info({ raised, cleared }, 'ingest conditions caught up from the bus');
  }

  /**
   * A source lost or regained sensors: sensor health marks them at the source's time (wall time, as
   * ingest conditions: it does not move event time), and its conditions go to the alarm manager.
   */
  onSensorStatus(status: { source: string; sensors: readonly string[]; status: 'online' | 'offline'; ts: number }): void {
    if (!this.sensorStatus) return;
    const known = status.sensors.filter((id) => this.topology.sensors.has(id));
    const conditions = status.status === 'offline'
      ? this.sensorStatus.markOffline(known, status.ts, offlineReasonOf(status.source))
      : this.sensorStatus.markOnline(known, status.ts);
    for (const c of conditions) this.handleCondition(c, { advanceClock: false });
  }

  /**
   * A source's offline sensors, received on (re)subscribing: those not marked offline are marked
   * from when they went (a node that died while analytics was away is offline, not stale), and,
   * when the list is complete, those this source had marked offline and no longer lists are marked
   * online at the list's time (they came back meanwhile).
   */
  private catchUpOnOfflineSensors(list: OfflineSensors): void {
    if (!this.sensorStatus) return;
    const reason = offlineReasonOf(list.source);
    const offlineNow = this.sensorStatus.offlineSensors();
    const marked = new Set(offlineNow.map((o) => o.sensor));
    const listed = new Set<string>();
    const conditions: Condition[] = [];
    let offline = 0;
    for (const group of list.offline) {
      const known = group.sensors.filter((id) => this.topology.sensors.has(id));
      for (const id of known) listed.add(id);
      const missed = known.filter((id) => !marked.has(id));
      offline += missed.length;
      if (missed.length) conditions.push(...this.sensorStatus.markOffline(missed, group.since, reason));
    }
    const back = list.complete ? offlineNow.filter((o) => o.reason === reason && !listed.has(o.sensor)).map((o) => o.sensor) : [];
    if (back.length) conditions.push(...this.sensorStatus.markOnline(back, list.ts));
    for (const c of conditions) this.handleCondition(c, { advanceClock: false });
    if (offline || back.length) this.log.info({ source: list.source, offline, online: back.length }, 'sensor status caught up from the bus');
  }

  private lastDropLog = Number.NEGATIVE_INFINITY;
  private dropsNotLogged = 0;
  private dropBusMessage(topic: string, refusal: BusRefusal, count = 1): void {
    this.s.busDropped[refusal.reason] += count;
    // One line a second at most: a flood of forged messages must not flood the log too.
    const now = this.monotonicClock();
    if (now - this.lastDropLog < 1000) { this.dropsNotLogged += count; return; }
    this.lastDropLog = now;
    this.log.warn({ topic, reason: refusal.reason, detail: refusal.detail, count, droppedSinceLastLine: this.dropsNotLogged }, 'bus message dropped');
    this.dropsNotLogged = 0;
  }

  /** Write pending derived series to the store (start() does it on a timer). */
  async writeDerived(): Promise<number> {
    const points = this.drainDerived();
    if (!points.length || !this.store) return 0;
    try {
      await this.store.write(points);
      return points.length;
    } catch (e) {
      // Keep them for the next try, within the bound.
      this.keepDerived(points);
      this.log.warn({ err: (e as Error).message, points: points.length }, 'derived series not written; will retry');
      return 0;
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.unpublish?.();
    this.unpublish = undefined;
    const client = this.client;
    this.client = undefined;
    this.busLostAt = undefined;
    if (client) await client.endAsync();
    await this.writeDerived();
  }
}
