/**
 * The seeds' notice rule (昆明 item 14), read from the planned-outage register:
 * `planned_outage_short_notice:<id>` while a planned outage that customers were told of less than
 * 24 h (`minNoticeMs`) ahead is still to come or under way; it clears when the outage is over, gets
 * enough notice, or is withdrawn. The outage detector runs it on its clock (once a minute of event time).
 */
import type { Condition } from '../../core/bus/messages/condition.ts';
import type { PlannedOutage, PlannedOutageLookup } from './types.ts';
import { alarmText } from '../../core/messages/alarm-texts.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export class ShortNoticeRule {
  private readonly active = new Map<string, PlannedOutage>();
  private lastPoll = -Infinity;

  constructor(private readonly register: PlannedOutageLookup, private readonly minNoticeMs: number) {}

  /** At event time `t`: raises and clears through `emit`, at most once a minute. */
  poll(t: number, emit: (c: Condition) => void): void {
    if (t - this.lastPoll < MIN) return;
    this.lastPoll = t;
    for (const po of this.register.listPlanned(t, Infinity)) {
      if (po.notifiedAt > t || this.active.has(po.id)) continue;
      if (!this.register.isShortNotice(po, this.minNoticeMs)) continue;
      this.active.set(po.id, po);
      emit({
        id: `planned_outage_short_notice:${po.id}`, type: 'planned_outage_short_notice', state: 'raise', ts: t, priority: 'medium', dma: po.dmas[0],
        text: alarmText('planned_outage_short_notice.raise', { outage: po.id, hours: round((po.start - po.notifiedAt) / HOUR, 1) }),
        evidence: { plannedOutageId: po.id, dmas: po.dmas, start: po.start, end: po.end, notifiedAt: po.notifiedAt, noticeH: round((po.start - po.notifiedAt) / HOUR, 2), requiredH: this.minNoticeMs / HOUR, cause: po.cause },
      });
    }
    for (const [id, po] of this.active) {
      const now = this.register.listPlanned(po.start, po.start + 1).find((x) => x.id === id);
      if (now && t < now.end && this.register.isShortNotice(now, this.minNoticeMs)) continue;
      this.active.delete(id);
      emit({
        id: `planned_outage_short_notice:${id}`, type: 'planned_outage_short_notice', state: 'clear', ts: t, priority: 'medium', dma: po.dmas[0],
        text: alarmText(now ? (t >= now.end ? 'planned_outage_short_notice.over' : 'planned_outage_short_notice.enough_notice') : 'planned_outage_short_notice.withdrawn', { outage: id }), evidence: { plannedOutageId: id },
      });
    }
  }
}
