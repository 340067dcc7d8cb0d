/**
 * The contract between a source (a collector: OPC UA, MQTT, Sparkplug B, PDA, CSV) and the pipeline.
 *
 * A source turns what its protocol delivers into RawReadings and hands them to `ctx.submit`. The
 * promise resolves only once every accepted reading is durable in the outbox: a source that must
 * acknowledge upstream (an MQTT PUBACK, a PDA HTTP answer) acknowledges after that, never before.
 * Readings the pipeline rejects come back item by item with the field and the reason; they are
 * already counted and kept in the dead-letter table, so a source only needs to pass them on where
 * its protocol can (the PDA answer), or ignore them. The submit contract itself (SubmitResult,
 * BackpressureError, UndecodableInput) belongs to the pipeline: ingest/pipeline/contract.ts.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { SourceConfigDescriptor } from '../../core/config/sources.ts';
import type { BrokerAddress } from '../../core/bus/mqtt-client.ts';
import type { RawReading } from '../../core/model/reading.ts';
import type { Topology } from '../../core/topology/topology.ts';
import type { Metrics } from '../metrics.ts';
import type { Condition } from '../../core/bus/messages/condition.ts';
import type { SubmitResult, UndecodableInput } from '../pipeline/contract.ts';

export interface SourceContext {
  topology: Topology;
  log: Logger;
  metrics: Metrics;
  /** Validate, convert, de-duplicate and make durable. Throws BackpressureError when the outbox is full. */
  submit(source: string, readings: RawReading[]): Promise<SubmitResult>;
  /**
   * Count and keep input that never became a reading. A list is kept in one commit: a source
   * passes all the rejections of one message or upload at once, never one call per element.
   */
  reject(source: string, input: UndecodableInput | readonly UndecodableInput[]): void;
  /** Report a condition (session lost, subscription silent, node death) towards the alarm manager. */
  condition(c: Condition): void;
  /** Mark sensors stale/unavailable (Sparkplug death, OPC UA session lost) without inventing values. */
  sensorsStatus(source: string, sensors: string[], status: 'online' | 'offline', ts: number): void;
  /** Clock for timestamps a source must invent (only when the protocol has none). Tests replace it. */
  now(): number;
  /**
   * Readings the outbox can take before it refuses (0 when full). A source that can leave data
   * with its sender (an MQTT broker) reads no more than this, rather than read and be refused.
   */
  outboxRoom?(): number;
}

export type SourceState = 'stopped' | 'connecting' | 'connected' | 'disconnected' | 'silent';

export interface SourceStatus {
  name: string;
  /** The source's type, as in the registry (registry.ts) and the `sources:` key. */
  type: string;
  state: SourceState;
  /** Last time data arrived, ms, or null. */
  lastDataAt: number | null;
  detail?: Record<string, unknown>;
}

export interface Source {
  readonly name: string;
  readonly type: SourceStatus['type'];
  start(ctx: SourceContext): Promise<void>;
  stop(): Promise<void>;
  status(): SourceStatus;
  /**
   * Whether a condition this source raised stands across a restart of ingest until a later message
   * of its device ends it (a Sparkplug node's death, until its birth): ingest keeps such conditions
   * in its database and raises them again at its start (ingest/kept-across-restart.ts). Asked at
   * each raise, and again at the start for what was kept (the topology may have changed). A
   * condition the source finds again by itself after a restart (a session it cannot open) is not
   * one of them. Without this method, none is.
   */
  resumes?(c: Condition, topology: Topology): boolean;
}

/** What a source may need of the platform beyond its own section of the configuration. */
export interface SourceEnvironment {
  dataDir: string;
  demoMode: boolean;
  /** The platform broker as sources see it: the embedded broker's real address replaces `embedded`. */
  platformBroker: BrokerAddress;
}

/** The module of a protocol source (its source.ts): makes one Source per configured instance. */
export interface SourceModule<C> {
  createSource(config: C, env: SourceEnvironment): Source;
}

/**
 * A source type as its folder's index.ts describes it to the registry: its configuration section
 * and sensor address (for the config schema), and, for a protocol source, its module, imported only
 * when the section lists an instance (node-opcua alone adds some 100 MB to a process).
 */
export interface ProtocolSourceDescriptor<C> extends SourceConfigDescriptor {
  /** `sources.<type>`: a list, one Source per entry. */
  readonly configSchema: z.ZodType<C[]>;
  load(): Promise<SourceModule<C>>;
}

/** A source type without Source objects of its own: HTTP-borne (PDA) or a command (CSV import). */
export type SourceDescriptor = SourceConfigDescriptor | ProtocolSourceDescriptor<never>;
