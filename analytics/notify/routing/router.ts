/**
 * Who gets what, and when: pure and event-time driven (every call takes `now`; `nextDueAt()` says
 * when to call `tick` next), so it is tested without sleeping and replays the same way.
 *
 * - The first rule matching the alarm's type, priority and area names a rota and channels.
 * - The first person on call is notified; while nobody acknowledges, every `escalateAfterMin` the
 *   next person on call is added, then the duty manager. `repeatEveryMin` repeats to those notified
 *   (repeats that fell due together, when routing resumes after a restart, go out once).
 * - An alarm suppressed by a planned outage gets no message; an alarm is routed once (dedupe per
 *   alarm and recipient: escalation never notifies the same person twice).
 * - Quiet hours hold low-priority messages until they end (sent then if the alarm is still open).
 * - Flood control: past `maxAlarms` alarm messages to one person within `windowMin`, further ones
 *   are held and sent as one summary when the window ends.
 */
import type { RoutingConfig, Rule } from '../../../core/config/notify.ts';
import { ALARM_PRIORITIES, type AlarmPriority } from '../../../core/state/alarm-store.ts';
import { inDailyWindow, localTime } from './local-time.ts';
import { onCallAt } from './rota.ts';

const MIN = 60_000;

export interface RoutableAlarm {
  id: string;
  type: string;
  priority: AlarmPriority;
  area?: string;
  /** Suppressed by a planned outage (or shelved): shown, never notified. */
  suppressed?: boolean;
}

export type OutgoingKind = 'alarm' | 'escalation' | 'repeat' | 'summary';
export interface Outgoing {
  kind: OutgoingKind;
  person: string;
  channels: string[];
  /** The alarm (for a summary, the first of `alarmIds`). */
  alarm: RoutableAlarm;
  alarmIds: string[];
  /** When it was due (its lateness is now − dueAt). */
  dueAt: number;
  /** Repeat number, escalation step. */
  n: number;
}

interface Tracked {
  alarm: RoutableAlarm;
  rule: Rule;
  chain: string[];
  /** Index in chain of the last person added. */
  step: number;
  nextEscalationAt?: number;
  nextRepeatAt?: number;
  repeats: number;
}

interface Held { out: Outgoing; releaseAt: number }

export class Router {
  private readonly open = new Map<string, Tracked>();
  private readonly routed = new Set<string>();
  private readonly held: Held[] = [];
  /** Per person: times of alarm messages sent, and the open flood window's end. */
  private readonly recent = new Map<string, number[]>();
  private readonly floodUntil = new Map<string, number>();

  constructor(private readonly config: RoutingConfig) {
    for (const rule of config.rules) if (!config.rotas[rule.rota]) throw new Error(`rule ${rule.name}: no rota named ${rule.rota}`);
  }

  /** Duty managers of every rota (who hears about a channel going down). */
  dutyManagers(): string[] {
    return [...new Set(Object.values(this.config.rotas).map((r) => r.dutyManager))];
  }

  /** A new alarm. Returns the messages to send now. */
  raise(alarm: RoutableAlarm, now: number): Outgoing[] {
    const t = this.track(alarm, now);
    return t ? this.gate([this.out('alarm', t, t.chain[0], now, 0)], now) : [];
  }

  /**
   * An alarm whose first message went out at `routedAt`, before a restart: tracked as from then (the
   * people on call then, its escalations and repeats due from then, at the next `tick`); its first
   * message is not sent again, nor counted against flood control.
   */
  resume(alarm: RoutableAlarm, routedAt: number): void {
    this.track(alarm, routedAt);
  }

  private track(alarm: RoutableAlarm, now: number): Tracked | undefined {
    if (alarm.suppressed || this.routed.has(alarm.id)) return undefined;
    const rule = this.config.rules.find((r) => matches(r, alarm));
    if (!rule) return undefined;
    this.routed.add(alarm.id);
    const rota = this.config.rotas[rule.rota];
    const chain = [...new Set([...onCallAt(rota, now, this.config.timeZone), rota.dutyManager])];
    const t: Tracked = { alarm, rule, chain, step: 0, repeats: 0 };
    this.open.set(alarm.id, t);
    if (chain.length > 1) t.nextEscalationAt = now + rule.escalateAfterMin * MIN;
    if (rule.repeatEveryMin) t.nextRepeatAt = now + rule.repeatEveryMin * MIN;
    return t;
  }

  /** Someone acknowledged: no escalation or repeat after this. */
  acknowledge(alarmId: string): void {
    this.open.delete(alarmId);
  }

  /** The alarm cleared or was suppressed/shelved since: stop as for an acknowledgement. */
  close(alarmId: string): void {
    this.open.delete(alarmId);
  }

  /** Everything due by `now`: escalations, repeats, held messages released, flood summaries. */
  tick(now: number): Outgoing[] {
    const due: Outgoing[] = [];
    for (const t of this.open.values()) {
      while (t.nextEscalationAt !== undefined && t.nextEscalationAt <= now) {
        t.step++;
        due.push(this.out('escalation', t, t.chain[t.step], t.nextEscalationAt, t.step));
        t.nextEscalationAt = t.step < t.chain.length - 1 ? t.nextEscalationAt + t.rule.escalateAfterMin * MIN : undefined;
      }
      if (t.nextRepeatAt !== undefined && t.nextRepeatAt <= now) {
        // repeats that fell due together (routing resumed after a restart) go out once, as the latest
        const every = t.rule.repeatEveryMin! * MIN;
        const missed = Math.floor((now - t.nextRepeatAt) / every);
        const dueAt = t.nextRepeatAt + missed * every;
        t.repeats += missed + 1;
        for (const person of t.chain.slice(0, t.step + 1)) due.push(this.out('repeat', t, person, dueAt, t.repeats));
        t.nextRepeatAt = dueAt + every;
      }
    }
    const released = this.release(now);
    return [...released, ...this.gate(due, now)];
  }

  /** When `tick` next has something to do, or undefined. */
  nextDueAt(): number | undefined {
    const times = [...this.open.values()].flatMap((t) => [t.nextEscalationAt, t.nextRepeatAt]);
    times.push(...this.held.map((h) => h.releaseAt), ...this.floodUntil.values());
    const defined = times.filter((x): x is number => x !== undefined);
    return defined.length ? Math.min(...defined) : undefined;
  }

  private out(kind: OutgoingKind, t: Tracked, person: string, dueAt: number, n: number): Outgoing {
    return { kind, person, channels: t.rule.channels, alarm: t.alarm, alarmIds: [t.alarm.id], dueAt, n };
  }

  /** Quiet hours, then flood control, on messages about to go out. */
  private gate(list: Outgoing[], now: number): Outgoing[] {
    const send: Outgoing[] = [];
    for (const o of list) {
      const quietEnd = this.quietUntil(o, now);
      if (quietEnd !== undefined) { this.held.push({ out: o, releaseAt: quietEnd }); continue; }
      if (o.kind === 'summary' || !this.flooding(o.person, now)) send.push(o);
      else this.held.push({ out: o, releaseAt: this.floodUntil.get(o.person)! });
    }
    return send;
  }

  /** End of the quiet hours holding this message, or undefined to send it now. */
  private quietUntil(o: Outgoing, now: number): number | undefined {
    const q = this.config.quietHours;
    if (!q || ALARM_PRIORITIES.indexOf(o.alarm.priority) > ALARM_PRIORITIES.indexOf(q.maxPriority)) return undefined;
    if (!inDailyWindow(localTime(now, this.config.timeZone).time, q.from, q.to)) return undefined;
    let t = Math.ceil(now / MIN) * MIN; // minute by minute to the end: robust across DST without a tz library
    while (inDailyWindow(localTime(t, this.config.timeZone).time, q.from, q.to)) t += MIN;
    return t;
  }

  /** Counts this message against the person's window; true when it must be held for the summary. */
  private flooding(person: string, now: number): boolean {
    const f = this.config.flood;
    if (!f) return false;
    if ((this.floodUntil.get(person) ?? -Infinity) > now) return true;
    const windowMs = f.windowMin * MIN;
    const times = (this.recent.get(person) ?? []).filter((x) => x > now - windowMs);
    times.push(now);
    this.recent.set(person, times);
    if (times.length <= f.maxAlarms) return false;
    this.floodUntil.set(person, now + windowMs);
    return true;
  }

  /** Held messages whose time came: quiet-hour ones if their alarm is still open; flood ones as one summary per person. */
  private release(now: number): Outgoing[] {
    const out: Outgoing[] = [];
    const ready = this.held.filter((h) => h.releaseAt <= now);
    this.held.splice(0, this.held.length, ...this.held.filter((h) => h.releaseAt > now));
    const floods = new Map<string, Held[]>();
    for (const h of ready) {
      if (!this.open.has(h.out.alarm.id) && h.out.kind !== 'summary') continue; // acknowledged or cleared meanwhile
      const until = this.floodUntil.get(h.out.person);
      if (until !== undefined && until === h.releaseAt) floods.set(h.out.person, [...(floods.get(h.out.person) ?? []), h]);
      else out.push(...this.gate([{ ...h.out, dueAt: h.releaseAt }], now));
    }
    for (const [person, until] of this.floodUntil) {
      if (until > now) continue;
      this.floodUntil.delete(person);
      this.recent.delete(person);
      const list = floods.get(person) ?? [];
      if (!list.length) continue;
      const first = list[0].out;
      out.push({ kind: 'summary', person, channels: [...new Set(list.flatMap((h) => h.out.channels))], alarm: first.alarm,
        alarmIds: [...new Set(list.map((h) => h.out.alarm.id))], dueAt: until, n: list.length });
    }
    return out;
  }
}

function matches(rule: Rule, a: RoutableAlarm): boolean {
  if (rule.match.types && !rule.match.types.includes(a.type)) return false;
  if (ALARM_PRIORITIES.indexOf(a.priority) < ALARM_PRIORITIES.indexOf(rule.match.minPriority)) return false;
  if (rule.match.areas && !rule.match.areas.includes(a.area ?? '')) return false;
  return true;
}
