/**
 * What the dashboard may read from an ingest service running in the same process (`aquawatch
 * start`): its health and the store and topology it writes with. bin/ passes the IngestService in;
 * the dashboard depends on this shape only, not on ingest/.
 */
import type { Condition } from './bus/messages/condition.ts';
import type { Topology } from './topology/topology.ts';
import type { TimeSeriesStore } from './tsdb/types.ts';

export interface SourceHealth {
  name: string;
  /** opcua, mqtt, sparkplug, pda, csv */
  type: string;
  /** connected, connecting, disconnected, stopped … */
  state: string;
  /** Last time data arrived, ms, or null. */
  lastDataAt: number | null;
}

/** The ingest service's /health document. */
export interface IngestHealth {
  status: 'ok' | 'degraded' | 'down';
  store: object;
  outbox: object;
  bus: object;
  sources: SourceHealth[];
  conditions: Condition[];
}

export interface IngestView {
  readonly topology: Topology;
  readonly store: TimeSeriesStore;
  health(): Promise<IngestHealth>;
}
