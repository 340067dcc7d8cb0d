import { describe, it, expect } from 'vitest';
import { TimeZone, timeZone, zonedToUtc, parseIso, parseIsoParts, isValidTimeZone, type WallTime } from './zoned.ts';

const w = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0): WallTime =>
  ({ year, month, day, hour, minute, second, millisecond });
const H = 3_600_000;

describe('TimeZone offsets', () => {
  it('knows Rome in winter (+1 h) and summer (+2 h), and Shanghai all year (+8 h)', () => {
    const rome = timeZone('Europe/Rome');
    expect(rome.offsetAt(Date.UTC(2021, 0, 15, 12))).toBe(H);
    expect(rome.offsetAt(Date.UTC(2021, 6, 15, 12))).toBe(2 * H);
    const sh = timeZone('Asia/Shanghai');
    expect(sh.offsetAt(Date.UTC(2021, 0, 15))).toBe(8 * H);
    expect(sh.offsetAt(Date.UTC(2021, 6, 15))).toBe(8 * H);
  });

  it('refuses an unknown zone with a clear error', () => {
    expect(() => new TimeZone('Europe/Atlantis')).toThrow(/unknown time zone "Europe\/Atlantis"/);
    expect(isValidTimeZone('Europe/Atlantis')).toBe(false);
    expect(isValidTimeZone('UTC')).toBe(true);
  });
});

describe('wall clock to UTC across Europe/Rome daylight-saving changes', () => {
  const rome = timeZone('Europe/Rome');

  it('converts ordinary winter and summer times', () => {
    expect(zonedToUtc(w(2021, 1, 1, 0, 0), 'Europe/Rome')).toBe(Date.UTC(2020, 11, 31, 23));
    expect(zonedToUtc(w(2021, 7, 1, 12, 30, 15, 250), 'Europe/Rome')).toBe(Date.UTC(2021, 6, 1, 10, 30, 15, 250));
  });

  it('spring forward (2021-03-28): 01:59 is CET, 03:00 is CEST, 02:00–02:59 do not exist', () => {
    expect(zonedToUtc(w(2021, 3, 28, 1, 59), 'Europe/Rome')).toBe(Date.UTC(2021, 2, 28, 0, 59));
    expect(zonedToUtc(w(2021, 3, 28, 3, 0), 'Europe/Rome')).toBe(Date.UTC(2021, 2, 28, 1, 0));
    for (const minute of [0, 30, 59]) {
      const r = rome.toUtc(w(2021, 3, 28, 2, minute));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/does not exist in Europe\/Rome .*daylight saving/);
    }
    expect(() => zonedToUtc(w(2021, 3, 28, 2, 0), 'Europe/Rome')).toThrow(/2021-03-28 02:00:00 does not exist/);
  });

  it('fall back (2021-10-31): 02:00–02:59 happen twice; earlier is CEST, later is CET', () => {
    const r = rome.toUtc(w(2021, 10, 31, 2, 30));
    expect(r).toEqual({ ok: true, utc: Date.UTC(2021, 9, 31, 0, 30), ambiguous: [Date.UTC(2021, 9, 31, 0, 30), Date.UTC(2021, 9, 31, 1, 30)] });
    expect(zonedToUtc(w(2021, 10, 31, 2, 30), 'Europe/Rome', 'later')).toBe(Date.UTC(2021, 9, 31, 1, 30));
    // the hours around the repeated one are unambiguous
    expect(rome.toUtc(w(2021, 10, 31, 1, 59))).toEqual({ ok: true, utc: Date.UTC(2021, 9, 30, 23, 59) });
    expect(rome.toUtc(w(2021, 10, 31, 3, 0))).toEqual({ ok: true, utc: Date.UTC(2021, 9, 31, 2, 0) });
  });

  it('an hourly local series across both changes maps to strictly increasing UTC hours', () => {
    // as the BWDF file writes it: 01:00, 03:00 in March; 01:00, 02:00, 02:00, 03:00 in October
    const march = [1, 3, 4].map((h) => zonedToUtc(w(2022, 3, 27, h), 'Europe/Rome'));
    expect(march).toEqual([Date.UTC(2022, 2, 27, 0), Date.UTC(2022, 2, 27, 1), Date.UTC(2022, 2, 27, 2)]);
    const oct = [
      zonedToUtc(w(2022, 10, 30, 1), 'Europe/Rome'),
      zonedToUtc(w(2022, 10, 30, 2), 'Europe/Rome', 'earlier'),
      zonedToUtc(w(2022, 10, 30, 2), 'Europe/Rome', 'later'),
      zonedToUtc(w(2022, 10, 30, 3), 'Europe/Rome'),
    ];
    expect(oct.map((t) => (t - oct[0]) / H)).toEqual([0, 1, 2, 3]);
  });
});

describe('Asia/Shanghai (no daylight saving since 1991)', () => {
  it('is UTC+8 every day of a year, including March and October Sundays', () => {
    for (let day = 0; day < 365; day += 7) {
      const d = new Date(Date.UTC(2024, 0, 1 + day));
      const local = w(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 2, 30);
      expect(zonedToUtc(local, 'Asia/Shanghai')).toBe(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 2, 30) - 8 * H);
    }
  });

  it('had daylight saving in 1988: 1988-04-17 02:30 did not exist', () => {
    // China observed DST 1986–1991 (tz database); a historical import must not invent that hour.
    const r = timeZone('Asia/Shanghai').toUtc(w(1988, 4, 17, 2, 30));
    expect(r.ok).toBe(false);
  });
});

describe('invalid wall times', () => {
  it('names the bad field', () => {
    const rome = timeZone('Europe/Rome');
    expect(rome.toUtc(w(2021, 2, 29))).toEqual({ ok: false, reason: 'day 29 does not exist in 2021-02' });
    expect(rome.toUtc(w(2021, 13, 1))).toEqual({ ok: false, reason: 'month 13 out of range 1-12' });
    expect(rome.toUtc(w(2021, 1, 1, 24))).toEqual({ ok: false, reason: 'hour 24 out of range 0-23' });
  });
});

describe('strict ISO 8601', () => {
  it('uses the offset in the string', () => {
    expect(parseIso('2026-03-01T08:30:00+08:00')).toEqual({ ok: true, utc: Date.UTC(2026, 2, 1, 0, 30) });
    expect(parseIso('2026-03-01T08:30:00.123Z')).toEqual({ ok: true, utc: Date.UTC(2026, 2, 1, 8, 30, 0, 123) });
    expect(parseIso('2026-03-01 08:30-0130')).toEqual({ ok: true, utc: Date.UTC(2026, 2, 1, 10, 0) });
  });

  it('refuses an offset-less time unless a zone is given', () => {
    const r = parseIso('2026-03-01T08:30:00');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/has no UTC offset/);
    expect(parseIso('2026-03-01T08:30:00', 'Asia/Shanghai')).toEqual({ ok: true, utc: Date.UTC(2026, 2, 1, 0, 30) });
    expect(parseIso('2021-03-28T02:30', 'Europe/Rome').ok).toBe(false);
  });

  it('refuses what Date.parse would bend', () => {
    expect('reason' in parseIsoParts('2026-02-30T00:00:00Z')).toBe(true);
    expect('reason' in parseIsoParts('yesterday')).toBe(true);
    expect('reason' in parseIsoParts('2026-03-01T25:00:00Z')).toBe(true);
  });
});
