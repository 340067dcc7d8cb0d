/**
 * Derives the demand profiles in demand-profiles.json from the real DMA inflows of the Battle of the
 * Water Demand Forecasting (BWDF, WDSA-CCWI 2024, CC BY 4.0). Run once; the JSON is committed, the
 * CSV is not (it comes with the project's reference data, not with the code):
 *
 *   npx tsx simulators/hydraulics/derive-profiles.ts path/to/InflowData.csv
 *
 * For each of the 10 DMAs: the median inflow per local hour of day, separately for Monday–Friday and
 * Saturday–Sunday, normalised so that the week's mean multiplier is 1; and two noise figures that the
 * simulation reuses: the day-to-day spread of daily volume (against a 15-day running median, so that
 * seasons do not count) and the hour-to-hour spread left once the day's level and shape are removed.
 * Medians keep holidays and data errors from bending the shape. NaN gaps are skipped.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

export interface DerivedProfile {
  weekday: number[];
  weekend: number[];
  /** Relative standard deviation of a day's volume around its season's level. */
  dailySd: number;
  /** Relative standard deviation of hourly values around the day's shape. */
  hourlySd: number;
  /** Mean inflow of the source DMA, L/s: for a sense of scale only. */
  meanLs: number;
  /** Mean of weekday 02:00–04:00 over the daily mean: the night-flow share. */
  nightRatio: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Robust standard deviation: 1.4826 × median absolute deviation. */
function robustSd(values: number[]): number {
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
}

const round = (v: number, digits = 4) => Number(v.toFixed(digits));

export function deriveProfiles(csvText: string): Record<string, DerivedProfile> {
  const lines = csvText.split(/\r?\n/).filter((l) => l.trim());
  const header = lines[0].split(',');
  const names = header.slice(1).map((h) => h.replace(/\s*\(L\/s\)\s*/, '').trim());
  // rows: local calendar day (days since epoch of the wall date), hour, values
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    const m = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2})$/.exec(cells[0]);
    if (!m) throw new Error(`InflowData.csv line ${i + 2}: date-time ${cells[0]} is not DD/MM/YYYY HH:mm`);
    const day = Math.floor(Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1])) / 86_400_000);
    return { day, hour: Number(m[4]), values: cells.slice(1).map((c) => (c === 'NaN' || c === '' ? NaN : Number(c))) };
  });
  // 1970-01-01 was a Thursday: (day + 4) % 7 gives 0 = Sunday ... 6 = Saturday
  const isWeekend = (day: number) => { const dow = (day + 4) % 7; return dow === 0 || dow === 6; };

  const out: Record<string, DerivedProfile> = {};
  names.forEach((name, col) => {
    const byHour = { weekday: Array.from({ length: 24 }, () => [] as number[]), weekend: Array.from({ length: 24 }, () => [] as number[]) };
    const valid = rows.filter((r) => Number.isFinite(r.values[col]) && r.values[col] >= 0);
    for (const r of valid) byHour[isWeekend(r.day) ? 'weekend' : 'weekday'][r.hour].push(r.values[col]);
    const weekdayRaw = byHour.weekday.map(median);
    const weekendRaw = byHour.weekend.map(median);
    const weekMean = (5 * weekdayRaw.reduce((a, b) => a + b, 0) + 2 * weekendRaw.reduce((a, b) => a + b, 0)) / (7 * 24);
    const weekday = weekdayRaw.map((v) => v / weekMean);
    const weekend = weekendRaw.map((v) => v / weekMean);

    // day levels: a day's mean against the profile's mean for that day type (complete days only)
    const byDay = new Map<number, { hour: number; value: number }[]>();
    for (const r of valid) {
      const list = byDay.get(r.day) ?? [];
      list.push({ hour: r.hour, value: r.values[col] });
      byDay.set(r.day, list);
    }
    const dayLevel = new Map<number, number>();
    for (const [day, list] of byDay) {
      if (list.length < 22) continue;
      const shape = isWeekend(day) ? weekend : weekday;
      const ratio = list.reduce((s, x) => s + x.value / (shape[x.hour] * weekMean), 0) / list.length;
      dayLevel.set(day, ratio);
    }
    const days = [...dayLevel.keys()].sort((a, b) => a - b);
    const dailyDeviations: number[] = [];
    for (const day of days) {
      const window = days.filter((d) => Math.abs(d - day) <= 7).map((d) => dayLevel.get(d)!);
      if (window.length >= 8) dailyDeviations.push(dayLevel.get(day)! / median(window) - 1);
    }
    const hourlyDeviations: number[] = [];
    for (const r of valid) {
      const level = dayLevel.get(r.day);
      if (level === undefined) continue;
      const shape = isWeekend(r.day) ? weekend : weekday;
      hourlyDeviations.push(r.values[col] / (shape[r.hour] * weekMean * level) - 1);
    }
    const night = (weekday[2] + weekday[3]) / 2;
    const weekdayMean = weekday.reduce((a, b) => a + b, 0) / 24;
    out[`bwdf-${name.toLowerCase().replace(/\s+/g, '')}`] = {
      weekday: weekday.map((v) => round(v)),
      weekend: weekend.map((v) => round(v)),
      dailySd: round(robustSd(dailyDeviations)),
      hourlySd: round(robustSd(hourlyDeviations)),
      meanLs: round(valid.reduce((s, r) => s + r.values[col], 0) / valid.length, 2),
      nightRatio: round(night / weekdayMean),
    };
  });
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const csv = process.argv[2];
  if (!csv) {
    console.error('usage: npx tsx simulators/hydraulics/derive-profiles.ts path/to/InflowData.csv');
    process.exit(2);
  }
  const profiles = deriveProfiles(readFileSync(csv, 'utf8'));
  const doc = {
    provenance: 'Derived by simulators/hydraulics/derive-profiles.ts from InflowData.csv of the Battle of the Water Demand '
      + 'Forecasting (BWDF, WDSA-CCWI 2024, CC BY 4.0): real hourly inflows (L/s) of 10 DMAs of an Italian utility, '
      + '2021-01 to 2023-03, local time CET/CEST. Per DMA: median per local hour, Monday-Friday and Saturday-Sunday, '
      + 'normalised to a weekly mean of 1; dailySd and hourlySd are robust relative spreads used for seeded noise.',
    stepMinutes: 60,
    profiles,
  };
  const target = join(here, 'demand-profiles.json');
  // number arrays on one line each, so the file reads as a table
  const text = JSON.stringify(doc, null, 2).replace(/\[\s+([-\d.,\s]+?)\s+\]/g, (_, body: string) => `[${body.split(/,\s*/).join(', ')}]`);
  writeFileSync(target, `${text}\n`);
  console.log(`wrote ${target}: ${Object.keys(profiles).length} profiles`);
}
