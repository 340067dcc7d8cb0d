/**
 * An on-call rota: a weekly schedule in the site's time zone, with dated overrides (holidays, swaps)
 * that replace it while they last, and a duty manager who is the last step of every escalation.
 */
import { WEEKDAYS, type Rota } from '../../../core/config/notify.ts';
import { inDailyWindow, localTime } from './local-time.ts';

const previousDay = (d: (typeof WEEKDAYS)[number]) => WEEKDAYS[(WEEKDAYS.indexOf(d) + 6) % 7];

/** Who is on call at `now`, in escalation order (the latest-listed override that covers `now` wins). */
export function onCallAt(rota: Rota, now: number, timeZone: string): string[] {
  const local = localTime(now, timeZone);
  const override = [...rota.overrides].reverse().find((o) => local.dateTime >= o.from && local.dateTime < o.to);
  if (override) return override.people;
  const people: string[] = [];
  for (const shift of rota.weekly) {
    const overnight = shift.to <= shift.from;
    const today = shift.days.includes(local.weekday) && (overnight ? local.time >= shift.from : inDailyWindow(local.time, shift.from, shift.to));
    const spillover = overnight && shift.days.includes(previousDay(local.weekday)) && local.time < shift.to;
    if (today || spillover) people.push(...shift.people.filter((p) => !people.includes(p)));
  }
  return people;
}
