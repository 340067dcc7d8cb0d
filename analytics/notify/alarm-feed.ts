/**
 * The notifier on the live platform: it follows the alarm manager's transitions (raise, acknowledge,
 * clear, shelve, suppress), ticks at the notifier's next due time on the wall clock, and turns an
 * acknowledgement link into an acknowledgement in the alarm's history, as the person it was sent to.
 *
 * Notifications are real-world actions, so their clock is the wall clock; an alarm whose raise is
 * older than `maxAlarmAgeMin` (a backfill catching up) is not sent.
 */
import type { NotifyConfig } from '../../core/config/notify.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import type { AlarmTransition } from '../../core/bus/messages/alarm.ts';
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import type { AlarmManager } from '../alarms/manager.ts';
import type { AckClaim } from './ack/ack-links.ts';
import type { DeliveryRecord } from './delivery/delivery-queue.ts';
import { alarmMessageId, type Notifier, type NotifyAlarm } from './notifier.ts';
import type { WorkOrderNotice } from './render.ts';

/** What a person opening an acknowledgement link gets. */
export type LinkAcknowledgement =
  | { ok: true; alarm: AlarmRecord; by: string }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'used' | 'closed' | 'already-acknowledged'; alarm?: AlarmRecord };

export interface AlarmNotificationsOptions {
  notifier: Notifier;
  config: NotifyConfig;
  alarms: AlarmManager;
  /** The alarm as last stored (for a link to an alarm that is closed since). */
  storedAlarm(id: string): AlarmRecord | undefined;
  log?: Logger;
  now?: () => number;
}

const MIN_TICK_GAP_MS = 20;

function routable(alarm: AlarmRecord): NotifyAlarm {
  return { id: alarm.id, type: alarm.type, priority: alarm.priority, area: alarm.dma, message: alarm.message, text: alarm.text, suppressed: !!alarm.suppressed };
}

export class AlarmNotifications {
  private timer?: NodeJS.Timeout;
  private dueAt?: number;
  /** Ticks run one after another: a send in flight is not started twice. */
  private ticking: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly onTransition = (t: AlarmTransition) => this.follow(t);
  private stopped = false;

  constructor(private readonly o: AlarmNotificationsOptions) {
    this.now = o.now ?? Date.now;
    this.log = o.log ?? silentLogger;
  }

  /**
   * Follow the manager from now on. Alarms already open and unacknowledged are routed again (the
   * notifier sends each message once): one routed before a restart from when it was first routed,
   * so its escalations and repeats keep their times (those that fell due while the platform was
   * down go out now, once), whatever its age; one never routed as a new alarm, if not too old.
   */
  start(): void {
    for (const alarm of this.o.alarms.openAlarms()) {
      if (alarm.state !== 'active-unacknowledged' || alarm.shelved || alarm.suppressed || alarm.parentAlarmId) continue;
      const routedAt = this.firstRoutedAt(alarm.id);
      if (routedAt === undefined) this.raise(alarm);
      else this.o.notifier.resume(routable(alarm), routedAt);
    }
    this.o.alarms.on('transition', this.onTransition);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.alarms.off('transition', this.onTransition);
    clearTimeout(this.timer);
    await this.ticking;
    await this.o.notifier.close();
  }

  /** Resolves when the send in flight (if any) is done. */
  settled(): Promise<void> {
    return this.ticking;
  }

  history(alarmId: string): DeliveryRecord[] {
    return this.o.notifier.history(alarmId);
  }

  /** Channels counted as down now (metrics). */
  downChannels(): string[] {
    return this.o.notifier.downChannels();
  }

  /** The alarm and recipient a link names, without using it (the page shows the alarm first). */
  inspectLink(token: string): { ok: true; claim: AckClaim; alarm?: AlarmRecord; by: string; language: 'zh-CN' | 'en' } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'used' } {
    const check = this.o.notifier.verifyLink(token, this.now());
    if (!check.ok) return check;
    const person = this.o.config.people[check.claim.recipientId];
    return { ok: true, claim: check.claim, alarm: this.alarm(check.claim.alarmId), by: person?.name ?? check.claim.recipientId, language: person?.language ?? 'zh-CN' };
  }

  /** Use a link: the alarm is acknowledged in its history by the person the link was sent to. */
  acknowledgeByLink(token: string): LinkAcknowledgement {
    const seen = this.inspectLink(token);
    if (!seen.ok) return seen;
    const alarm = seen.alarm;
    if (!alarm || alarm.state === 'cleared') return { ok: false, reason: 'closed', alarm };
    if (alarm.state === 'active-acknowledged') return { ok: false, reason: 'already-acknowledged', alarm };
    const used = this.o.notifier.acknowledgeByLink(token, this.now());
    if (!used.ok) return used;
    const acked = this.o.alarms.acknowledge(alarm.id, seen.by, `acknowledged from the notification link sent to ${used.claim.recipientId}`);
    this.schedule();
    return { ok: true, alarm: acked, by: seen.by };
  }

  /** A work order assigned to a crew: to the crew's phones if `notify.crews` has it. Returns how many members it goes to. */
  dispatchWorkOrder(workOrder: WorkOrderNotice): number {
    const n = this.o.notifier.sendWorkOrder(workOrder, this.now());
    if (n) this.schedule();
    return n;
  }

  /** The work order and crew member a work-order link names (its phone page), with the member's name and language. */
  inspectWorkOrderLink(token: string): { ok: true; workOrderId: string; by: string; language: 'zh-CN' | 'en' } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' } {
    const check = this.o.notifier.verifyWorkOrderLink(token, this.now());
    if (!check.ok) return check;
    const person = this.o.config.people[check.claim.recipientId];
    return { ok: true, workOrderId: check.claim.workOrderId, by: person?.name ?? check.claim.recipientId, language: person?.language ?? 'zh-CN' };
  }

  private alarm(id: string): AlarmRecord | undefined {
    return this.o.alarms.openAlarms().find((a) => a.id === id) ?? this.o.storedAlarm(id);
  }

  private follow(t: AlarmTransition): void {
    const n = this.o.notifier;
    switch (t.kind) {
      case 'raise': case 'unshelve': case 'unsuppress':
        if (t.annunciate && t.alarm.state === 'active-unacknowledged') this.raise(t.alarm);
        break;
      case 'acknowledge': n.acknowledge(t.alarmId); break;
      case 'clear': case 'close': case 'shelve': case 'suppress': case 'link': n.clear(t.alarmId); break;
      default: return;
    }
    this.schedule();
  }

  private raise(alarm: AlarmRecord): void {
    const now = this.now();
    if (now - alarm.raisedAt > this.o.config.maxAlarmAgeMin * 60_000) return;
    this.o.notifier.raise(routable(alarm), now);
  }

  /** When the alarm's first message (to the first person on call) was queued, if it was: its routing began then. */
  private firstRoutedAt(alarmId: string): number | undefined {
    let first: number | undefined;
    for (const d of this.o.notifier.history(alarmId)) {
      if (d.messageId !== alarmMessageId(alarmId, d.recipientId, 'alarm', 0)) continue;
      if (first === undefined || d.queuedAt < first) first = d.queuedAt;
    }
    return first;
  }

  /** A timer at the notifier's next due time (now, when something was just queued). */
  private schedule(): void {
    if (this.stopped) return;
    const due = this.o.notifier.nextDueAt();
    if (due === undefined || (this.timer && this.dueAt !== undefined && this.dueAt <= due)) return;
    clearTimeout(this.timer);
    this.dueAt = due;
    // at least a few ms: a due time that a tick cannot move (a channel answering instantly with an error) does not spin
    this.timer = setTimeout(() => this.tick(), Math.max(MIN_TICK_GAP_MS, due - this.now()));
  }

  private tick(): void {
    this.timer = undefined;
    this.dueAt = undefined;
    this.ticking = this.ticking
      .then(() => this.o.notifier.tick(this.now()))
      .catch((e: unknown) => this.log.error({ err: String(e) }, 'notify: tick failed'))
      .then(() => this.schedule());
  }
}
