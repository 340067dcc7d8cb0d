/**
 * The site's calendar (`calendar:` of the config, core/config/calendar.ts) as the baselines read it:
 * which local days are holidays, make-up working days (调休) or festive eves. Keyed by local day number
 * (days since 1970-01-01 in wall time, LocalTime's `day`).
 */
import { calendarSchema, daysOf, type CalendarConfig } from '../../core/config/calendar.ts';
import { isWeekend, weekdayOfDay } from './local-time.ts';

export type DayKind = 'holiday' | 'workday';

export class DayCalendar {
  private readonly kinds = new Map<number, DayKind>();
  private readonly eves = new Set<number>();

  constructor(config: CalendarConfig = {}) {
    const c = calendarSchema.parse(config);
    for (const e of c.eves) for (const day of daysOf(e)) this.eves.add(day);
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

  get hasEves(): boolean {
    return this.eves.size > 0;
  }

  /** A festive eve (calendar `eves`): the day and the night after it are used like no other. */
  isEve(day: number): boolean {
    return this.eves.has(day);
  }
}

/**
 * Within a festive eve's span: from the end of the night before it (`nightEndMs` past midnight, the
 * detector's night window end) to the end of the night after it. The leak detectors treat these
 * hours as missing data: compared with any other day's they look like a leak, and there are too few
 * such days to learn them.
 */
export function isFestive(day: number, msOfDay: number, nightEndMs: number, calendar?: DayCalendar): boolean {
  if (!calendar) return false;
  return msOfDay >= nightEndMs ? calendar.isEve(day) : calendar.isEve(day - 1);
}

/** A day off: a holiday of the calendar, else a weekend day that is not a make-up working day. */
export function isDayOff(day: number, calendar?: DayCalendar): boolean {
  const kind = calendar?.kindOf(day);
  if (kind) return kind === 'holiday';
  return isWeekend(weekdayOfDay(day));
}
