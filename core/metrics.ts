/**
 * Prometheus metrics of one process. Each service creates its own registry so that two services in
 * one process (the all-in-one `start`) or in one test do not collide.
 */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly readingsIn: Counter<'source'>;
  readonly readingsStored: Counter;
  readonly readingsRejected: Counter<'source' | 'reason'>;
  readonly readingsDuplicate: Counter<'source'>;
  readonly outboxDepth: Gauge;
  readonly outboxCapacity: Gauge;
  readonly writeLatency: Histogram;
  readonly writeErrors: Counter;
  readonly sourceConnected: Gauge<'source' | 'type'>;
  readonly opcuaSessionState: Gauge<'source'>;
  readonly mqttConnected: Gauge<'source'>;
  readonly busPublished: Counter;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'aquawatch_' });
    this.readingsIn = new Counter({ name: 'aquawatch_readings_in_total', help: 'Readings received from sources', labelNames: ['source'], registers });
    this.readingsStored = new Counter({ name: 'aquawatch_readings_stored_total', help: 'Readings written to the time-series store', registers });
    this.readingsRejected = new Counter({ name: 'aquawatch_readings_rejected_total', help: 'Readings rejected by validation (kept in the dead-letter table)', labelNames: ['source', 'reason'], registers });
    this.readingsDuplicate = new Counter({ name: 'aquawatch_readings_duplicate_total', help: 'Readings dropped as duplicates of a recent reading', labelNames: ['source'], registers });
    this.outboxDepth = new Gauge({ name: 'aquawatch_outbox_depth', help: 'Readings in the store-and-forward outbox, not yet in the store', registers });
    this.outboxCapacity = new Gauge({ name: 'aquawatch_outbox_capacity', help: 'Outbox bound in readings', registers });
    this.writeLatency = new Histogram({ name: 'aquawatch_store_write_seconds', help: 'Latency of one batch write to the time-series store', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.writeErrors = new Counter({ name: 'aquawatch_store_write_errors_total', help: 'Failed batch writes (retried from the outbox)', registers });
    this.sourceConnected = new Gauge({ name: 'aquawatch_source_connected', help: '1 when the source is connected and receiving', labelNames: ['source', 'type'], registers });
    this.opcuaSessionState = new Gauge({ name: 'aquawatch_opcua_session_state', help: 'OPC UA session: 0 disconnected, 1 connecting, 2 connected, 3 subscription silent', labelNames: ['source'], registers });
    this.mqttConnected = new Gauge({ name: 'aquawatch_mqtt_connected', help: 'MQTT client connection: 1 connected, 0 not', labelNames: ['source'], registers });
    this.busPublished = new Counter({ name: 'aquawatch_bus_published_total', help: 'Readings published on the telemetry bus', registers });
  }

  text(): Promise<string> { return this.registry.metrics(); }
  contentType(): string { return this.registry.contentType; }
}
