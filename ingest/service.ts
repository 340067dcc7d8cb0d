/**
 * The ingest service: sources → pipeline → outbox → store writer and bus publisher, with /health,
 * /metrics and the PDA upload API on its own HTTP port. Stateless apart from its outbox, so a
 * utility runs one per plant or site, or several sharing an MQTT shared subscription.
 */
import { join, isAbsolute, dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../core/config/load.ts';
import { Topology } from '../core/topology/topology.ts';
import { Metrics } from './metrics.ts';
import { createStore } from '../core/tsdb/factory.ts';
import type { TimeSeriesStore } from '../core/tsdb/types.ts';
import { activeConditionsTopic, conditionTopic, offlineSensorsTopic, statusTopic } from '../core/bus/topics.ts';
import { OfflineSensorsBySource } from './offline-sensors.ts';
import { KeptAcrossRestart } from './kept-across-restart.ts';
import { encodeOfflineSensors, encodeSensorStatus } from '../core/bus/messages/status.ts';
import { mayReadOperationalDetail, METRICS_REFUSED } from '../core/http-access.ts';
import type { Condition } from '../core/bus/messages/condition.ts';
import { mqttConnectOptions } from '../core/bus/mqtt-client.ts';
import type { RawReading } from '../core/model/reading.ts';
import { Outbox, outboxFile } from './pipeline/outbox.ts';
import { DeadLetterStore } from './pipeline/dead-letters.ts';
import { Pipeline } from './pipeline/pipeline.ts';
import { StoreWriter } from './sinks/store-writer.ts';
import { BusPublisher } from './sinks/bus-publisher.ts';
import type { Source, SourceContext, SourceStatus } from './sources/types.ts';
import type { UndecodableInput } from './pipeline/contract.ts';
import { buildSources, registerHttpSources } from './sources/index.ts';
import { checkSourceConfig } from './sources/registry.ts';
import { httpServerSettings } from '../core/http-limits.ts';
import { ActiveConditions } from './active-conditions.ts';
import { DiskSpaceWatch, type DiskUsage } from './disk-space.ts';
import { SqliteStore } from '../core/tsdb/sqlite.ts';
import { resolveRetentionDays } from '../core/tsdb/sqlite-retention.ts';

/** A retention pass of the embedded store this often: each one deletes about this long's worth of rows. */
const RETENTION_PASS_MS = 3_600_000;

export interface IngestServiceOptions {
  config: LoadedConfig;
  log: Logger;
  /** URL of the platform broker (the embedded broker's real address when `broker.url` is `embedded`). */
  brokerUrl: string;
  /** Serve /health, /metrics and PDA on this host/port; `false` when another HTTP server mounts them. */
  http?: { host: string; port: number } | false;
  /** Event clock for sources that must invent a timestamp; tests replace it. */
  now?: () => number;
  /** Use this store instead of the configured one (tests). */
  store?: TimeSeriesStore;
}

const OUTBOX_CLEAR_RATIO = 0.9;

export class IngestService {
  readonly metrics = new Metrics({ defaultMetrics: true });
  readonly topology: Topology;
  store!: TimeSeriesStore;
  outbox!: Outbox;
  deadLetters!: DeadLetterStore;
  pipeline!: Pipeline;
  writer!: StoreWriter;
  bus?: MqttClient;
  publisher?: BusPublisher;
  http?: FastifyInstance;
  sources: Source[] = [];
  /** Active conditions raised by this service or its sources, by id (bounded). */
  readonly activeConditions = new ActiveConditions();
  /** The sensors each source holds offline, kept retained on the bus per source. */
  readonly offlineSensors = new OfflineSensorsBySource();
  /** The offline sensors and the source conditions ingest keeps across its restart (in the outbox database). */
  private kept?: KeptAcrossRestart;
  /**
   * The retained lists (active conditions, offline sensors) are published only once what was kept
   * from before a restart is taken up: an empty list published before would tell the analytics
   * that every node is back.
   */
  private listsReady = false;
  private readonly now: () => number;
  private outboxFull = false;
  private readonly closers: (() => void)[] = [];
  private diskUsage: DiskUsage[] = [];

  constructor(private readonly o: IngestServiceOptions) {
    // The entry points check the sources' sections on loading; a config built in code is checked here.
    checkSourceConfig(o.config);
    this.topology = new Topology(o.config.topology, o.config.file);
    this.now = o.now ?? Date.now;
  }

  private dataPath(p: string): string {
    return p === ':memory:' || isAbsolute(p) ? p : join(this.o.config.dataDir, p);
  }

  async start(): Promise<void> {
    const { config, log } = this.o;
    mkdirSync(config.dataDir, { recursive: true });
    // Ingest starts while the database is down: the outbox holds the readings until it is back.
    this.store = this.o.store ?? await createStore(config.store, config.dataDir, { log: log.child({ component: 'store' }), whenUnavailable: 'retry' });
    this.outbox = new Outbox({
      path: outboxFile(config),
      maxReadings: config.ingest.outboxMaxReadings,
      batchMaxSize: config.ingest.batchMaxSize,
      batchMaxDelayMs: config.ingest.batchMaxDelayMs,
    });
    this.metrics.outboxCapacity.set(config.ingest.outboxMaxReadings);
    this.metrics.outboxDepth.set(this.outbox.depth);
    if (this.outbox.depth > 0) log.info({ depth: this.outbox.depth }, 'outbox holds readings from before the restart; writing them first');
    this.kept = new KeptAcrossRestart(this.outbox.db);
    this.deadLetters = new DeadLetterStore(this.outbox.db, {
      onCapped: (source, state, { bytes, cap, dropped }) => this.condition({
        id: `ingest.dead_letters_capped:${source}`, type: 'ingest.dead_letters_capped', state, ts: Date.now(), priority: 'medium',
        message: state === 'raise'
          ? `source ${source} holds ${bytes} bytes of dead letters (cap ${cap}): its further rejected input is counted, not kept`
          : `source ${source} has room for dead letters again`,
        evidence: { source, bytes, cap, dropped },
      }),
    });
    this.pipeline = new Pipeline({
      topology: this.topology, outbox: this.outbox, deadLetters: this.deadLetters, metrics: this.metrics,
      log: log.child({ component: 'pipeline' }), maxFutureMs: config.ingest.maxFutureMs,
      maxAgeMs: config.ingest.maxAgeHours * 3_600_000, dedupeWindow: config.ingest.dedupeWindow, now: this.now,
      onClockSuspect: (state, v) => this.condition({
        id: 'ingest.clock_suspect', type: 'ingest.clock_suspect', state, ts: Date.now(), priority: 'high',
        message: state === 'raise'
          ? `the server clock looks behind: ${v.aheadSensors} of ${v.sensors} sensors report times up to ${Math.round(v.maxAheadMs / 1000)} s beyond ingest.maxFutureMs; their readings are held (sources retry) until the clock is right (check NTP)`
          : 'readings are no longer ahead of the server clock; held readings are taken again',
        evidence: { aheadSensors: v.aheadSensors, sensors: v.sensors, maxAheadMs: v.maxAheadMs },
      }),
    });
    this.writer = new StoreWriter({
      outbox: this.outbox, store: this.store, metrics: this.metrics, log: log.child({ component: 'store-writer' }),
      batchSize: config.ingest.writeBatchSize,
      onDrained: () => this.checkOutbox(),
      onRefused: (points, error) => {
        const at = Date.now();
        this.deadLetters.addMany(points.map((p) => ({ at, source: 'store', origin: this.store.describe, sensor: p.sensor, field: 'store', reason: error.message, raw: JSON.stringify(p) })));
        this.metrics.readingsRejected.inc({ source: 'store', reason: 'store' }, points.length);
      },
      onOutboxFault: (err, diskFull) => {
        const id = diskFull ? 'ingest.disk_full' : 'ingest.outbox_fault';
        if (err === undefined) {
          for (const c of ['ingest.disk_full', 'ingest.outbox_fault']) {
            if (this.activeConditions.has(c)) this.condition({ id: c, type: c, state: 'clear', ts: Date.now(), message: 'the outbox drains again' });
          }
          return;
        }
        this.condition({
          id, type: id, state: 'raise', ts: Date.now(), priority: 'critical',
          message: diskFull ? `disk full: the outbox cannot drain (${err}); sources are refused until there is room`
            : `the outbox cannot drain: ${err}; retried with backoff`,
          evidence: { depth: this.outbox.depth },
        });
      },
      onStoreState: (ok, err) => this.condition({
        id: 'ingest.store_unavailable', type: 'ingest.store_unavailable', state: ok ? 'clear' : 'raise', ts: Date.now(),
        priority: 'high', message: ok ? 'time-series store writes succeed again' : `time-series store unavailable: ${err}; readings are held in the outbox`,
        evidence: { depth: this.outbox.depth },
      }),
    });

    this.bus = mqtt.connect(this.o.brokerUrl, {
      ...mqttConnectOptions({ ...config.broker, url: this.o.brokerUrl }),
      clientId: `aquawatch-ingest-bus-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 1000,
    });
    this.bus.on('error', (e) => log.warn({ err: e.message }, 'bus connection error'));
    // (again at each connection: a broker restarted without persistence has lost the retained list)
    this.bus.on('connect', () => {
      this.publishActiveConditions();
      for (const source of new Set([...this.sources.map((x) => x.name), ...this.offlineSensors.sources()])) this.publishOfflineSensors(source);
    });
    this.publisher = config.ingest.publishToBus ? new BusPublisher(this.bus, this.metrics) : undefined;

    // A row that cannot be decoded was moved aside: an event for an operator to look at (and acknowledge).
    this.outbox.onQuarantine = (rowId, reason) => {
      const c = { id: 'ingest.outbox_row_quarantined', type: 'ingest.outbox_row_quarantined', ts: Date.now(), priority: 'high' as const };
      this.condition({ ...c, state: 'raise', message: `outbox row ${rowId} could not be read (${reason}); moved to the outbox_quarantine table of the ingest database`, evidence: { rowId } });
      this.condition({ ...c, state: 'clear', message: 'readings behind the quarantined row are written' });
    };
    this.outbox.onCommit = (points) => {
      this.publisher?.publish(points);
      this.writer.notify();
      this.checkOutbox();
    };
    this.writer.start();
    this.watchDiskSpace();
    this.runRetention();

    const ctx = this.sourceContext();
    this.sources = await buildSources(config, { brokerUrl: this.o.brokerUrl });
    // before the sources start: a birth that comes at once must find the death it ends
    this.takeUpFromBeforeRestart();
    for (const s of this.sources) {
      await s.start(ctx);
      log.info({ source: s.name, type: s.type }, 'source started');
    }

    if (this.o.http !== false) {
      this.http = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false } }, ...httpServerSettings(config.http.tls) });
      await this.registerRoutes(this.http);
      const { host, port } = this.o.http ?? { host: config.http.host, port: config.http.ingestPort };
      await this.http.listen({ host, port });
    }
  }

  /**
   * Routes of the ingest service, for its own HTTP server or one it shares (the all-in-one start).
   * `alongside`: another service of the process whose health /health reports too (analytics in
   * `start`), under its name; its degraded makes the whole degraded.
   */
  async registerRoutes(app: FastifyInstance, alongside?: { name: string; health: () => { status: 'ok' | 'degraded' } }): Promise<void> {
    const access = this.o.config.http;
    app.get('/health', async (req, reply) => {
      const own = await this.health();
      const other = alongside?.health();
      const h = other ? { ...own, status: own.status === 'ok' ? other.status : own.status, [alongside!.name]: other } : own;
      return reply.code(h.status === 'down' ? 503 : 200).send(mayReadOperationalDetail(req, access) ? h : { status: h.status });
    });
    app.get('/metrics', async (req, reply) => {
      if (!mayReadOperationalDetail(req, access)) return reply.code(403).send(METRICS_REFUSED);
      return reply.type(this.metrics.contentType()).send(await this.metrics.text());
    });
    const closer = await registerHttpSources(app, this.o.config, this.sourceContext(), this.store, this.o.log);
    this.closers.push(() => closer.close());
  }

  sourceContext(): SourceContext {
    return {
      outboxRoom: () => Math.max(0, this.outbox.capacity - this.outbox.depth),
      topology: this.topology,
      log: this.o.log,
      metrics: this.metrics,
      submit: async (source: string, readings: RawReading[]) => {
        try {
          return await this.pipeline.submit(source, readings);
        } finally {
          this.checkOutbox();
        }
      },
      reject: (source: string, input: UndecodableInput | readonly UndecodableInput[]) => this.pipeline.reject(source, input),
      condition: (c: Condition) => this.condition(c),
      sensorsStatus: (source, sensors, status, ts) => {
        this.offlineSensors.record(source, sensors, status, ts);
        this.kept?.status(source, sensors, status, ts);
        this.bus?.publish(statusTopic(source), encodeSensorStatus({ source, sensors, status, ts }), { qos: 1 });
        this.publishOfflineSensors(source);
      },
      now: this.now,
    };
  }

  /** Record a condition and put it on the bus for the alarm manager. */
  condition(c: Condition): void {
    this.activeConditions.record(c);
    if (!c.id.startsWith('ingest.')) this.kept?.condition(c, c.state !== 'clear' && this.sources.some((s) => s.resumes?.(c, this.topology)));
    const log = c.state === 'clear' ? this.o.log.info.bind(this.o.log) : this.o.log.warn.bind(this.o.log);
    log({ condition: c.id, state: c.state }, c.message);
    this.bus?.publish(conditionTopic('ingest'), JSON.stringify(c), { qos: 1 });
    this.publishActiveConditions();
  }

  /**
   * The conditions active now, retained on the bus: the analytics, restarted or reconnected, catches
   * up on raises and clears it missed while away (analytics/worker.ts).
   */
  private publishActiveConditions(): void {
    if (!this.listsReady) return;
    this.bus?.publish(activeConditionsTopic('ingest'), JSON.stringify(this.activeConditions.message(Date.now())), { qos: 1, retain: true });
  }

  /**
   * The sensors `source` holds offline now, retained on the bus (after its status message, so a
   * reader live on both sees the change first): the analytics, back after a restart or a lost
   * connection, catches up on deaths and births it missed (analytics/worker.ts).
   */
  private publishOfflineSensors(source: string): void {
    if (!this.listsReady) return;
    this.bus?.publish(offlineSensorsTopic(source), encodeOfflineSensors(this.offlineSensors.message(source, Date.now())), { qos: 1, retain: true });
  }

  /**
   * What the sources had said before a restart of ingest and a later message of theirs would end:
   * the sensors they held offline (a source this configuration still has, a sensor its topology
   * still has) and the conditions a source says stand until then (Source.resumes: a Sparkplug
   * death). Taken up as if just reported, then the retained lists are published for the first time.
   */
  private takeUpFromBeforeRestart(): void {
    const names = new Set(this.sources.map((s) => s.name));
    const kept = this.kept!.takeUp({
      offline: (o) => names.has(o.source) && this.topology.sensors.has(o.sensor),
      condition: (c) => this.sources.some((s) => s.resumes?.(c, this.topology)),
    });
    for (const o of kept.offline) this.offlineSensors.record(o.source, [o.sensor], 'offline', o.since);
    for (const c of kept.conditions) this.activeConditions.record(c);
    if (kept.offline.length || kept.conditions.length) {
      this.o.log.info({ offlineSensors: kept.offline.length, conditions: kept.conditions.map((c) => c.id) }, 'taken up from before the restart: sensors its sources held offline and conditions only their devices end');
    }
    if (kept.unreadable) this.o.log.warn({ rows: kept.unreadable }, 'kept conditions that no longer read as conditions were dropped');
    this.listsReady = true;
    this.publishActiveConditions();
    for (const source of new Set([...this.sources.map((x) => x.name), ...this.offlineSensors.sources()])) this.publishOfflineSensors(source);
  }

  /** The disk-space condition (review F24) of the filesystems of the data directory, the outbox and the embedded store, off the hot path. */
  private watchDiskSpace(): void {
    const { config, log } = this.o;
    const files = [this.dataPath(config.ingest.outboxPath), ...(config.store.type === 'sqlite' ? [this.dataPath(config.store.path)] : [])];
    const dirs = [config.dataDir, ...files.filter((f) => f !== ':memory:').map((f) => dirname(f))];
    const watch = new DiskSpaceWatch({ dirs: [...new Set(dirs)], floor: config.ingest, condition: (c) => this.condition(c) });
    let running = false;
    const check = () => {
      if (running) return;
      running = true;
      watch.check().then((u) => { this.diskUsage = u; })
        .catch((e: unknown) => log.warn({ err: (e as Error).message }, 'disk space check failed'))
        .finally(() => { running = false; });
    };
    check();
    const timer = setInterval(check, config.ingest.diskCheckMs);
    timer.unref();
    this.closers.push(() => clearInterval(timer));
  }

  /**
   * Retention of the embedded store (review F24), by the service that writes the readings: a pass at
   * start and every hour, in short chunks between ingest's own writes. InfluxDB keeps data by its
   * own retention policy (deploy/influxdb).
   */
  private runRetention(): void {
    const { config, log } = this.o;
    if (config.store.type !== 'sqlite' || !(this.store instanceof SqliteStore)) return;
    const days = resolveRetentionDays(config.store.retentionDays);
    const retention = this.store.retention({ days, onDeleted: (measurement, rows) => this.metrics.retentionDeleted.inc({ measurement }, rows) });
    const pass = () => {
      retention.runPass().then((r) => {
        if (r.chunks === 0 && r.pagesFreed === 0) return;
        const keptFrom = Object.fromEntries(Object.entries(r.keptFrom).filter(([m]) => r.deleted[m]).map(([m, t]) => [m, new Date(t).toISOString()]));
        log.info({ deleted: r.deleted, keptFrom, pagesFreed: r.pagesFreed, retentionDays: days }, 'store retention: deleted rows older than their measurement\'s retention');
      }, (e: unknown) => log.warn({ err: (e as Error).message }, 'store retention pass failed; retried at the next pass'));
    };
    pass();
    const timer = setInterval(pass, RETENTION_PASS_MS);
    timer.unref();
    this.closers.push(() => { clearInterval(timer); retention.stop(); });
  }

  /** The outbox-full alarm, with hysteresis: raised at the bound, cleared below 90 % of it. */
  private checkOutbox(): void {
    const { depth, capacity } = this.outbox;
    if (!this.outboxFull && depth >= capacity) {
      this.outboxFull = true;
      this.condition({ id: 'ingest.outbox_full', type: 'ingest.outbox_full', state: 'raise', ts: Date.now(), priority: 'critical',
        message: `outbox full (${depth} readings): sources are refused until the store catches up`, evidence: { depth, capacity } });
    } else if (this.outboxFull && depth < capacity * OUTBOX_CLEAR_RATIO) {
      this.outboxFull = false;
      this.condition({ id: 'ingest.outbox_full', type: 'ingest.outbox_full', state: 'clear', ts: Date.now(),
        message: 'outbox below 90 % again', evidence: { depth, capacity } });
    }
  }

  async health(): Promise<{ status: 'ok' | 'degraded' | 'down'; store: object; outbox: object; disk: DiskUsage[]; bus: object; sources: SourceStatus[]; conditions: Condition[]; conditionsNotListed: number }> {
    const storeOk = !this.writer.storeFailing && await this.store.ping();
    const sources = this.sources.map((s) => s.status());
    const sourcesOk = sources.every((s) => s.state === 'connected' || s.state === 'stopped');
    const diskLow = [...this.activeConditions.values()].some((c) => c.type === 'ingest.disk_low');
    const status = this.outbox.isFull ? 'down' : storeOk && sourcesOk && !diskLow && this.bus?.connected ? 'ok' : 'degraded';
    return {
      status,
      store: { describe: this.store.describe, ok: storeOk, lastError: this.writer.lastError, lastWriteAt: this.writer.lastWriteAt },
      outbox: { depth: this.outbox.depth, capacity: this.outbox.capacity, full: this.outbox.isFull },
      disk: this.diskUsage,
      bus: { connected: this.bus?.connected ?? false, droppedWhileDisconnected: this.publisher?.dropped ?? 0 },
      sources,
      conditions: [...this.activeConditions.values()],
      conditionsNotListed: this.activeConditions.notListed,
    };
  }

  /** Stop sources first (no new readings), then commit and drain what is pending for up to `drainMs`. */
  async stop(drainMs = 2000): Promise<void> {
    for (const s of this.sources) {
      try { await s.stop(); } catch (e) { this.o.log.warn({ source: s.name, err: (e as Error).message }, 'source stop failed'); }
    }
    await this.http?.close();
    for (const c of this.closers.splice(0)) c();
    this.outbox?.commit();
    await this.writer?.stop(drainMs);
    this.outbox?.close();
    if (this.bus) await this.bus.endAsync();
    if (!this.o.store) await this.store?.close();
  }
}
