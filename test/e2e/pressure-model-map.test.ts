/**
 * Issue #12.6 in chromium, against a dashboard started in-process (test/support/dashboard.ts): the
 * real pressure-model detector, fed two quiet days and then a lasting loss at one logger of North,
 * raises leak_candidate; its condition goes to the live analytics' alarm manager as the worker
 * would hand it. The dispatcher's map numbers the ranked loggers in the detector's order, each a
 * marker on the canvas at the logger's place, the leaking one the largest; the alarm's detail lists
 * them and links to the map with that alarm chosen; once cleared, the map no longer marks them
 * unless the alarm is chosen; in zh-CN and en. (The harness has no live gateway: each check loads
 * the page after the alarm's transition.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { Topology } from '../../core/topology/topology.ts';
import type { Condition } from '../../analytics/types.ts';
import type { NetworkMap, RankedLogger } from '../../dashboard/contract/index.ts';
import { T0, TOPOLOGY } from '../support/dashboard.ts';
import { eventually, openView as open, startBrowserDashboard, type BrowserDashboard } from '../support/browser.ts';
import { raisePressureModelLeak } from '../support/pressure-leak.ts';

const HOUR = 3_600_000;
/** AreaMap's RANKED_COLOR, #f778ba. */
const RANKED_RGB = [0xf7, 0x78, 0xba];
const LOGGERS = [
  { id: 'P-N2', name: '人民路口 Renmin Rd crossing', dma: 'north', x: 2, y: 28 },
  { id: 'P-N3', name: '学校 School', dma: 'north', x: 18, y: 30 },
  { id: 'P-N4', name: '北门 North Gate', dma: 'north', x: 3, y: 9 },
  { id: 'P-S1', name: '南湖 Nanhu', dma: 'south', x: 24, y: 0 },
  { id: 'P-S2', name: '车站 Station', dma: 'south', x: 36, y: 14 },
  { id: 'P-S3', name: '码头 Pier', dma: 'south', x: 38, y: 2 },
];

let b: BrowserDashboard;
let mapDir = '';
let raise: Condition;
let ranked: RankedLogger[];
let alarmId = '';

beforeAll(async () => {
  mapDir = mkdtempSync(join(tmpdir(), 'aw-pmodel-map-'));
  writeFileSync(join(mapDir, 'map.json'), JSON.stringify({ links: [
    { dma: 'north', points: [[0, 0], [3, 9], [2, 28], [12, 22], [18, 30]] }, { dma: 'south', points: [[0, 0], [24, 0], [38, 2], [36, 14]] },
  ] }));
  const topology = {
    ...TOPOLOGY, map: join(mapDir, 'map.json'),
    sensors: [...TOPOLOGY.sensors, ...LOGGERS.map((l) => ({ ...l, kind: 'pressure', unit: 'MPa', site: 'net', place: 'network' }))],
  };
  b = await startBrowserDashboard({ config: { topology } });
  // the detector on the dashboard's own topology (P-N1 and the six above), from the harness's clock on
  const conditions = raisePressureModelLeak(new Topology(b.h.config.topology), { from: T0, leakAt: 'P-N2', lossKpa: 3 });
  raise = conditions.at(-1)!;
  expect(raise).toMatchObject({ type: 'leak_candidate', state: 'raise', dma: 'north', sensor: 'P-N2' });
  ranked = raise.evidence!.ranked as RankedLogger[];
  expect(ranked.map((r) => r.sensor).sort()).toEqual(['P-N1', 'P-N2', 'P-N3', 'P-N4']);
  expect(ranked[0].sensor).toBe('P-N2');
  // as the worker hands the alarm manager the detector's condition
  b.h.alarms.onCondition(raise);
  alarmId = b.h.alarms.openAlarms().find((a) => a.type === 'leak_candidate')!.id;
}, 180_000);

afterAll(async () => {
  await b?.close();
  if (mapDir) rmSync(mapDir, { recursive: true, force: true });
});

const nameOf = (sensor: string) => LOGGERS.find((l) => l.id === sensor)?.name ?? sensor;

/** The ranked loggers listed under the map: rank, sensor and text, in the page's order. */
const listed = (page: Page, scope = '[data-testid="ranked-loggers"]') => page.$$eval(`${scope} li`, (lis) => lis.map((li) => ({
  rank: Number(li.getAttribute('data-rank')), sensor: li.getAttribute('data-sensor'), text: li.textContent ?? '',
})));

/**
 * Per logger, the pixels of the ranked-marker colour within 20 px of where the logger falls on the
 * map's canvas. Where a map coordinate falls: AreaMap's fit() puts the network's bounds in the box
 * with 24 px of padding, keeping its proportions, centred.
 */
async function markerPixels(page: Page, bounds: NetworkMap['bounds'], at: { sensor: string; x: number; y: number }[]): Promise<Record<string, number>> {
  return page.$eval('.area-map', (el, { bounds: bb, at: points, rgb }) => {
    const canvas = el.querySelector('canvas')!;
    const ratio = canvas.width / canvas.getBoundingClientRect().width;
    const { data, width } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const w = el.clientWidth, h = el.clientHeight;
    const dx = bb.maxX - bb.minX, dy = bb.maxY - bb.minY;
    const scale = Math.min((w - 48) / dx, (h - 48) / dy);
    const gw = Math.round(dx * scale), gh = Math.round(dy * scale);
    const left = Math.round((w - dx * scale) / 2), top = Math.round((h - dy * scale) / 2);
    const out: Record<string, number> = {};
    for (const p of points) {
      const cx = (left + ((p.x - bb.minX) / dx) * gw) * ratio, cy = (top + ((bb.maxY - p.y) / dy) * gh) * ratio;
      const r = 20 * ratio;
      let n = 0;
      for (let y = Math.max(0, Math.floor(cy - r)); y <= cy + r; y++) {
        for (let x = Math.max(0, Math.floor(cx - r)); x <= cx + r && x < width; x++) {
          const i = (y * width + x) * 4;
          if (Math.abs(data[i] - rgb[0]) <= 3 && Math.abs(data[i + 1] - rgb[1]) <= 3 && Math.abs(data[i + 2] - rgb[2]) <= 3 && data[i + 3] > 250) n++;
        }
      }
      out[p.sensor] = n;
    }
    return out;
  }, { bounds, at, rgb: RANKED_RGB });
}

describe('#12.6 the pressure model\'s ranked loggers on the dispatcher\'s map', () => {
  it('#12.6 a raised leak candidate numbers its loggers on the open map in the detector\'s order, the leaking one the largest marker (en)', async () => {
    const page = await b.signIn('dispatcher');
    await page.selectOption('[data-testid="lang-switch"]', 'en');
    await page.waitForSelector('.control-room[data-ready="yes"]');
    const map = (await (await page.request.get(`${b.base}/api/v1/map`)).json()) as NetworkMap;
    const places = ranked.map((r) => ({ sensor: r.sensor, x: map.sensors.find((s) => s.id === r.sensor)!.x!, y: map.sensors.find((s) => s.id === r.sensor)!.y! }));
    await eventually(() => listed(page).then((l) => l.map((x) => [x.rank, x.sensor]))).toEqual(ranked.map((r, i) => [i + 1, r.sensor]));
    const items = await listed(page);
    expect(await page.textContent('[data-testid="ranked-loggers"] h3')).toBe('Pressure model · 北区 North: loggers ranked, nearest to the leak first');
    ranked.forEach((r, i) => {
      expect(items[i].text).toContain(nameOf(r.sensor));
      expect(items[i].text).toContain(`${new Intl.NumberFormat('en', { maximumFractionDigits: 2 }).format(r.residualKpa)} kPa · z ${new Intl.NumberFormat('en', { maximumFractionDigits: 1 }).format(r.z)}`);
    });
    // a marker at every logger's place; the leaking logger's (the largest loss) the largest
    await eventually(async () => {
      const px = await markerPixels(page, map.bounds, places);
      return places.every((p) => px[p.sensor] > 40) && places.slice(1).every((p) => px[ranked[0].sensor] > px[p.sensor]);
    }).toBe(true);
    // South has no alarm: its loggers are not marked
    const south = LOGGERS.filter((l) => l.dma === 'south').map((l) => ({ sensor: l.id, x: l.x, y: l.y }));
    expect(Object.values(await markerPixels(page, map.bounds, south))).toEqual([0, 0, 0]);
    await page.context().close();
  }, 60_000);

  it('#12.6 the alarm\'s detail lists the ranked loggers and shows that alarm alone on the map (zh-CN)', async () => {
    expect(alarmId).not.toBe('');
    const page = await b.signIn('dispatcher');
    await open(page, 'alarms');
    await page.locator(`tr[data-alarm-id="${alarmId}"] [data-action="history"]`).click();
    const rows = () => page.$$eval('[data-testid="ranked-loggers-detail"] tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-sensor'), ...[...tr.querySelectorAll('td')].map((td) => td.textContent)]));
    await eventually(rows).toEqual(ranked.map((r, i) => [
      r.sensor, String(i + 1), nameOf(r.sensor) + (nameOf(r.sensor) !== r.sensor ? ` ${r.sensor}` : ''),
      new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 2 }).format(r.residualKpa), new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 1 }).format(r.z),
    ]));
    expect(await page.textContent('.ranked-detail h4')).toBe('压力模型排列的测点（离漏点最近者在前）');
    expect(await page.textContent('.ranked-detail p')).toContain('6 小时均值');

    await page.click('[data-action="show-on-map"]');
    await page.waitForSelector('.shell[data-view="control"]');
    await eventually(() => page.getAttribute('[data-testid="ranked-loggers"]', 'data-alarm-id')).toBe(alarmId);
    expect((await listed(page)).map((x) => x.sensor)).toEqual(ranked.map((r) => r.sensor));
    expect(await page.textContent('[data-testid="ranked-loggers"] h3')).toBe('压力模型 · 北区 North：测点按离漏点远近排列（最近者在前）');
    await page.click('[data-action="show-active"]');
    await eventually(() => page.locator('[data-action="show-active"]').count()).toBe(0);
    expect(await page.locator('[data-testid="ranked-loggers"]').count()).toBe(1);
    await page.context().close();
  }, 60_000);

  it('#12.6 once the leak candidate clears, the map marks nothing, and the alarm chosen from its detail is shown as cleared (en)', async () => {
    b.h.alarms.onCondition({ ...raise, state: 'clear', ts: raise.ts + 10 * HOUR, text: { code: 'leak_candidate.clear', params: { dma: 'north' } } });
    expect(b.h.alarms.openAlarms().find((a) => a.id === alarmId)?.clearedAt).toBe(raise.ts + 10 * HOUR);
    const page = await b.signIn('dispatcher');
    await page.selectOption('[data-testid="lang-switch"]', 'en');
    await page.waitForSelector('.control-room[data-ready="yes"]');
    const map = (await (await page.request.get(`${b.base}/api/v1/map`)).json()) as NetworkMap;
    const places = LOGGERS.map((l) => ({ sensor: l.id, x: l.x, y: l.y }));
    // the map is drawn (its pipes), with no ranked marker and no list
    await eventually(() => page.$eval('.area-map canvas', (c) => {
      const { data } = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height);
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    })).toBeGreaterThan(1000);
    expect(Object.values(await markerPixels(page, map.bounds, places)).every((n) => n === 0)).toBe(true);
    expect(await page.locator('[data-testid="ranked-loggers"]').count()).toBe(0);

    await page.evaluate((id) => { location.hash = `#/control/${encodeURIComponent(id)}`; }, alarmId);
    await eventually(() => page.textContent('[data-testid="ranked-loggers"] h3')).toBe('Pressure model · 北区 North (cleared): loggers ranked, nearest to the leak first');
    expect((await listed(page)).map((x) => x.sensor)).toEqual(ranked.map((r) => r.sensor));
    await page.context().close();
  }, 60_000);
});
