/**
 * The alarm topic is an integration point (docs/alarm-topic.md): what a raised, acknowledged and
 * cleared alarm puts on aquawatch/v1/alarms/<dma> matches the documented schema
 * (core/bus/messages/alarm.ts alarmTransitionMessageSchema, strict), and the document lists exactly
 * the schema's fields. Real parts: the embedded broker (aedes), the analytics worker publishing,
 * the alarm manager with its SQLite store, an MQTT subscriber as an integration would be.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../../core/bus/embedded-broker.ts';
import { ALARM_FILTER } from '../../core/bus/topics.ts';
import { alarmTransitionMessageSchema } from '../../core/bus/messages/alarm.ts';
import { topologySchema } from '../../core/config/schema.ts';
import { Topology } from '../../core/topology/topology.ts';
import { AlarmStore } from '../../core/state/alarm-store.ts';
import { AlarmManager } from '../../analytics/alarms/manager.ts';
import { AnalyticsWorker } from '../../analytics/worker.ts';
import { waitFor } from '../support/ports.ts';

const T0 = Date.parse('2024-05-07T10:00:00Z');
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); });

/** The backticked names in the first column of the table under `## heading` in docs/alarm-topic.md. */
function documentedFields(heading: string): string[] {
  const doc = readFileSync(new URL('../../docs/alarm-topic.md', import.meta.url), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`docs/alarm-topic.md: no section ${heading}`);
  return [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
}

describe('the alarm topic', () => {
  it('documents every field, and a raised, acknowledged and cleared alarm is published in that shape', async () => {
    const shape = alarmTransitionMessageSchema.shape;
    expect(documentedFields('The event').sort()).toEqual(Object.keys(shape).sort());
    expect(documentedFields('The alarm').sort()).toEqual(Object.keys(shape.alarm.shape).sort());

    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0 });
    await broker.start();
    cleanups.push(() => broker.stop());
    const topology = new Topology(topologySchema.parse({
      sites: [{ id: 'S1' }], dmas: [{ id: 'central' }], sensors: [{ id: 'F-1', kind: 'flow', site: 'S1', dma: 'central' }],
    }));
    const store = new AlarmStore(':memory:');
    cleanups.push(() => store.close());
    const alarms = new AlarmManager({ store });
    const worker = new AnalyticsWorker({ topology, detectors: [], alarms });
    worker.startAt(T0);
    await worker.start(broker.url, { idleAdvanceMs: 0, flushDerivedMs: 0 });
    cleanups.push(() => worker.stop());

    const integration = await mqtt.connectAsync(broker.url, { clientId: 'integration' });
    cleanups.push(() => integration.endAsync());
    const messages: { topic: string; payload: unknown }[] = [];
    integration.on('message', (topic, payload) => messages.push({ topic, payload: JSON.parse(payload.toString()) }));
    await integration.subscribeAsync(ALARM_FILTER, { qos: 1 });

    alarms.onCondition({ id: 'burst:central', type: 'burst', state: 'raise', ts: T0, priority: 'high', dma: 'central', message: 'burst', evidence: { burstFlowM3h: 20 } });
    const raised = alarms.openAlarms()[0];
    alarms.acknowledge(raised.id, 'dispatcher', 'crew sent');
    alarms.onCondition({ id: 'burst:central', type: 'burst', state: 'clear', ts: T0 + 3_600_000, dma: 'central', message: 'burst over' });
    alarms.advanceTo(T0 + 4 * 3_600_000);

    const kinds = () => messages.map((m) => (m.payload as { kind: string }).kind);
    await waitFor(() => ['raise', 'acknowledge', 'clear'].every((k) => kinds().includes(k)), 10_000, 20, 'raise, acknowledge and clear on the bus');
    for (const m of messages) {
      expect(m.topic).toBe('aquawatch/v1/alarms/central');
      const parsed = alarmTransitionMessageSchema.safeParse(m.payload);
      expect(parsed.success ? 'ok' : parsed.error.issues).toBe('ok');
    }
    expect(messages[0].payload).toMatchObject({ v: 1, kind: 'raise', fromState: null, toState: 'active-unacknowledged', alarm: { conditionId: 'burst:central', dma: 'central', priority: 'high' } });
    expect(messages.find((m) => (m.payload as { kind: string }).kind === 'acknowledge')!.payload).toMatchObject({ user: 'dispatcher', comment: 'crew sent', alarm: { ackedBy: 'dispatcher' } });
  });
});
