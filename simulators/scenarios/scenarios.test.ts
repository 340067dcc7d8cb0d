/**
 * The scenario format: the shipped suite is valid and covers every event type; a file that does not
 * fit is refused with the line and the reason; the committed JSON schema matches the zod schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCity } from '../city/index.ts';
import { parseDuration, parseScenario, readScenarioFile, ScenarioError } from './load.ts';
import { resolveScenario } from './resolve.ts';
import { EVENT_TYPES } from './schema.ts';
import { SCHEMA_FILE, schemaText } from './generate-schema.ts';

const suiteDir = fileURLToPath(new URL('./suite/', import.meta.url));
const suite = readdirSync(suiteDir).filter((f) => f.endsWith('.yaml')).sort();

/** The error a scenario text gets, resolved against its city. */
function errorOf(text: string): ScenarioError {
  try {
    const parsed = parseScenario(text, 'bad.yaml');
    resolveScenario(parsed, loadCity(parsed.scenario.city), { now: Date.parse('2024-05-06T00:00:00Z') });
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

const header = `city: demo
start: 2024-05-06T00:00:00+08:00
duration: 2d
interval: 1m
seed: 1
`;

describe('the scenario suite', () => {
  it('has every file valid against its city, with ground truth for every event', () => {
    const types = new Set<string>();
    for (const file of suite) {
      const parsed = readScenarioFile(`${suiteDir}${file}`);
      const run = resolveScenario(parsed, loadCity(parsed.scenario.city));
      expect(run.groundTruth.length, file).toBe(parsed.scenario.events.length);
      for (const e of parsed.scenario.events) types.add(e.type);
      for (const t of run.groundTruth) {
        expect(t.start, `${file} ${t.id}`).toBeGreaterThanOrEqual(run.start);
        expect(t.expect.alarm, `${file} ${t.id}`).toBeTypeOf('string');
      }
    }
    expect([...types].sort()).toEqual([...EVENT_TYPES].sort());
    expect(suite).toEqual(expect.arrayContaining(['quiet-week.yaml', 'demo.yaml']));
  });

  it('has an event-free week and a demo whose three events begin in the last 20 minutes of its 7-day backfill and go on past it', () => {
    const quiet = readScenarioFile(`${suiteDir}quiet-week.yaml`);
    expect(quiet.scenario.events).toEqual([]);
    expect(parseDuration(quiet.scenario.duration)).toBe(7 * 86_400_000);
    const now = Date.parse('2024-06-01T08:00:30Z');
    const demo = resolveScenario(readScenarioFile(`${suiteDir}demo.yaml`), loadCity('demo'), { now });
    expect(demo.end).toBeUndefined();
    expect(now - demo.start).toBeGreaterThanOrEqual(7 * 86_400_000);
    expect(now - demo.start).toBeLessThan(7 * 86_400_000 + 60_000);
    expect(demo.groundTruth.map((t) => t.type).sort()).toEqual(['burst', 'planned_outage', 'quality_chlorine_low']);
    // in progress when the backfill has caught up: a newcomer sees them at once, and the dashboard's
    // browser test need not wait minutes of real time for them
    for (const t of demo.groundTruth) {
      expect(t.start, t.id).toBeLessThan(now);
      expect(now - t.start, t.id).toBeLessThanOrEqual(21 * 60_000); // (the start is now-7d rounded down to the minute)
      expect(t.end, t.id).toBeGreaterThan(now + 15 * 60_000);
    }
  });
});

describe('the city a scenario names', () => {
  it('may be generator parameters, resolved against the generated city', () => {
    const parsed = parseScenario(`${header.replace('city: demo', 'city: { generate: { seed: 4, dmas: 3, junctions: 200 } }')}events:\n  - { type: burst, at: 1d, dma: dma-001, flow: 2 }\n`, 'gen.yaml');
    const run = resolveScenario(parsed, loadCity(parsed.scenario.city));
    expect(run.city).toBe('city-4-3-200');
    expect(run.groundTruth[0]).toMatchObject({ type: 'burst', dma: 'dma-001' });
    expect(() => resolveScenario(parsed, loadCity('demo'))).toThrow(/names city city-4-3-200, but the simulation was given demo/);
  });
});

describe('a scenario that does not fit', () => {
  it('names the line and the reason for a bad value', () => {
    const e = errorOf(`${header}events:
  - type: burst
    at: 1d
    junction: n383
    flow: -5
`);
    expect(e.message).toMatch(/^bad\.yaml:10:11: events\[0\]\.flow: Too small: expected number to be >0/);
    expect(e.problems[0].line).toBe(10);
  });

  it('names the line of an unknown key, of a missing field, of a bad duration', () => {
    const e = errorOf(`city: demo
start: 2024-05-06T00:00:00+08:00
duration: 2 days
interval: 1m
events:
  - type: pump_trip
    at: 1d
    pump: PUMP_1
    colour: red
`);
    expect(e.problems.map((p) => [p.line, p.col, p.path])).toEqual([
      [1, 1, 'seed'], // missing: the document it belongs to
      [3, 11, 'duration'],
      [9, 5, 'events[0].colour'],
    ]);
    expect(e.message).toContain('bad.yaml:9:5: events[0].colour: unknown key');
    expect(e.message).toContain('bad.yaml:3:11: duration: ');
    expect(e.message).toContain('seed: is required');
  });

  it('names the line of an unknown event type', () => {
    const e = errorOf(`${header}events:
  - type: flood
    at: 1d
`);
    expect(e.message).toMatch(/^bad\.yaml:7:\d+: events\[0\]\.type: .*burst/);
  });

  it('names the line of a junction, DMA or sensor the city does not have', () => {
    const e = errorOf(`${header}events:
  - { type: burst, at: 1d, junction: n9999, flow: 10 }
  - type: sensor_stale
    at: 1d
    sensor: P-nowhere
  - { type: valve_closure, at: 1d, dma: downtown }
`);
    expect(e.problems.map((p) => [p.line, p.message])).toEqual([
      [7, 'unknown junction n9999 in city demo'],
      [10, 'unknown sensor P-nowhere in city demo'],
      [11, 'unknown DMA downtown (demo has hill, west, central, east, south)'],
    ]);
  });

  it('names the line of a rule between fields and of an event outside the run', () => {
    const e = errorOf(`${header}events:
  - type: burst
    at: 3d
    junction: n383
    dma: central
    flow: 10
`);
    expect(e.problems.map((p) => `${p.line} ${p.path}: ${p.message}`)).toEqual(expect.arrayContaining([
      '9 events[0].junction: needs exactly one of junction, dma',
    ]));
    const late = errorOf(`${header}events:
  - { type: pump_trip, at: 3d, pump: PUMP_1 }
`);
    expect(late.message).toMatch(/bad\.yaml:7:\d+: events\[0\]\.at: is after the scenario ends/);
  });

  it('names the line of a YAML syntax error', () => {
    const e = errorOf(`${header}events:
  - type: burst
     at: 1d
`);
    expect(e.problems[0].line).toBe(7);
    expect(e.message).toMatch(/^bad\.yaml:7:\d+: YAML: Nested mappings are not allowed/);
  });
});

describe('times and durations', () => {
  it('reads durations and relative starts', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    const now = Date.parse('2024-06-01T08:00:30Z');
    const run = resolveScenario(parseScenario(header.replace('2024-05-06T00:00:00+08:00', 'now-1d'), 'x.yaml'), loadCity('demo'), { now });
    expect(run.start).toBe(Date.parse('2024-05-31T08:00:00Z')); // rounded down to the interval
    expect(run.end).toBe(run.start + 2 * 86_400_000);
    expect(run.timezone).toBe('Asia/Shanghai');
  });
});

describe('the JSON schema', () => {
  it('is up to date with the zod schema (regenerate with npx tsx simulators/scenarios/generate-schema.ts)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText());
    const schema = JSON.parse(schemaText());
    expect(schema.required).toEqual(expect.arrayContaining(['city', 'start', 'duration', 'interval', 'seed']));
    const types = schema.properties.events.items.oneOf.map((o: { properties: { type: { const: string } } }) => o.properties.type.const);
    expect(types.sort()).toEqual([...EVENT_TYPES].sort());
  });
});
