/**
 * The scenario file format, as a zod schema. It checks the shape of the file only; names of junctions,
 * DMAs and sensors are checked against the city in resolve.ts. scenario.schema.json is generated from
 * this schema (generate-schema.ts) and a test keeps the two in step.
 *
 * Times: `start` is ISO 8601 with an offset (2024-05-06T00:00:00+08:00) or relative to now (`now`,
 * `now-7d`); an event's `at` is an offset from the start (`2d6h`) or an ISO 8601 instant.
 * Durations are written 90s, 5m, 2h, 7d, 1w or combined (1h30m).
 */
import { z } from 'zod';

export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h|d|w))+$';
export const duration = z.string()
  .regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 90s, 5m, 2h, 7d or 1h30m')
  .describe('A duration: a number and a unit (ms, s, m, h, d, w), repeated: 90s, 5m, 1h30m, 7d.');

const ISO_INSTANT = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$';
export const START_PATTERN = `^now([+-](\\d+(\\.\\d+)?(ms|s|m|h|d|w))+)?$|${ISO_INSTANT}`;
const start = z.string()
  .regex(new RegExp(START_PATTERN), 'must be an ISO 8601 time with an offset (2024-05-06T00:00:00+08:00) or now, now-7d, now+1h')
  .describe('When simulated time begins: ISO 8601 with an offset, or relative to the moment the scenario is loaded (now, now-7d).');

export const AT_PATTERN = `${DURATION_PATTERN}|${ISO_INSTANT}`;
const at = z.string()
  .regex(new RegExp(AT_PATTERN), 'must be an offset from the start (2d6h) or an ISO 8601 time with an offset')
  .describe('When the event begins: an offset from the scenario start (2d6h) or an ISO 8601 instant.');

const elementId = z.string().min(1).max(64);
const sensorId = z.string().min(1).max(128);

/** Fields every event has. */
const common = {
  id: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only').optional()
    .describe('Names the event in ground truth; default <type>-<n>.'),
  at,
  duration: duration.optional().describe('How long the condition lasts; without it, until the run ends.'),
  note: z.string().optional().describe('Free text for people reading the file.'),
};

/** A refinement: exactly one of `keys` is given (the error points at the first key). */
function oneOf<T extends Record<string, unknown>>(keys: (keyof T & string)[]): [(v: T) => boolean, { message: string; path: PropertyKey[] }] {
  return [
    (v: T) => keys.filter((k) => v[k] !== undefined).length === 1,
    { message: `needs exactly one of ${keys.join(', ')}`, path: [keys[0]] },
  ];
}

const burst = z.object({
  type: z.literal('burst'),
  ...common,
  junction: elementId.optional().describe('Junction of the burst; or give dma and one is picked with the seed.'),
  dma: elementId.optional(),
  flow: z.number().positive().max(10_000).describe('Outflow at the pressure before the burst, m³/h.'),
}).strict().refine(...oneOf<{ junction?: string; dma?: string }>(['junction', 'dma']));

const leak = z.object({
  type: z.literal('leak'),
  ...common,
  junction: elementId.optional(),
  dma: elementId.optional(),
  flow: z.number().positive().max(10_000).describe('Outflow when fully grown, m³/h.'),
  growth: duration.optional().describe('Time from nothing to full size (an incipient leak); default 3d.'),
}).strict().refine(...oneOf<{ junction?: string; dma?: string }>(['junction', 'dma']));

const pumpTrip = z.object({
  type: z.literal('pump_trip'),
  ...common,
  pump: elementId.describe('Pump link id.'),
}).strict();

const valveClosure = z.object({
  type: z.literal('valve_closure'),
  ...common,
  links: z.array(elementId).min(1).optional().describe('Valves or pipes closed.'),
  dma: elementId.optional().describe('Close every boundary link of this DMA (isolate it).'),
  notice: duration.optional().describe('A planned outage: customers were told this long before it starts (≥ 24 h is the rule).'),
  cause: z.string().optional().describe('Outage cause code, e.g. maintenance, repair.'),
}).strict().refine(...oneOf<{ links?: string[]; dma?: string }>(['links', 'dma']));

const tankDrain = z.object({
  type: z.literal('tank_drain'),
  ...common,
  tank: elementId,
  rate: z.number().positive().max(100).describe('Fall of the level, m/h, while the event lasts.'),
  floor: z.number().min(0).optional().describe('Lowest level it is driven to, m; default the tank minimum.'),
}).strict();

const chlorineLow = z.object({
  type: z.literal('quality_chlorine_low'),
  ...common,
  source: elementId.optional().describe('A reservoir whose outgoing chlorine drops to `level`.'),
  dma: elementId.optional().describe('A DMA whose pipes consume chlorine faster (× decayFactor).'),
  level: z.number().min(0).max(5).optional().describe('Chlorine at the source during the event, mg/L (with source).'),
  decayFactor: z.number().min(1).max(1000).optional().describe('Bulk decay multiplier in the DMA (with dma); default 40.'),
}).strict()
  .refine(...oneOf<{ source?: string; dma?: string }>(['source', 'dma']))
  .refine((v) => v.source === undefined || v.level !== undefined, { message: 'a source event needs level (mg/L)', path: ['level'] });

const turbidityHigh = z.object({
  type: z.literal('quality_turbidity_high'),
  ...common,
  site: elementId.optional().describe('A plant: its outlet turbidity rises.'),
  dma: elementId.optional().describe('A DMA: its monitors see the rise.'),
  sensor: sensorId.optional().describe('One turbidity sensor.'),
  ntu: z.number().positive().max(4000).describe('Peak turbidity, NTU.'),
  ramp: duration.optional().describe('Time to rise to the peak (and to fall back); default 10m.'),
}).strict().refine(...oneOf<{ site?: string; dma?: string; sensor?: string }>(['site', 'dma', 'sensor']));

const sensorFault = (type: 'sensor_stale' | 'sensor_flatline') => z.object({
  type: z.literal(type),
  ...common,
  sensor: sensorId,
}).strict();

const sensorSpike = z.object({
  type: z.literal('sensor_spike'),
  ...common,
  sensor: sensorId,
  factor: z.number().optional().describe('The spiked value is the true value × factor; default 3.'),
  value: z.number().optional().describe('Or a fixed value, in the sensor unit.'),
  count: z.number().int().min(1).max(1000).optional().describe('Samples spiked; default 1.'),
}).strict();

const sensorDrift = z.object({
  type: z.literal('sensor_drift'),
  ...common,
  sensor: sensorId,
  ratePerDay: z.number().describe('Offset added per day, in the sensor unit.'),
}).strict();

const commsLoss = z.object({
  type: z.literal('comms_loss'),
  ...common,
  site: elementId.optional().describe('Every sensor of a site (a plant: its OPC UA server goes quiet).'),
  dma: elementId.optional().describe('Every logger and monitor in a DMA.'),
  sensors: z.array(sensorId).min(1).optional(),
  edgeNode: elementId.optional().describe('A Sparkplug edge node (its group is the city).'),
}).strict().refine(...oneOf<{ site?: string; dma?: string; sensors?: string[]; edgeNode?: string }>(['site', 'dma', 'sensors', 'edgeNode']));

export const eventSchema = z.discriminatedUnion('type', [
  burst, leak, pumpTrip, valveClosure, tankDrain, chlorineLow, turbidityHigh,
  sensorFault('sensor_stale'), sensorFault('sensor_flatline'), sensorSpike, sensorDrift, commsLoss,
]);

export const EVENT_TYPES = [
  'burst', 'leak', 'pump_trip', 'valve_closure', 'tank_drain', 'quality_chlorine_low', 'quality_turbidity_high',
  'sensor_stale', 'sensor_flatline', 'sensor_spike', 'sensor_drift', 'comms_loss',
] as const;

export const scenarioSchema = z.object({
  name: z.string().optional(),
  description: z.string().optional(),
  city: z.union([
    z.string().min(1).describe('demo (the generated demo town), large (the generated large city), ltown or net1 '
      + '(from the reference data folder), or the path of an .inp file (relative to the scenario file; one DMA over the network).'),
    z.object({
      generate: z.object({
        seed: z.number().int().min(0).max(2 ** 32 - 1),
        dmas: z.number().int().min(3),
        junctions: z.number().int().min(1),
      }).strict().describe('A city from the generator (simulators/city/generator): the same parameters give the same city.'),
    }).strict(),
  ]).describe('The simulated city (network and topology).'),
  start,
  duration: z.union([duration, z.literal('open')]).describe('How long to run; open runs until stopped.'),
  interval: duration.describe('Sample interval: every sensor is sampled once per interval.'),
  seed: z.number().int().min(0).max(2 ** 32 - 1).describe('Random seed: the same scenario and seed give the same readings.'),
  timezone: z.string().optional().describe('IANA zone of local time for demand; default the city\'s.'),
  noise: z.number().min(0).max(10).optional().describe('Scale of all noise (sensors and demand); 0 gives exact model values. Default 1.'),
  meterInterval: duration.optional().describe('How often customer meter registers are emitted (SimStep.meters); default 15m.'),
  warmup: duration.optional().describe('Simulated time run before the start so tanks and chlorine settle; default 24h.'),
  events: z.array(eventSchema).default([]),
}).strict();

export type ScenarioFile = z.infer<typeof scenarioSchema>;
export type ScenarioEvent = z.infer<typeof eventSchema>;
export type EventType = ScenarioEvent['type'];

/** JSON Schema of the file (the input side: defaults are optional there). */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'aquawatch simulator scenario',
    description: 'A simulated run: the city, when, how often to sample, a seed, and events with where and when. '
      + 'Generated from simulators/scenarios/schema.ts; do not edit by hand.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
