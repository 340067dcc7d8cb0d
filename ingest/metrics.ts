/**
 * Prometheus metrics of one ingest process. Each service creates its own registry so that two
 * services in one process (the all-in-one `start`) or in one test do not collide.
 *
 * The pipeline's own metrics are fields here. A protocol's metrics (OPC UA session state, MQTT
 * connection) are registered by its source through `gauge()`, as Telegraf's selfstat.Register does
 * inside the plugin, so adding a source does not edit this file.
 */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly readingsIn: Counter<'source'>;
  readonly readingsStored: Counter;
  readonly readingsRejected: Counter<'source' | 'reason'>;
  readonly readingsDuplicate: Counter<'source'>;
  readonly readingsHeldForClock: Counter<'source'>;
  readonly outboxDepth: Gauge;
  readonly outboxCapacity: Gauge;
  readonly writeLatency: Histogram;
  readonly writeErrors: Counter;
  readonly sourceConnected: Gauge<'source' | 'type'>;
  readonly busPublished: Counter;
  readonly retentionDeleted: Counter<'measurement'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'aquawatch_' });
    this.readingsIn = new Counter({ name: 'aquawatch_readings_in_total', help: 'Readings received from sources', labelNames: ['source'], registers });
    this.readingsStored = new Counter({ name: 'aquawatch_readings_stored_total', help: 'Readings written to the time-series store', registers });
    this.readingsRejected = new Counter({ name: 'aquawatch_readings_rejected_total', help: 'Readings rejected by validation (kept in the dead-letter table)', labelNames: ['source', 'reason'], registers });
    this.readingsDuplicate = new Counter({ name: 'aquawatch_readings_duplicate_total', help: 'Readings dropped as duplicates of a recent reading', labelNames: ['source'], registers });
    this.readingsHeldForClock = new Counter({ name: 'aquawatch_readings_held_for_clock_total', help: 'Readings refused retryably (not acknowledged) because the server clock looked behind', labelNames: ['source'], registers });
    this.outboxDepth = new Gauge({ name: 'aquawatch_outbox_depth', help: 'Readings in the store-and-forward outbox, not yet in the store', registers });
    this.outboxCapacity = new Gauge({ name: 'aquawatch_outbox_capacity', help: 'Outbox bound in readings', registers });
    this.writeLatency = new Histogram({ name: 'aquawatch_store_write_seconds', help: 'Latency of one batch write to the time-series store', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.writeErrors = new Counter({ name: 'aquawatch_store_write_errors_total', help: 'Failed batch writes (retried from the outbox)', registers });
    this.sourceConnected = new Gauge({ name: 'aquawatch_source_connected', help: '1 when the source is connected and receiving', labelNames: ['source', 'type'], registers });
    this.busPublished = new Counter({ name: 'aquawatch_bus_published_total', help: 'Readings published on the telemetry bus', registers });
    this.retentionDeleted = new Counter({ name: 'aquawatch_store_retention_deleted_total', help: 'Rows the embedded store deleted as older than their retention (store.retentionDays)', labelNames: ['measurement'], registers });
  }

  /**
   * A gauge a source registers for its protocol; the same one when several sources of a type (or
   * two types sharing code) ask for it, since one name may be registered only once per registry.
   */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) {
      if (!(existing instanceof Gauge)) throw new Error(`metric ${name} is already registered and is not a gauge`);
      return existing as Gauge<L>;
    }
    return new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }

  text(): Promise<string> { return this.registry.metrics(); }
  contentType(): string { return this.registry.contentType; }
}
