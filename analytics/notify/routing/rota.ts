/**
 * An on-call rota: a weekly schedule in the site's time zone, with dated overrides (holidays, swaps)
 * that replace it while they last, and a duty manager who is the last step of every escalation.
 */
import { z } from 'zod';
import { inDailyWindow, localTime, WEEKDAYS } from './local-time.ts';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');
const localDateTime = z.string().regex(/^\d{4}-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d$/, 'YYYY-MM-DDTHH:MM (site time)');

export const rotaSchema = z.object({
  /** In escalation order: the first on call is notified first. */
  weekly: z.array(z.object({
    days: z.array(z.enum(WEEKDAYS)).min(1),
    /** A shift with to ≤ from runs past midnight (into the next day). */
    from: hhmm,
    to: hhmm,
    people: z.array(z.string()).min(1),
  })).min(1),
  overrides: z.array(z.object({
    from: localDateTime,
    to: localDateTime,
    people: z.array(z.string()).min(1),
    /** e.g. "National Day", "swap Wang ↔ Li" */
    reason: z.string().optional(),
  }).refine((o) => o.from < o.to, 'from must be before to')).default([]),
  dutyManager: z.string(),
}).strict();
export type Rota = z.infer<typeof rotaSchema>;

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
