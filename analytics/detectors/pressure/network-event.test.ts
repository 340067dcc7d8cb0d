/**
 * One event, one alarm: simultaneous pressure drops at loggers of three DMAs, through the real
 * pressure detector and the real alarm manager (SQLite in memory) and planned-outage register.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { topologySchema } from '../../../core/config/schema.ts';
import type { Point } from '../../../core/model/reading.ts';
import { AlarmStore } from '../../../core/state/alarm-store.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { AlarmManager, type AlarmTransition } from '../../alarms/manager.ts';
import { OutageRegister } from '../../outages/register.ts';
import { runStep } from '../../step.ts';
import { ScheduledFaults } from '../../../test/support/sim-drive.ts';
import { PressureDetector } from './index.ts';

const MIN = 60_000;
const T0 = Date.parse('2024-05-07T10:00:00+08:00');
const DMAS = ['west', 'central', 'east'];
/** Two loggers per DMA, P-<dma>-1 and P-<dma>-2. */
const SENSORS = DMAS.flatMap((d) => [`P-${d}-1`, `P-${d}-2`]);

function topology(): Topology {
  return new Topology(topologySchema.parse({
    sites: [{ id: 'network' }],
    dmas: DMAS.map((id) => ({ id, inlets: [], outlets: [], customers: 1000 })),
    sensors: SENSORS.map((id) => ({ id, kind: 'pressure', unit: 'MPa', site: 'network', dma: id.split('-')[1], place: 'network' })),
  }));
}

const closers: { close(): void }[] = [];
afterEach(() => { for (const c of closers.splice(0)) c.close(); });

/**
 * 40 minutes at 1-min samples, 0.30 MPa with a little deterministic noise; `dropAt(sensor)` gives the
 * minute each sensor falls by 0.06 MPa (undefined: never), back at minute 30. Returns the alarms raised
 * and presented to the operator (annunciated), and the network_event conditions.
 */
function run(dropAt: (sensor: string) => number | undefined, register?: OutageRegister) {
  const store = new AlarmStore(':memory:');
  closers.push(store);
  const alarms = new AlarmManager({ store, now: () => 0 });
  const transitions: AlarmTransition[] = [];
  alarms.on('transition', (t) => transitions.push(t));
  const detector = new PressureDetector({ topology: topology(), health: new ScheduledFaults(), timezone: 'Asia/Shanghai' }, { planned: register });
  const events = [];
  for (let m = 0; m < 40; m++) {
    const ts = T0 + m * MIN;
    const batch: Point[] = SENSORS.map((sensor, k) => {
      const at = dropAt(sensor);
      const dropped = at !== undefined && m >= at && m < 30;
      const value = 0.3 + 0.001 * Math.sin(m * 7 + k) - (dropped ? 0.06 : 0);
      return { measurement: 'pressure', sensor, ts, value, quality: 'good', site: 'network', dma: sensor.split('-')[1] };
    });
    for (const c of runStep([detector], batch, ts + MIN).conditions) {
      alarms.onCondition(c);
      if (c.type === 'network_event') events.push(c);
    }
  }
  const presented = transitions.filter((t) => t.kind === 'raise' && t.annunciate).map((t) => t.alarm.conditionId);
  return { presented, events, alarms };
}

describe('network event', () => {
  it('drops at six loggers of three DMAs within two minutes: one alarm, the drops under it; over when they recover', () => {
    // two loggers drop a minute before the others: their alarms are raised, then taken under the event
    const { presented, events, alarms } = run((s) => (s.startsWith('P-west') ? 10 : 11));
    expect(presented).toEqual(['pressure_drop:P-west-1', 'pressure_drop:P-west-2', 'network_event:P-west-1']);
    expect(events.map((e) => e.state)).toEqual(['raise', 'clear']);
    // raised when the fifth sensor dropped (the default minimum), the sixth joined it
    expect(events[0]).toMatchObject({ priority: 'medium', evidence: { dmas: DMAS.slice().sort() } });
    expect(events[0].evidence!.sensors).toHaveLength(5);
    expect(events[1].evidence!.sensors).toEqual(SENSORS.slice().sort());
    const event = alarms.list().find((a) => a.type === 'network_event')!;
    expect(event.secondaries.map((s) => s.conditionId).sort()).toEqual(SENSORS.map((s) => `pressure_drop:${s}`).sort());
    // the early ones keep their own alarm, grouped under the event (no longer annunciated)
    expect(alarms.list().filter((a) => a.parentAlarmId === event.id).map((a) => a.conditionId).sort()).toEqual(['pressure_drop:P-west-1', 'pressure_drop:P-west-2']);
  });

  it('a drop in one DMA only is not a network event', () => {
    const { presented, events } = run((s) => (s.startsWith('P-central') ? 10 : undefined));
    expect(presented).toEqual(['pressure_drop:P-central-1', 'pressure_drop:P-central-2']);
    expect(events).toEqual([]);
  });

  it('a planned operation in the register explains it: low priority, the register id in the evidence and text', () => {
    const register = new OutageRegister(':memory:');
    closers.push(register);
    register.createPlanned({ id: 'prv2-works', dmas: ['central'], start: T0 + 10 * MIN, end: T0 + 4 * 60 * MIN, notifiedAt: T0 - 48 * 60 * MIN, cause: 'maintenance', reason: 'PRV-2' });
    const { presented, events } = run(() => 10, register);
    expect(presented).toEqual(['network_event:P-west-1']);
    expect(events[0]).toMatchObject({ priority: 'low', evidence: { planned: 'prv2-works' }, text: { code: 'network_event.raise_planned' } });
  });
});
