/**
 * A SourceContext that records what a source submits, for testing a source on its own against a
 * real server or broker. It is a test double of the pipeline (named so): it accepts every reading
 * whose sensor is in the topology and rejects the others, as the real pipeline does first.
 */
import type { RawReading } from '../../core/model/reading.ts';
import type { Condition } from '../../core/bus/messages/condition.ts';
import { Topology } from '../../core/topology/topology.ts';
import { Metrics } from '../../ingest/metrics.ts';
import { silentLogger } from '../../core/log.ts';
import type { SourceContext } from '../../ingest/sources/types.ts';
import type { SubmitResult, UndecodableInput } from '../../ingest/pipeline/contract.ts';

export class RecordingContext implements SourceContext {
  readonly readings: RawReading[] = [];
  readonly undecodable: UndecodableInput[] = [];
  readonly conditions: Condition[] = [];
  readonly statuses: { source: string; sensors: string[]; status: 'online' | 'offline'; ts: number }[] = [];
  readonly metrics = new Metrics();
  readonly log = silentLogger;
  /** Set to make submit slow (e.g. to test that an MQTT ack waits for it). */
  submitDelayMs = 0;
  clock: () => number = () => Date.now();

  constructor(readonly topology: Topology) {}

  async submit(_source: string, readings: RawReading[]): Promise<SubmitResult> {
    if (this.submitDelayMs) await new Promise((r) => setTimeout(r, this.submitDelayMs));
    const result: SubmitResult = { accepted: 0, duplicates: 0, rejected: [] };
    readings.forEach((r, index) => {
      if (!this.topology.sensors.has(r.sensor)) result.rejected.push({ index, field: 'sensor', reason: `unknown sensor ${r.sensor}` });
      else { this.readings.push(r); result.accepted++; }
    });
    return result;
  }
  reject(_source: string, input: UndecodableInput | readonly UndecodableInput[]): void {
    if (Array.isArray(input)) this.undecodable.push(...(input as readonly UndecodableInput[]));
    else this.undecodable.push(input as UndecodableInput);
  }
  condition(c: Condition): void { this.conditions.push(c); }
  sensorsStatus(source: string, sensors: string[], status: 'online' | 'offline', ts: number): void {
    this.statuses.push({ source, sensors, status, ts });
  }
  now(): number { return this.clock(); }
}
