/**
 * Publishes accepted readings on the platform bus, `aquawatch/v1/telemetry/<dma>`, batched per DMA
 * at each outbox commit: the analytics worker and the dashboard follow live values from here.
 * The store, not the bus, is the record: while the broker is unreachable, batches are counted as
 * dropped rather than queued without bound, and consumers catch up from the store.
 */
import type { MqttClient } from 'mqtt';
import type { Point } from '../../core/model/reading.ts';
import { telemetryTopic } from '../../core/bus/topics.ts';
import { encodeTelemetry } from '../../core/bus/messages/telemetry.ts';
import type { Metrics } from '../metrics.ts';

const MAX_PER_MESSAGE = 2000;

export class BusPublisher {
  dropped = 0;
  constructor(private readonly client: MqttClient, private readonly metrics: Metrics) {}

  publish(points: readonly Point[]): void {
    if (!this.client.connected) { this.dropped += points.length; return; }
    const byDma = new Map<string, Point[]>();
    for (const p of points) {
      let list = byDma.get(p.dma);
      if (!list) { list = []; byDma.set(p.dma, list); }
      list.push(p);
    }
    for (const [dma, list] of byDma) {
      for (let i = 0; i < list.length; i += MAX_PER_MESSAGE) {
        const chunk = list.slice(i, i + MAX_PER_MESSAGE);
        this.client.publish(telemetryTopic(dma), encodeTelemetry(chunk), { qos: 0 });
      }
    }
    this.metrics.busPublished.inc(points.length);
  }
}
