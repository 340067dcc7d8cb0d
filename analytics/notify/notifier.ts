/**
 * The notification engine put together from its config section (`notify:`): channels, routing,
 * the delivery queue and acknowledgement links. Event-time driven like its parts: the caller
 * reports alarms (`raise`, `clear`), acknowledgements, and calls `tick(now)` at `nextDueAt()`.
 * When a channel keeps failing, `notify.channel_down` goes to the duty managers on the other channels.
 * Work orders assigned to a configured crew go to its members' phones (`sendWorkOrder`).
 */
import type { Database } from 'better-sqlite3';
import type { z } from 'zod';
import { notifyConfigSchema } from '../../core/config/notify.ts';
import type { AlarmText } from '../../core/messages/alarm-texts.ts';
import { AckLinks, type AckCheck } from './ack/ack-links.ts';
import { WorkOrderLinks, type WorkOrderCheck } from './ack/work-order-links.ts';
import { resolveSecret, type Channel, type NotifyMessage, type Recipient } from './channels/channel.ts';
import { CHANNEL_ADDRESS, createChannel } from './channels/index.ts';
import { DeliveryQueue, type ChannelHealthEvent, type DeliveryRecord } from './delivery/delivery-queue.ts';
import { renderMessage, renderWorkOrderMessage, type RenderInput, type WorkOrderNotice } from './render.ts';
import { Router, type Outgoing, type OutgoingKind, type RoutableAlarm } from './routing/router.ts';


export interface NotifierDeps {
  /** The state database (better-sqlite3); the notifier adds its tables, it opens no file. */
  db: Database;
  /** Where `${ENV}` secrets are resolved. Default process.env. */
  env?: Record<string, string | undefined>;
}

/** An alarm as the notifier needs it: routing fields plus the detector's text (a code, rendered per recipient) or message. */
export interface NotifyAlarm extends RoutableAlarm { message?: string; text?: AlarmText }

export interface Notifier {
  raise(alarm: NotifyAlarm, now: number): void;
  /** An alarm whose first message went out at `routedAt`, before a restart: its escalations and repeats go on from then (Router.resume). */
  resume(alarm: NotifyAlarm, routedAt: number): void;
  /** Acknowledged in the dashboard or by link: no escalation or repeat after this. */
  acknowledge(alarmId: string): void;
  /** Cleared, closed, shelved or suppressed since: stop notifying about it. */
  clear(alarmId: string): void;
  /** Use an acknowledgement link's token; on success the alarm stops escalating. The caller records who and when in the alarm's history. */
  acknowledgeByLink(token: string, now: number): AckCheck;
  /** Verify a link's token without using it (the page shows the alarm first). */
  verifyLink(token: string, now: number): AckCheck;
  /** Route what is due and send what is queued and due. */
  tick(now: number): Promise<void>;
  nextDueAt(): number | undefined;
  history(alarmId: string): DeliveryRecord[];
  /** Channels counted as down now (their deliveries keep failing; notify.channel_down went out). */
  downChannels(): string[];
  /**
   * A work order assigned to a crew of `crews`: its message, with a link to its phone page, to
   * every member on the crew's channels (once per work order, crew and member). Returns how many
   * members it went to (0 for a crew not in the config). Sent at the next `tick`.
   */
  sendWorkOrder(workOrder: WorkOrderNotice, now: number): number;
  /** Check a work-order link's token (a crew member's phone page). */
  verifyWorkOrderLink(token: string, now: number): WorkOrderCheck;
  close(): Promise<void>;
}

/**
 * The id of one message about one alarm to one person (the delivery queue takes an id once, so a
 * message routed again after a restart is not sent twice). The alarm's first message is
 * (`alarm`, 0) to the first person on call.
 */
export function alarmMessageId(alarmId: string, person: string, kind: OutgoingKind, n: number): string {
  return `${alarmId}/${person}/${kind}/${n}`;
}

export function createNotifier(input: z.input<typeof notifyConfigSchema>, deps: NotifierDeps): Notifier {
  const config = notifyConfigSchema.parse(input);
  const env = deps.env ?? process.env;
  const channels = new Map<string, Channel>(config.channels.map((c) => [c.name, createChannel(c, env)]));
  const router = new Router(config.routing);
  const links = new AckLinks(deps.db, resolveSecret(config.ackSecret, env), config.ackLinkTtlMin * 60_000);
  const tz = config.routing.timeZone;
  const pendingDown: ChannelHealthEvent[] = [];
  const queue = new DeliveryQueue(deps.db, { channels, retry: config.delivery, channelDownAfter: config.delivery.channelDownAfter, onChannelDown: (e) => pendingDown.push(e) });
  const alarms = new Map<string, NotifyAlarm>();
  const workOrderLinks = new WorkOrderLinks(resolveSecret(config.ackSecret, env), config.ackLinkTtlMin * 60_000);
  const baseUrl = config.publicUrl.replace(/\/$/, '');

  function recipient(personId: string): Recipient {
    const p = config.people[personId];
    return { id: personId, name: p.name, phone: p.phone, email: p.email, language: p.language };
  }

  /** Queue a message to a person on each channel that can reach them. */
  function deliver(personId: string, channelNames: string[], render: Omit<RenderInput, 'language' | 'timeZone'>, now: number): void {
    const to = recipient(personId);
    enqueueReachable(renderMessage({ ...render, language: to.language, timeZone: tz }), to, channelNames, now);
  }

  function enqueueReachable(message: NotifyMessage, to: Recipient, channelNames: string[], now: number): void {
    for (const name of channelNames) {
      const config_ = config.channels.find((c) => c.name === name)!;
      const needs = CHANNEL_ADDRESS[config_.type];
      if (needs && !to[needs]) continue;
      queue.enqueue(message, to, name, now);
    }
  }

  function send(list: Outgoing[], now: number): void {
    for (const o of list) {
      const alarm = alarms.get(o.alarm.id) ?? o.alarm;
      const single = o.kind !== 'summary';
      const ackUrl = single ? `${baseUrl}/ack/${links.create(alarm.id, o.person, now)}` : undefined;
      const id = single ? alarmMessageId(alarm.id, o.person, o.kind, o.n) : `summary/${o.person}/${o.dueAt}`;
      deliver(o.person, o.channels, { id, kind: o.kind, at: single ? now : o.dueAt, alarm, count: o.alarmIds.length, ackUrl }, now);
    }
  }

  /** A channel went down: every duty manager hears it on every other channel. */
  function announceDown(e: ChannelHealthEvent): void {
    const others = config.channels.map((c) => c.name).filter((n) => n !== e.channel);
    for (const person of router.dutyManagers()) {
      deliver(person, others, { id: `notify.channel_down/${e.channel}/${e.at}/${person}`, kind: 'channel_down', at: e.at, channel: e.channel, detail: e.lastAnswer }, e.at);
    }
  }

  const notifier: Notifier = {
    raise(alarm: NotifyAlarm, now: number) {
      alarms.set(alarm.id, alarm);
      send(router.raise(alarm, now), now);
    },
    resume(alarm: NotifyAlarm, routedAt: number) {
      alarms.set(alarm.id, alarm);
      router.resume(alarm, routedAt);
    },
    acknowledge(alarmId: string) { router.acknowledge(alarmId); },
    clear(alarmId: string) { router.close(alarmId); },
    acknowledgeByLink(token: string, now: number) {
      const check = links.consume(token, now);
      if (check.ok) router.acknowledge(check.claim.alarmId);
      return check;
    },
    verifyLink: (token: string, now: number) => links.verify(token, now),
    async tick(now: number) {
      send(router.tick(now), now);
      await queue.runDue(now);
      // A channel reported down during this run: its notice goes out on the other channels now.
      while (pendingDown.length) {
        announceDown(pendingDown.shift()!);
        await queue.runDue(now);
      }
    },
    nextDueAt() {
      const times = [router.nextDueAt(), queue.nextDueAt()].filter((t): t is number => t !== undefined);
      return times.length ? Math.min(...times) : undefined;
    },
    history: (alarmId: string) => queue.history(alarmId),
    downChannels: () => queue.downChannels(),
    sendWorkOrder(workOrder: WorkOrderNotice, now: number) {
      const crew = config.crews[workOrder.crew];
      if (!crew) return 0;
      for (const member of crew.members) {
        const to = recipient(member);
        const link = `${baseUrl}/wo/${workOrderLinks.create(workOrder.id, member, now)}`;
        const message = renderWorkOrderMessage({ id: `work_order/${workOrder.id}/${workOrder.crew}/${member}`, workOrder, language: to.language, link });
        enqueueReachable(message, to, crew.channels, now);
      }
      return crew.members.length;
    },
    verifyWorkOrderLink: (token: string, now: number) => workOrderLinks.verify(token, now),
    async close() { for (const c of channels.values()) await c.close?.(); },
  };
  return notifier;
}
