/** Routing with an explicit clock: rota in the site's time zone, escalation, repeats, quiet hours, flood control, suppression, dedupe. */
import { describe, expect, it } from 'vitest';
import { onCallAt } from './rota.ts';
import { routingSchema, type Rota, type RoutingConfig } from '../../../core/config/notify.ts';
import { Router, type Outgoing, type RoutableAlarm } from './router.ts';

const MIN = 60_000;
const TZ = 'Asia/Shanghai';
/** Site time (UTC+8) → ms. 2026-12-03 is a Thursday. */
const at = (local: string) => Date.parse(`${local}:00+08:00`);

const rota: Rota = {
  weekly: [
    { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00', people: ['wang', 'li'] },
    { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '18:00', to: '08:00', people: ['zhao'] },
    { days: ['sat', 'sun'], from: '08:00', to: '18:00', people: ['sun'] },
  ],
  overrides: [
    { from: '2026-12-07T08:00', to: '2026-12-07T18:00', people: ['li', 'wang'], reason: 'swap: Li takes first call' },
    { from: '2027-01-01T00:00', to: '2027-01-02T00:00', people: ['chen'], reason: 'New Year holiday' },
  ],
  dutyManager: 'boss',
};

function config(extra: Partial<RoutingConfig> = {}): RoutingConfig {
  return routingSchema.parse({
    timeZone: TZ,
    rotas: { maintenance: rota },
    rules: [
      { name: 'bursts', match: { types: ['burst'], minPriority: 'medium' }, rota: 'maintenance', channels: ['wecom', 'sms'], escalateAfterMin: 15 },
      { name: 'everything else', rota: 'maintenance', channels: ['wecom'], escalateAfterMin: 30 },
    ],
    ...extra,
  });
}
const burst = (id: string, extra: Partial<RoutableAlarm> = {}): RoutableAlarm => ({ id, type: 'burst', priority: 'high', area: 'dma-3', ...extra });
const brief = (list: Outgoing[]) => list.map((o) => `${o.kind}:${o.person}:${o.alarmIds.join('+')}`);

describe('onCallAt', () => {
  it('follows the weekly schedule in the site time zone, overnight shifts, and overrides', () => {
    expect(onCallAt(rota, at('2026-12-03T10:00'), TZ)).toEqual(['wang', 'li']);
    expect(onCallAt(rota, at('2026-12-03T23:00'), TZ)).toEqual(['zhao']);
    expect(onCallAt(rota, at('2026-12-04T03:00'), TZ)).toEqual(['zhao']); // Thursday's night shift, after midnight
    expect(onCallAt(rota, at('2026-12-05T09:00'), TZ)).toEqual(['sun']);
    expect(onCallAt(rota, at('2026-12-07T09:00'), TZ)).toEqual(['li', 'wang']);
    expect(onCallAt(rota, at('2027-01-01T10:00'), TZ)).toEqual(['chen']);
    // 02:00 UTC is 10:00 in Shanghai: the zone, not the server's clock, decides.
    expect(onCallAt(rota, Date.parse('2026-12-03T02:00:00Z'), TZ)).toEqual(['wang', 'li']);
  });
});

describe('Router', () => {
  it('notifies the first on call, escalates to the next, then to the duty manager, each after N minutes', () => {
    const r = new Router(config());
    const t0 = at('2026-12-03T10:00');
    expect(brief(r.raise(burst('b1'), t0))).toEqual(['alarm:wang:b1']);
    expect(r.raise(burst('b1'), t0 + MIN)).toEqual([]); // routed once
    expect(r.nextDueAt()).toBe(t0 + 15 * MIN);
    expect(r.tick(t0 + 15 * MIN - 1)).toEqual([]);
    const first = r.tick(t0 + 15 * MIN);
    expect(brief(first)).toEqual(['escalation:li:b1']);
    expect(first[0]).toMatchObject({ dueAt: t0 + 15 * MIN, channels: ['wecom', 'sms'], n: 1 });
    // A late tick still gives every due step, each with its own due time.
    const late = r.tick(t0 + 31 * MIN);
    expect(brief(late)).toEqual(['escalation:boss:b1']);
    expect(late[0].dueAt).toBe(t0 + 30 * MIN);
    expect(r.tick(t0 + 120 * MIN)).toEqual([]);
    expect(r.nextDueAt()).toBeUndefined();
  });

  it('an acknowledgement or a clear stops escalation and repeats', () => {
    const r = new Router(config());
    const t0 = at('2026-12-03T10:00');
    r.raise(burst('b1'), t0);
    r.raise(burst('b2'), t0);
    r.acknowledge('b1');
    r.close('b2');
    expect(r.tick(t0 + 60 * MIN)).toEqual([]);
  });

  it('repeats to everyone notified so far, every repeatEveryMin', () => {
    const cfg = config();
    cfg.rules[0].repeatEveryMin = 10;
    const r = new Router(cfg);
    const t0 = at('2026-12-03T10:00');
    r.raise(burst('b1'), t0);
    expect(brief(r.tick(t0 + 10 * MIN))).toEqual(['repeat:wang:b1']);
    expect(brief(r.tick(t0 + 20 * MIN))).toEqual(['escalation:li:b1', 'repeat:wang:b1', 'repeat:li:b1']);
  });

  it('sends nothing for an alarm suppressed by a planned outage; rules match type, priority and area', () => {
    const r = new Router(config());
    const t0 = at('2026-12-03T10:00');
    expect(r.raise(burst('b1', { suppressed: true }), t0)).toEqual([]);
    expect(r.nextDueAt()).toBeUndefined();
    // A low burst does not match the burst rule (medium and up): the catch-all rule takes it, on its channels.
    expect(r.raise(burst('b2', { priority: 'low' }), t0)).toMatchObject([{ kind: 'alarm', person: 'wang', channels: ['wecom'] }]);
    const areaOnly = new Router(config({ rules: [{ name: 'north', match: { areas: ['north'], minPriority: 'low' }, rota: 'maintenance', channels: ['sms'], escalateAfterMin: 5 }] }));
    expect(areaOnly.raise(burst('b3'), t0)).toEqual([]);
    expect(areaOnly.raise(burst('b4', { area: 'north' }), t0)).toHaveLength(1);
  });

  it('holds low-priority messages through quiet hours and sends them when they end, if the alarm is still open', () => {
    const r = new Router(config({ quietHours: { from: '22:00', to: '07:00', maxPriority: 'low' } }));
    const night = at('2026-12-03T23:00');
    expect(r.raise(burst('low1', { priority: 'low', type: 'leak' }), night)).toEqual([]);
    expect(r.raise(burst('low2', { priority: 'low', type: 'leak' }), night)).toEqual([]);
    expect(brief(r.raise(burst('b1'), night))).toEqual(['alarm:zhao:b1']); // high goes out at once
    r.close('low2');
    r.acknowledge('b1');
    expect(r.tick(at('2026-12-04T06:59'))).toEqual([]);
    const morning = r.tick(at('2026-12-04T07:00'));
    // The escalation to the duty manager fell due at 23:30, in the quiet hours too: both go at 07:00.
    expect(brief(morning)).toEqual(['alarm:zhao:low1', 'escalation:boss:low1']);
    expect(morning[0].dueAt).toBe(at('2026-12-04T07:00'));
  });

  it('past K alarm messages to one person in M minutes, the rest go as one summary at the end of the window', () => {
    const r = new Router(config({ flood: { maxAlarms: 3, windowMin: 10 } }));
    const t0 = at('2026-12-03T10:00');
    const sent = [1, 2, 3, 4, 5].flatMap((i) => r.raise(burst(`b${i}`), t0 + i * 1000));
    expect(brief(sent)).toEqual(['alarm:wang:b1', 'alarm:wang:b2', 'alarm:wang:b3']);
    expect(r.tick(t0 + 4000 + 10 * MIN - 1)).toEqual([]);
    const summary = r.tick(t0 + 4000 + 10 * MIN);
    expect(summary).toMatchObject([{ kind: 'summary', person: 'wang', alarmIds: ['b4', 'b5'], n: 2 }]);
    // The window is over: the next alarm goes out on its own again.
    r.acknowledge('b1'); r.acknowledge('b2'); r.acknowledge('b3'); r.acknowledge('b4'); r.acknowledge('b5');
    expect(brief(r.raise(burst('b6'), t0 + 11 * MIN))).toEqual(['alarm:wang:b6']);
  });

  it('resumes an alarm routed before a restart from then: the escalations due meanwhile at the next tick, the latest repeat once', () => {
    const cfg = config();
    cfg.rules[0].repeatEveryMin = 10;
    const r = new Router(cfg);
    const routed = at('2026-12-03T10:00');
    r.resume(burst('b1'), routed); // its first message (to wang) went out before the restart: not again
    expect(r.nextDueAt()).toBe(routed + 10 * MIN);
    // the people on call at 10:00 (wang, li), then the duty manager: both steps fell due by 10:47;
    // of the repeats every 10 min, the fourth (10:40) once, to the three notified
    const due = r.tick(at('2026-12-03T10:47'));
    expect(due.map((o) => `${o.kind}:${o.person}:${o.n}@${(o.dueAt - routed) / MIN}`))
      .toEqual(['escalation:li:1@15', 'escalation:boss:2@30', 'repeat:wang:4@40', 'repeat:li:4@40', 'repeat:boss:4@40']);
    expect(r.nextDueAt()).toBe(routed + 50 * MIN);
  });

  it('does not count resumed alarms against flood control: their first messages went out before', () => {
    const r = new Router(config({ flood: { maxAlarms: 2, windowMin: 60 } }));
    const t0 = at('2026-12-03T10:00');
    for (const i of [1, 2, 3, 4]) r.resume(burst(`b${i}`), t0 + i * 1000);
    expect(brief(r.raise(burst('b5'), t0 + 5000))).toEqual(['alarm:wang:b5']);
    for (const i of [1, 2, 3, 4, 5]) r.acknowledge(`b${i}`);
    expect(r.tick(t0 + 2 * 60 * MIN)).toEqual([]);
  });

  it('refuses a rule naming an unknown rota and a bad time zone', () => {
    expect(() => new Router(config({ rules: [{ name: 'x', match: { minPriority: 'low' }, rota: 'nope', channels: ['a'], escalateAfterMin: 1 }] }))).toThrow(/no rota named nope/);
    expect(routingSchema.safeParse({ ...config(), timeZone: 'Mars/Olympus' }).success).toBe(false);
  });
});
