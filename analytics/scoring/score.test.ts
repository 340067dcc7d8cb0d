import { describe, expect, it } from 'vitest';
import { AlarmStore, type AlarmRecord } from '../../core/state/alarm-store.ts';
import { describeScore, estimatedStartOf, retractedAtIn, scoreAlarms, type ScoredAlarm, type TruthEvent } from './score.ts';
import { parseTruth, TruthFileError } from './truth.ts';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2019, 0, 1);
const END = T0 + 180 * D;

let n = 0;
const alarm = (type: string, at: number, dma?: string): ScoredAlarm => ({ id: `a${n++}`, type, raisedAt: at, dma });

describe('scoreAlarms (BattLeDIM-style rule)', () => {
  const abrupt: TruthEvent = { id: 'p1', pipe: 'p1', kind: 'abrupt', start: T0 + 10 * D, end: T0 + 40 * D };
  const incipient: TruthEvent = { id: 'p2', pipe: 'p2', kind: 'incipient', start: T0 + 50 * D, end: T0 + 120 * D, peak: T0 + 90 * D };
  const background: TruthEvent = { id: 'p0', pipe: 'p0', kind: 'incipient', start: T0 - 100 * D, peak: T0 + 5 * D };

  it('finds an abrupt leak within 14 days of its start, counts later alarms in its window as repeats and the rest as false', () => {
    const r = scoreAlarms([abrupt], [
      alarm('burst', T0 + 10 * D + 3 * H), alarm('new_leak', T0 + 12 * D), alarm('burst', T0 + 2 * D), alarm('burst', T0 + 25 * D),
    ], { dataStart: T0, dataEnd: END });
    expect(r.found).toBe(1);
    expect(r.events[0].delayMs).toBe(3 * H);
    expect(r.delayAbruptMedianH).toBe(3);
    expect(r.repeats).toBe(1);
    // before the start, and 15 days after it (outside the 14-day window, though the leak still runs)
    expect(r.falseAlarms.map((a) => a.raisedAt)).toEqual([T0 + 2 * D, T0 + 25 * D]);
    expect(Number.isNaN(r.delayIncipientMedianD)).toBe(true);
  });

  it('gives an incipient leak until 14 days after its peak, and measures its delay from its start', () => {
    const late = scoreAlarms([incipient], [alarm('leak_trend', T0 + 103 * D)], { dataStart: T0, dataEnd: END });
    expect(late.found).toBe(1);
    expect(late.delayIncipientMedianD).toBe(53);
    const tooLate = scoreAlarms([incipient], [alarm('leak_trend', T0 + 105 * D)], { dataStart: T0, dataEnd: END });
    expect(tooLate.found).toBe(0);
    expect(tooLate.missed).toBe(1);
    expect(tooLate.falseAlarms).toHaveLength(1);
  });

  it('does not count background leaks, and an alarm in a background leak\'s window is not false', () => {
    const r = scoreAlarms([background, abrupt], [alarm('new_leak', T0 + 3 * D)], { dataStart: T0, dataEnd: END });
    expect(r.leaks).toBe(1);
    expect(r.found).toBe(0);
    expect(r.backgroundAlarms).toBe(1);
    expect(r.falseAlarms).toHaveLength(0);
  });

  it('ignores alarm types that are not leak types, and matches areas when the log names them', () => {
    const inArea: TruthEvent = { id: 'hill', area: 'hill', kind: 'abrupt', start: T0 + 10 * D, end: T0 + 11 * D };
    const r = scoreAlarms([inArea], [
      alarm('pressure_drop', T0 + 10 * D + H), alarm('burst', T0 + 10 * D + H, 'valley'), alarm('burst', T0 + 10 * D + 2 * H, 'hill'),
    ], { dataStart: T0, dataEnd: END });
    expect(r.otherAlarms).toBe(1);
    expect(r.found).toBe(1);
    expect(r.events[0].foundBy?.dma).toBe('hill');
    expect(r.falseAlarms.map((a) => a.dma)).toEqual(['valley']);
  });

  it('gives an alarm to the earliest unfound leak when windows overlap, so a second alarm can find the second leak', () => {
    const second: TruthEvent = { ...abrupt, id: 'p3', pipe: 'p3', start: abrupt.start + D };
    const r = scoreAlarms([second, abrupt], [alarm('burst', abrupt.start + 2 * D), alarm('burst', abrupt.start + 3 * D)], { dataStart: T0, dataEnd: END });
    expect(r.events.map((s) => [s.event.id, s.found, s.delayMs])).toEqual([['p1', true, 2 * D], ['p3', true, 2 * D]]);
    expect(describeScore(r).at(-2)).toMatch(/^found 2 of 2 leaks, 0 false alarm\(s\)/);
  });

  it('reports a score with no find as read back from `analyze --json` (its NaN medians written as null): dashes, no error', () => {
    const r = scoreAlarms([abrupt], [], { dataStart: T0, dataEnd: END });
    const lines = describeScore(JSON.parse(JSON.stringify(r)));
    expect(lines.at(-2)).toMatch(/^found 0 of 1 leaks, .*median delay abrupt —, incipient —$/);
  });

  it('takes an alarm that estimates its leak\'s start as about the leak begun nearest it: a find, or a repeat of a found one', () => {
    // a slow leak growing for weeks, then an abrupt one: both windows hold the abrupt one's alarm
    const slow: TruthEvent = { id: 'slow', pipe: 'p4', kind: 'incipient', start: T0 + 60 * D, peak: T0 + 120 * D };
    const sudden: TruthEvent = { id: 'sudden', pipe: 'p5', kind: 'abrupt', start: T0 + 80 * D + 20 * H, end: T0 + 100 * D };
    const r = scoreAlarms([slow, sudden], [
      { ...alarm('abrupt_leak', T0 + 81 * D + 3 * H), estimatedStart: T0 + 80 * D + 21 * H },
      // the sudden leak's excess seen again later: its repeat, though the slow leak is not found yet
      { ...alarm('leak_trend', T0 + 84 * D), estimatedStart: T0 + 81 * D },
      { ...alarm('leak_trend', T0 + 88 * D), estimatedStart: T0 + 61 * D },
    ], { dataStart: T0, dataEnd: END });
    expect(r.events.map((s) => [s.event.id, s.delayMs, s.repeats])).toEqual([['slow', 28 * D, 0], ['sudden', 7 * H, 1]]);
    expect(describeScore(r)).toContainEqual(expect.stringMatching(/^FOUND +sudden .*abrupt_leak at 2019-03-23 03:00 \(estimated start 2019-03-22 21:00\), after 7\.0 h; 1 repeat\(s\); repair not seen: 2 alarm\(s\) still raised at the end of the data$/));
    // without an estimate the earliest-started takes it
    const plain = scoreAlarms([slow, sudden], [alarm('abrupt_leak', T0 + 81 * D + 3 * H)], { dataStart: T0, dataEnd: END });
    expect(plain.events.map((s) => s.found)).toEqual([true, false]);
  });
});

describe('retracted finds', () => {
  it('still counts a find whose alarm its detector retracted, and says so beside it and in the totals', () => {
    const sudden: TruthEvent = { id: 'sudden', pipe: 'p5', kind: 'abrupt', start: T0 + 80 * D + 20 * H, end: T0 + 100 * D };
    const r = scoreAlarms([sudden], [
      { ...alarm('abrupt_leak', T0 + 81 * D), estimatedStart: T0 + 80 * D + 21 * H, retractedAt: T0 + 81 * D + 5 * H },
    ], { dataStart: T0, dataEnd: END });
    expect([r.found, r.foundByRetracted]).toEqual([1, 1]);
    const lines = describeScore(r);
    expect(lines).toContainEqual(expect.stringMatching(/^FOUND +sudden .*, after 4\.0 h, retracted by its detector at 2019-03-23 05:00$/));
    expect(lines.at(-2)).toMatch(/^found 1 of 1 leaks \(1 by an alarm its detector later retracted\), 0 false alarm\(s\)/);
    // not retracted: nothing said
    const kept = scoreAlarms([sudden], [{ ...alarm('abrupt_leak', T0 + 81 * D), estimatedStart: T0 + 80 * D + 21 * H }], { dataStart: T0, dataEnd: END });
    expect(kept.foundByRetracted).toBe(0);
    expect(describeScore(kept).join('\n')).not.toMatch(/retracted/);
  });

  it('reads a retraction from the alarm\'s clear event in the alarm store', () => {
    const store = new AlarmStore(':memory:');
    const record = (id: string): AlarmRecord => ({
      id, conditionId: id.split('@')[0], type: 'abrupt_leak', priority: 'medium', state: 'active-unacknowledged', message: 'step',
      evidence: { confirmed: false }, conditionSince: T0, raisedAt: T0, secondaries: [], updatedAt: T0,
    });
    for (const [id, evidence] of [['a@retracted', { confirmed: false, retracted: true }], ['b@repaired', { repairTs: T0 + H }]] as const) {
      store.saveTransition(record(id), { kind: 'raise', fromState: null, toState: 'active-unacknowledged', user: 'system', eventTs: T0, wallTs: 0 });
      store.saveTransition(record(id), { kind: 'clear', fromState: 'active-unacknowledged', toState: 'cleared-unacknowledged', user: 'system', eventTs: T0 + 5 * H, wallTs: 0, data: { evidence } });
    }
    store.saveTransition(record('c@raised'), { kind: 'raise', fromState: null, toState: 'active-unacknowledged', user: 'system', eventTs: T0, wallTs: 0 });
    expect(['a@retracted', 'b@repaired', 'c@raised', 'd@unknown'].map((id) => retractedAtIn(store, id))).toEqual([T0 + 5 * H, undefined, undefined, undefined]);
    store.close();
  });
});

describe('repairs: what a found leak\'s alarms did about its end', () => {
  const repaired: TruthEvent = { id: 'p1', pipe: 'p1', kind: 'abrupt', start: T0 + 10 * D, end: T0 + 40 * D };
  const running: TruthEvent = { id: 'p2', pipe: 'p2', kind: 'abrupt', start: T0 + 100 * D };
  const cleared = (type: string, at: number, clearedAt?: number, retractedAt?: number): ScoredAlarm => ({ ...alarm(type, at), ...(clearedAt !== undefined ? { clearedAt } : {}), ...(retractedAt !== undefined ? { retractedAt } : {}) });

  it('a repair is seen when every alarm of the leak still raised at its end clears after it; the delay runs from the end to the last clear', () => {
    const r = scoreAlarms([repaired], [
      cleared('abrupt_leak', T0 + 10 * D + 3 * H, T0 + 41 * D + 5 * H),
      cleared('new_leak', T0 + 12 * D, T0 + 42 * D),
      // a report by day its night took back says nothing of the repair
      cleared('abrupt_leak', T0 + 11 * D, T0 + 11 * D + 5 * H, T0 + 11 * D + 5 * H),
    ], { dataStart: T0, dataEnd: END });
    expect(r.events[0].repair).toEqual({ ended: true, seen: true, seenAfterMs: 2 * D, leftOpen: 0, clearedWhileLeaking: 0 });
    expect(r.repairsEnded).toBe(1);
    expect(r.repairsSeen).toBe(1);
    expect(r.repairSeenMedianH).toBe(48);
    expect(describeScore(r)[0]).toContain('repair seen: cleared 2.0 d after its end');
  });

  it('an alarm still raised at the end of the data leaves the repair unseen; one cleared before the end is cleared while the leak ran', () => {
    const r = scoreAlarms([repaired, running], [
      cleared('abrupt_leak', T0 + 10 * D + 3 * H, T0 + 20 * D), // "repaired" 20 days before the crew did
      cleared('new_leak', T0 + 12 * D), // never cleared
      cleared('burst', T0 + 100 * D + H, T0 + 100 * D + 5 * H), // p2 runs on to the end of the data
    ], { dataStart: T0, dataEnd: END });
    expect(r.events.map((e) => e.repair)).toEqual([
      { ended: true, seen: false, leftOpen: 1, clearedWhileLeaking: 1 },
      { ended: false, seen: false, leftOpen: 0, clearedWhileLeaking: 1 },
    ]);
    expect([r.repairsEnded, r.repairsSeen, r.clearedWhileLeaking]).toEqual([1, 0, 2]);
    expect(Number.isNaN(r.repairSeenMedianH)).toBe(true);
    const lines = describeScore(r);
    expect(lines[0]).toContain('repair not seen: 1 alarm(s) still raised at the end of the data; 1 alarm(s) cleared while it still ran');
    expect(lines[1]).toContain('1 alarm(s) cleared while it still ran');
    expect(lines.at(-1)).toBe('repairs: 0 of 1 found leaks that ended were cleared after their end; 2 alarm(s) cleared while their leak still ran');
  });

  it('a leak whose alarms all cleared while it ran has no repair seen, and none left open', () => {
    const r = scoreAlarms([repaired], [cleared('abrupt_leak', T0 + 10 * D + 3 * H, T0 + 30 * D)], { dataStart: T0, dataEnd: END });
    expect(r.events[0].repair).toEqual({ ended: true, seen: false, leftOpen: 0, clearedWhileLeaking: 1 });
  });
});

describe('estimatedStartOf', () => {
  it('reads the detectors\' estimates and nothing else', () => {
    expect(estimatedStartOf({ estimatedStartTs: 5, estimatedStart: '1970-01-01T00:00:00.005Z' })).toBe(5);
    expect(estimatedStartOf({ estimatedStart: 7 })).toBe(7);
    expect(estimatedStartOf({ minimumAt: 7 })).toBeUndefined();
    expect(estimatedStartOf({ estimatedStart: '2019-01-01' })).toBeUndefined();
    expect(estimatedStartOf(undefined)).toBeUndefined();
  });
});

describe('parseTruth', () => {
  it('reads BattLeDIM\'s leaks.csv layout: pipe, times without offset in the given zone, ongoing, peak', () => {
    const events = parseTruth([
      'pipe,start,end,diameter_m,type,peak',
      'p523,2019-01-15 23:00,2019-02-01 09:50,0.020246,abrupt,2019-01-15 23:00',
      'p193,2019-05-19 10:40,ongoing,0.01239,incipient,2019-07-25 03:20',
    ].join('\n'), 'UTC');
    expect(events).toEqual([
      { id: 'p523@2019-01-15 23:00', pipe: 'p523', area: undefined, kind: 'abrupt', start: Date.UTC(2019, 0, 15, 23), end: Date.UTC(2019, 1, 1, 9, 50), peak: Date.UTC(2019, 0, 15, 23) },
      { id: 'p193@2019-05-19 10:40', pipe: 'p193', area: undefined, kind: 'incipient', start: Date.UTC(2019, 4, 19, 10, 40), end: undefined, peak: Date.UTC(2019, 6, 25, 3, 20) },
    ]);
  });

  it('reads an area log in the site\'s zone and names every bad line', () => {
    const [e] = parseTruth('area,start,end,type\nhill,2024-05-01T08:00,,burst\n', 'Asia/Shanghai');
    expect(e).toMatchObject({ area: 'hill', kind: 'abrupt', start: Date.UTC(2024, 4, 1, 0) });
    expect(() => parseTruth('area,start,end,type\nhill,yesterday,,burst\n,2024-05-01T08:00,,slow\n', 'UTC')).toThrow(TruthFileError);
    try {
      parseTruth('area,start,end,type\nhill,yesterday,,burst\n,2024-05-01T08:00,,slow\n', 'UTC');
    } catch (e) {
      expect((e as TruthFileError).problems).toEqual([
        expect.stringMatching(/^line 2: start: /),
        'line 3: type: "slow" is not abrupt, burst or incipient',
        'line 3: names neither an area nor a pipe',
      ]);
    }
    expect(() => parseTruth('when,what\n1,2\n', 'UTC')).toThrow(/no column 'start'; no column 'type'; no column 'area' or 'pipe'/);
  });
});

describe('pipes placed by the network model', () => {
  const leak = (pipe: string): TruthEvent => ({ id: pipe, pipe, kind: 'abrupt', start: T0 + 10 * D, end: T0 + 11 * D });
  const pipeAreas = new Map<string, string | undefined>([['p-hill', 'hill'], ['p-border', undefined]]);

  it('an alarm finds a pipe\'s leak only in the pipe\'s area; a border pipe and an unknown pipe match every area, the unknown one reported', () => {
    const r = scoreAlarms([leak('p-hill'), leak('p-border'), leak('p-nowhere')], [
      alarm('burst', T0 + 10 * D + H, 'valley'), alarm('burst', T0 + 10 * D + 2 * H, 'valley'), alarm('burst', T0 + 10 * D + 3 * H, 'hill'),
    ], { dataStart: T0, dataEnd: END, pipeAreas });
    expect(r.events.map((s) => [s.event.id, s.area, s.foundBy?.dma])).toEqual([
      ['p-hill', 'hill', 'hill'], ['p-border', undefined, 'valley'], ['p-nowhere', undefined, 'valley'],
    ]);
    expect(r.unknownPipes).toEqual(['p-nowhere']);
    expect(describeScore(r)).toContainEqual(expect.stringMatching(/^UNKNOWN PIPE p-nowhere: not in the network model/));
    // without a model every pipe matches every area and none is reported
    expect(scoreAlarms([leak('p-hill')], [alarm('burst', T0 + 10 * D + H, 'valley')], { dataStart: T0, dataEnd: END }).found).toBe(1);
  });
});
