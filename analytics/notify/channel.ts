/**
 * Notification channels: what alarm transitions reach people through (a webhook first; SMS and
 * e-mail gateways implement the same interface). See README.md in this folder.
 *
 * The Notifier listens to the alarm manager and hands each transition that should be announced to
 * every channel whose filter takes it. Each channel has its own queue, sent in order one at a time,
 * so a slow or failing gateway delays only itself and never the alarm manager.
 */
import type { AlarmManager, AlarmTransition } from '../alarms/manager.ts';
import type { AlarmEventKind, AlarmPriority, AlarmStore } from '../../core/state/alarm-store.ts';
import { ALARM_PRIORITIES } from '../../core/state/alarm-store.ts';
import type { Logger } from '../../core/log.ts';

export interface NotificationChannel {
  /** Unique name, recorded with each delivery attempt (e.g. `webhook:ops`). */
  readonly name: string;
  /**
   * Deliver one transition. Resolves when delivered; rejects when the channel gave up (after its
   * own retries). A channel records its attempts where it can (WebhookChannel: in the state store).
   */
  send(transition: AlarmTransition): Promise<void>;
  /** Stop retrying and release resources. */
  close?(): Promise<void>;
}

export interface ChannelRoute {
  channel: NotificationChannel;
  /** Lowest priority sent. Default `low` (all). */
  minPriority?: AlarmPriority;
  /** Transition kinds sent. Default: raise, clear, update (priority or message changed), unshelve, unsuppress. */
  kinds?: AlarmEventKind[];
  /** Only these DMAs; default all. */
  dmas?: string[];
  /** Send transitions of shelved, suppressed or linked alarms too (default false). */
  includeSilenced?: boolean;
}

export const DEFAULT_NOTIFY_KINDS: readonly AlarmEventKind[] = ['raise', 'clear', 'update', 'unshelve', 'unsuppress'];

/** Does this route take this transition? */
export function routeAccepts(route: ChannelRoute, t: AlarmTransition): boolean {
  if (!t.annunciate && !route.includeSilenced) return false;
  if (!(route.kinds ?? DEFAULT_NOTIFY_KINDS).includes(t.kind)) return false;
  if (ALARM_PRIORITIES.indexOf(t.alarm.priority) < ALARM_PRIORITIES.indexOf(route.minPriority ?? 'low')) return false;
  if (route.dmas && !route.dmas.includes(t.alarm.dma ?? '')) return false;
  // An unshelve/unsuppress only matters while the alarm is still active: that is when it reappears.
  if ((t.kind === 'unshelve' || t.kind === 'unsuppress') && !t.toState.startsWith('active')) return false;
  return true;
}

export interface NotifierOptions {
  routes: ChannelRoute[];
  /** Where `dropped` outcomes are recorded when a channel's queue overflows. */
  store?: AlarmStore;
  /** Transitions waiting per channel; past it the oldest is dropped (and recorded). Default 10,000. */
  maxQueue?: number;
  log?: Logger;
  now?: () => number;
}

interface Queue { route: ChannelRoute; waiting: AlarmTransition[]; running?: Promise<void> }

export class Notifier {
  private readonly queues: Queue[];
  private readonly maxQueue: number;
  private detachFn?: () => void;
  /** Counts for /metrics. */
  readonly counts = { sent: 0, failed: 0, dropped: 0 };

  constructor(private readonly opts: NotifierOptions) {
    const names = new Set<string>();
    opts.routes.forEach((r, i) => {
      if (names.has(r.channel.name)) throw new Error(`routes[${i}].channel.name: ${r.channel.name} is used twice`);
      names.add(r.channel.name);
      if (r.minPriority && !ALARM_PRIORITIES.includes(r.minPriority)) throw new Error(`routes[${i}].minPriority: must be one of ${ALARM_PRIORITIES.join(', ')}`);
    });
    this.queues = opts.routes.map((route) => ({ route, waiting: [] }));
    this.maxQueue = opts.maxQueue ?? 10_000;
  }

  /** Listen to a manager's transitions. */
  attach(manager: AlarmManager): this {
    const listener = (t: AlarmTransition) => this.offer(t);
    manager.on('transition', listener);
    this.detachFn = () => manager.off('transition', listener);
    return this;
  }

  /** Queue a transition on every channel that takes it. Never throws, never waits. */
  offer(t: AlarmTransition): void {
    for (const q of this.queues) {
      if (!routeAccepts(q.route, t)) continue;
      q.waiting.push(t);
      if (q.waiting.length > this.maxQueue) {
        const lost = q.waiting.shift()!;
        this.counts.dropped++;
        this.opts.store?.recordDelivery({ channel: q.route.channel.name, alarmId: lost.alarmId, eventSeq: lost.seq, attempt: 0,
          wallTs: (this.opts.now ?? Date.now)(), outcome: 'dropped', error: `queue over ${this.maxQueue}` });
      }
      if (!q.running) q.running = this.drain(q);
    }
  }

  private async drain(q: Queue): Promise<void> {
    try {
      for (let t = q.waiting.shift(); t; t = q.waiting.shift()) {
        try {
          await q.route.channel.send(t);
          this.counts.sent++;
        } catch (e) {
          this.counts.failed++;
          this.opts.log?.warn({ channel: q.route.channel.name, alarm: t.alarmId, err: (e as Error).message }, 'notification not delivered');
        }
      }
    } finally {
      q.running = undefined;
    }
  }

  /** Resolves when every queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.queues.some((q) => q.running)) await Promise.all(this.queues.map((q) => q.running));
  }

  async close(): Promise<void> {
    this.detachFn?.();
    for (const q of this.queues) await q.route.channel.close?.();
    await this.idle();
  }
}

/** A one-line English summary of a transition, for channels that carry text (SMS, chat). */
export function transitionText(t: AlarmTransition): string {
  const a = t.alarm;
  const where = [a.dma && `DMA ${a.dma}`, a.sensor && `sensor ${a.sensor}`].filter(Boolean).join(', ');
  const verb: Record<AlarmEventKind, string> = {
    raise: 'ALARM', update: 'UPDATE', acknowledge: 'ACK', clear: 'CLEARED', close: 'CLOSED', shelve: 'SHELVED',
    unshelve: 'UNSHELVED', suppress: 'SUPPRESSED', unsuppress: 'UNSUPPRESSED', link: 'LINKED', secondary: 'SECONDARY',
  };
  return `[${verb[t.kind]}] ${a.priority} ${a.type}${where ? ` (${where})` : ''}: ${a.message} @ ${new Date(t.eventTs).toISOString()}`;
}
