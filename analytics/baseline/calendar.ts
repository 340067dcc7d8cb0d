/**
 * The site's calendar (`calendar:` of the config, core/config/calendar.ts) as the baselines read it:
 * which local days are holidays and which are make-up working days (调休). Keyed by local day number
 * (days since 1970-01-01 in wall time, LocalTime's `day`).
 */
import { calendarSchema, daysOf, type CalendarConfig } from '../../core/config/calendar.ts';
import { isWeekend, weekdayOfDay } from './local-time.ts';

export type DayKind = 'holiday' | 'workday';

export class DayCalendar {
  private readonly kinds = new Map<number, DayKind>();

  constructor(config: CalendarConfig = {}) {
    const c = calendarSchema.parse(config);
    for (const [kind, entries] of [['holiday', c.holidays], ['workday', c.workdays]] as const) {
      for (const e of entries) {
        for (const day of daysOf(e)) {
          const other = this.kinds.get(day);
          if (other && other !== kind) throw new Error(`calendar: ${new Date(day * 86_400_000).toISOString().slice(0, 10)} is both a holiday and a make-up working day`);
          this.kinds.set(day, kind);
        }
      }
    }
  }

  /** 'holiday', 'workday' (a make-up working day), or undefined: the day is what its weekday says. */
  kindOf(day: number): DayKind | undefined {
    return this.kinds.get(day);
  }

  get size(): number {
    return this.kinds.size;
  }
}

/** A day off: a holiday of the calendar, else a weekend day that is not a make-up working day. */
export function isDayOff(day: number, calendar?: DayCalendar): boolean {
  const kind = calendar?.kindOf(day);
  if (kind) return kind === 'holiday';
  return isWeekend(weekdayOfDay(day));
}
