/**
 * One event, one alarm (ISA-18.2) for communications: many sensors that fell silent together (a
 * gateway, a base station, a collector, an OPC UA server or a Sparkplug edge node lost) are one
 * `comms_loss` event, not a `sensor_stale` alarm per logger. Sensor health reports each silence
 * fault it raises (stale, or offline from the source) with when the sensor was last heard; once
 * `commsLossMinSensors` sensors went silent within `commsLossWindowMin` of one another (widened by
 * the sensors' own reporting intervals, since a sensor reporting every 15 min may have been heard up
 * to 15 min before the link failed), a `comms_loss` condition is raised and every one of those
 * conditions names it as its parent (the alarm manager lists them under it). A later silence of the
 * same moment joins it. It clears when every one of its sensors is heard again.
 */
import type { Condition } from '../../types.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';

const MIN = 60_000;

export interface CommsLossSettings {
  /** Fewest sensors silent together that make one communications loss. */
  commsLossMinSensors: number;
  /** Their last readings lie within this many minutes of one another (plus their reporting intervals). */
  commsLossWindowMin: number;
}

/** A silence fault (stale or offline) raised at a sensor. */
export interface SilenceRaise {
  conditionId: string;
  sensor: string;
  /** When the sensor was last heard (offline: when the source said it was lost). */
  silentSince: number;
  /** Event time of the fault's raise. */
  raisedAt: number;
  /** The sensor's reporting interval, ms. */
  intervalMs: number;
  site: string;
  dma: string;
  /** The source type that reads it (opcua, sparkplug, mqtt...), if the topology says. */
  source?: string;
  /** The fault condition's evidence (repeated when it is linked to the event later). */
  evidence: Record<string, unknown>;
}

interface CommsLossEvent {
  id: string;
  /** Earliest and latest last-heard times of its sensors. */
  from: number;
  to: number;
  /** Longest reporting interval of its sensors, ms. */
  intervalMs: number;
  members: Map<string, SilenceRaise>;
}

export class CommsLossEvents {
  /** Silences not in an event, at most one per sensor, kept while the sensor stays silent. */
  private loose: SilenceRaise[] = [];
  private readonly events: CommsLossEvent[] = [];

  constructor(private readonly o: CommsLossSettings) {}

  /** The event a sensor's silence belongs to, if any. */
  eventOf(sensor: string): string | undefined {
    return this.events.find((e) => e.members.has(sensor))?.id;
  }

  /**
   * A silence just raised. Returns the event it belongs to, with `formed` the earlier silences
   * that form it together with this one (their conditions must now name it too) and its raise, or
   * undefined when it stays a sensor's own alarm.
   */
  note(r: SilenceRaise, stillSilent: (sensor: string) => boolean): { id: string; formed?: SilenceRaise[]; raise?: Condition } | undefined {
    const joined = this.events.find((e) => e.members.has(r.sensor) || this.together(r, e.from, e.to, e.intervalMs));
    if (joined) {
      this.add(joined, r);
      return { id: joined.id };
    }
    this.loose = this.loose.filter((x) => x.sensor !== r.sensor && stillSilent(x.sensor));
    const near = this.loose.filter((x) => this.together(r, x.silentSince, x.silentSince, x.intervalMs));
    if (near.length + 1 < this.o.commsLossMinSensors) {
      this.loose.push(r);
      return undefined;
    }
    const formed = [...near, r];
    const taken = new Set(near);
    this.loose = this.loose.filter((x) => !taken.has(x));
    const e: CommsLossEvent = { id: `comms_loss:${formed[0].sensor}`, from: Infinity, to: -Infinity, intervalMs: 0, members: new Map() };
    for (const x of formed) this.add(e, x);
    this.events.push(e);
    return { id: e.id, formed, raise: this.condition(e, 'raise', r.raisedAt) };
  }

  /** The events' ids and sensors. */
  list(): { id: string; sensors: string[] }[] {
    return this.events.map((e) => ({ id: e.id, sensors: [...e.members.keys()] }));
  }

  /** An event's raise, at `ts` (a restart found it formed while analytics was down). */
  raiseOf(id: string, ts: number): Condition | undefined {
    const e = this.events.find((x) => x.id === id);
    return e && this.condition(e, 'raise', ts);
  }

  /**
   * After a restart, the open alarm `id` of a communications loss of `sensors`: the event the warm-up
   * rebuilt from any of them takes the alarm's id (the rebuild may have named it after another
   * sensor), so its clear closes that alarm; those of them still silent and in no event make one
   * (fewer than the minimum, they are what is left of it). False when none of them is silent now.
   */
  takeUp(id: string, sensors: readonly string[], stillSilent: (sensor: string) => boolean): boolean {
    if (this.events.some((e) => e.id === id)) return true;
    const rebuilt = this.events.find((e) => sensors.some((s) => e.members.has(s)));
    if (rebuilt) {
      rebuilt.id = id;
      return true;
    }
    const left = this.loose.filter((x) => sensors.includes(x.sensor) && stillSilent(x.sensor));
    if (!left.length) return false;
    this.loose = this.loose.filter((x) => !left.includes(x));
    const e: CommsLossEvent = { id, from: Infinity, to: -Infinity, intervalMs: 0, members: new Map() };
    for (const x of left) this.add(e, x);
    this.events.push(e);
    return true;
  }

  /** The events none of whose sensors is silent any more: their clears. */
  clearOver(stillSilent: (sensor: string) => boolean, ts: number): Condition[] {
    const out: Condition[] = [];
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i];
      if ([...e.members.keys()].some(stillSilent)) continue;
      out.push(this.condition(e, 'clear', ts));
      this.events.splice(i, 1);
    }
    return out.reverse();
  }

  /** Went silent together: last heard within the window of [from, to], widened by the longer reporting interval. */
  private together(r: SilenceRaise, from: number, to: number, intervalMs: number): boolean {
    const slack = this.o.commsLossWindowMin * MIN + Math.max(r.intervalMs, intervalMs);
    return r.silentSince >= from - slack && r.silentSince <= to + slack;
  }

  private add(e: CommsLossEvent, r: SilenceRaise): void {
    e.members.set(r.sensor, r);
    e.from = Math.min(e.from, r.silentSince);
    e.to = Math.max(e.to, r.silentSince);
    e.intervalMs = Math.max(e.intervalMs, r.intervalMs);
  }

  private condition(e: CommsLossEvent, state: 'raise' | 'clear', ts: number): Condition {
    const members = [...e.members.values()];
    const distinct = (f: (m: SilenceRaise) => string | undefined) => [...new Set(members.map(f).filter((x): x is string => !!x))].sort();
    const sites = distinct((m) => m.site);
    const dmas = distinct((m) => m.dma);
    // where: the DMAs, and the sites of the sensors outside any DMA (a plant)
    const where = [...dmas, ...distinct((m) => (m.dma ? undefined : m.site))].join(', ');
    return {
      id: e.id, type: 'comms_loss', state, ts, priority: 'medium', site: sites.length === 1 ? sites[0] : undefined,
      dma: dmas.length === 1 && members.every((m) => m.dma) ? dmas[0] : undefined,
      text: state === 'raise' ? alarmText('comms_loss.raise', { sensors: members.length, where }) : alarmText('comms_loss.clear', { sensors: members.length }),
      evidence: { since: e.from, sensors: members.map((m) => m.sensor).sort(), sites, dmas, sources: distinct((m) => m.source) },
    };
  }
}
