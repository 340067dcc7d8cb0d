/**
 * One event, one alarm: pressure conditions raised at many sensors in several DMAs within a few
 * minutes are one network event (a valve operated, a pump tripped, the plant's pressure changed),
 * not an alarm per logger. The pressure detector reports each raise it makes here; once
 * `minSensors` sensors in `minDmas` DMAs have raised within `windowMin`, a `network_event` condition
 * is raised and every one of those conditions names it as its parent (the alarm manager lists them
 * under it), as does every pressure condition raised while it lasts. It clears when none of its
 * conditions is active any more. A planned operation in the register (a planned outage of one of
 * its DMAs around its start) explains it: low priority, the register's id in the evidence.
 */
import type { PlannedOutageLookup } from '../../outages/types.ts';
import type { Condition } from '../../types.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';

const MIN = 60_000;

export interface NetworkEventSettings {
  /** Fewest sensors whose pressure changed together... */
  networkEventMinSensors: number;
  /** ...in at least this many DMAs (one DMA's sensors moving together is its own burst or outage)... */
  networkEventMinDmas: number;
  /** ...within this many minutes. */
  networkEventWindowMin: number;
  /** A planned operation explains the event when it starts within this many minutes of the planned window. */
  networkEventPlannedToleranceMin: number;
}

/** A pressure condition raised at a sensor. */
export interface PressureRaise { conditionId: string; sensor: string; dma: string; site: string; ts: number }

interface ActiveEvent { id: string; since: number; site: string; sensors: Set<string>; dmas: Set<string>; planned?: string }

export class NetworkEvents {
  /** Raises not in an event, within the window: at most one per condition. */
  private recent: PressureRaise[] = [];
  private event: ActiveEvent | undefined;

  constructor(private readonly o: NetworkEventSettings, private readonly planned?: Pick<PlannedOutageLookup, 'findPlanned'>) {}

  /** The active event's condition id. */
  get activeId(): string | undefined { return this.event?.id; }

  /**
   * A raise not explained by a burst. Returns the event it belongs to, with `formed` the earlier
   * raises that form it together with this one (whose conditions must now name it too), or undefined.
   */
  noteRaise(r: PressureRaise): { id: string; formed?: PressureRaise[]; raise?: Condition } | undefined {
    if (this.event) {
      this.event.sensors.add(r.sensor);
      if (r.dma) this.event.dmas.add(r.dma);
      return { id: this.event.id };
    }
    const from = r.ts - this.o.networkEventWindowMin * MIN;
    this.recent = this.recent.filter((x) => x.ts >= from && x.conditionId !== r.conditionId);
    this.recent.push(r);
    const sensors = new Set(this.recent.map((x) => x.sensor));
    const dmas = new Set(this.recent.map((x) => x.dma).filter(Boolean));
    if (sensors.size < this.o.networkEventMinSensors || dmas.size < this.o.networkEventMinDmas) return undefined;
    const formed = this.recent;
    this.recent = [];
    const since = Math.min(...formed.map((x) => x.ts));
    const tolerance = this.o.networkEventPlannedToleranceMin * MIN;
    const planned = this.planned ? [...dmas].map((d) => this.planned!.findPlanned(d, since, tolerance)).find(Boolean) : undefined;
    this.event = { id: `network_event:${formed[0].sensor}`, since, site: formed[0].site, sensors, dmas, planned: planned?.id };
    return { id: this.event.id, formed, raise: this.condition('raise', r.ts) };
  }

  /**
   * After a restart, an open network event's alarm the warm-up did not form again: it is the
   * active event again (with its sensors and DMAs from the alarm), unless another one is. False
   * then: two events cannot be held at once.
   */
  takeUp(id: string, since: number, evidence: Record<string, unknown>): boolean {
    if (this.event) return this.event.id === id;
    const texts = (x: unknown) => (Array.isArray(x) ? x.filter((v): v is string => typeof v === 'string') : []);
    const sensors = texts(evidence.sensors);
    this.event = {
      id, since, site: '', sensors: new Set(sensors), dmas: new Set(texts(evidence.dmas)),
      planned: typeof evidence.planned === 'string' ? evidence.planned : undefined,
    };
    return true;
  }

  /** The event is over when none of its conditions is active any more (`stillActive` says whether any is). */
  clearIfOver(stillActive: boolean, ts: number): Condition | undefined {
    if (!this.event || stillActive) return undefined;
    const c = this.condition('clear', ts);
    this.event = undefined;
    return c;
  }

  private condition(state: 'raise' | 'clear', ts: number): Condition {
    const e = this.event!;
    const dmas = [...e.dmas].sort();
    const text = state === 'clear'
      ? alarmText('network_event.clear', { sensors: e.sensors.size })
      : e.planned
        ? alarmText('network_event.raise_planned', { sensors: e.sensors.size, dmas: dmas.join(', '), planned: e.planned })
        : alarmText('network_event.raise', { sensors: e.sensors.size, dmas: dmas.join(', ') });
    return {
      id: e.id, type: 'network_event', state, ts, priority: e.planned ? 'low' : 'medium', site: e.site || undefined, text,
      evidence: { since: e.since, sensors: [...e.sensors].sort(), dmas, ...(e.planned ? { planned: e.planned } : {}) },
    };
  }
}
