/**
 * The sensors each source holds offline now (Sparkplug death, OPC UA session lost), as ingest has
 * heard it: the retained list it keeps on the bus per source (core/bus/topics.ts
 * `offlineSensorsTopic`), so that the analytics, away while a node died or came back, catches up.
 * Bounded by the topology: a source reports only sensors it maps.
 */
import { OFFLINE_SENSORS_LISTED, type OfflineSensors } from '../core/bus/messages/status.ts';

export class OfflineSensorsBySource {
  /** Per source: sensor → when it went offline (the earliest report while it stays offline). */
  private readonly bySource = new Map<string, Map<string, number>>();

  /** A source's status message: offline sensors are added (keeping when they first went), online ones removed. */
  record(source: string, sensors: readonly string[], status: 'online' | 'offline', ts: number): void {
    let offline = this.bySource.get(source);
    if (!offline) this.bySource.set(source, offline = new Map());
    for (const id of sensors) {
      if (status === 'online') offline.delete(id);
      else if (!offline.has(id)) offline.set(id, ts);
    }
  }

  /** The sources heard from. */
  sources(): string[] {
    return [...this.bySource.keys()];
  }

  /**
   * The list the bus keeps for `source`, grouped by the time the sensors went offline, at most
   * OFFLINE_SENSORS_LISTED sensors (the longest offline first); not complete beyond that. A source
   * ingest has heard nothing from since it started has an empty, complete list: what it believes.
   */
  message(source: string, ts: number): OfflineSensors {
    const offline = [...(this.bySource.get(source) ?? new Map<string, number>())].sort((a, b) => a[1] - b[1]);
    const groups = new Map<number, string[]>();
    for (const [id, since] of offline.slice(0, OFFLINE_SENSORS_LISTED)) {
      const g = groups.get(since);
      if (g) g.push(id);
      else groups.set(since, [id]);
    }
    return {
      source, ts, complete: offline.length <= OFFLINE_SENSORS_LISTED,
      offline: [...groups].map(([since, sensors]) => ({ since, sensors })),
    };
  }
}
