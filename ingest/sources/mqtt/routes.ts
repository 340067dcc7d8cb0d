/**
 * Which topic pattern decodes a message: the first that matches, in configuration order, with the
 * sensor the topic names (a `{sensor}` level, or a sensor whose source.topic it is). The source uses
 * it for live messages; `letterDecoder` for its dead letters, when they are replayed
 * (`aquawatch dead-letters replay`, ingest/pipeline/replay.ts) after the topology was fixed.
 */
import type { Topology } from '../../../core/topology/topology.ts';
import type { MqttAddress, MqttSourceConfig } from './config.ts';
import { compilePattern, matchTopic, type CompiledPattern } from './topic-pattern.ts';
import { PayloadDecoder, originTopic, type DecodeProblem } from './decode.ts';
import type { RawReading } from '../../../core/model/reading.ts';

/** Problems of one message spelled out in its dead letter; the rest are counted. */
const PROBLEMS_SHOWN = 20;
/** The reason of a message on a topic no pattern matches. */
export const UNMATCHED_TOPIC = 'topic: matches none of the configured topic patterns';

export interface Route {
  pattern: CompiledPattern;
  decoder: PayloadDecoder;
}

/** The source's topic patterns compiled (throws naming the key of a bad one). */
export function compilePatterns(config: MqttSourceConfig): CompiledPattern[] {
  return config.topics.map((t, i) => {
    const field = `sources.mqtt[${config.name}].topics[${i}]`;
    const pattern = compilePattern(t.pattern, `${field}.pattern`);
    if (t.format === 'number' && !pattern.capturesSensor && t.sensorPath) {
      throw new Error(`${field}.sensorPath: a plain number payload has no fields; name the sensor with {sensor} or sensor.source.topic`);
    }
    return pattern;
  });
}

/** `now`: the arrival time, for payloads that carry no time of their own. */
export function buildRoutes(config: MqttSourceConfig, patterns: readonly CompiledPattern[], topology: Topology, now: () => number): Route[] {
  return config.topics.map((t, i) => ({ pattern: patterns[i], decoder: new PayloadDecoder(t, topology, now) }));
}

/** The route of a topic and the sensor the topic names, or undefined when no pattern matches. */
export function routeOf(routes: readonly Route[], topology: Topology, topic: string): { route: Route; topicSensor?: string } | undefined {
  for (const route of routes) {
    const captures = matchTopic(route.pattern, topic);
    if (!captures) continue;
    const topicSensor = captures.sensor ?? topology.sensorsByAddress('mqtt', (a) => (a as unknown as MqttAddress).topic).get(topic)?.id;
    return { route, topicSensor };
  }
  return undefined;
}

/**
 * The dead letter of a message with problems: one per message, whatever the number of bad elements
 * in it (a message of N bad elements must not cost N commits and N copies of its payload).
 */
export function oneRejection(topic: string, problems: readonly DecodeProblem[]): { origin: string; reason: string } {
  if (problems.length === 1) return { origin: problems[0].origin, reason: problems[0].reason };
  // An element's origin is `<topic>[i]`: the topic is said once, as the dead letter's origin.
  const shown = problems.slice(0, PROBLEMS_SHOWN).map((p) => `${p.origin.startsWith(topic) ? p.origin.slice(topic.length) : p.origin} ${p.reason}`.trimStart());
  const more = problems.length > PROBLEMS_SHOWN ? `; and ${problems.length - PROBLEMS_SHOWN} more` : '';
  return { origin: topic, reason: `${problems.length} problems: ${shown.join('; ')}${more}` };
}

/**
 * Decodes a dead letter of this source again, with today's topology and patterns: its origin is
 * the topic (`topic[i]` when one element of an array was at fault), its raw input the payload, and
 * its arrival time the time it was rejected.
 */
export function letterDecoder(config: MqttSourceConfig, topology: Topology): (letter: { origin: string; raw: string; at: number }) => { readings: RawReading[]; rejection?: string } {
  let arrival = 0;
  const routes = buildRoutes(config, compilePatterns(config), topology, () => arrival);
  return (letter) => {
    const topic = originTopic(letter.origin);
    const found = routeOf(routes, topology, topic);
    if (!found) return { readings: [], rejection: UNMATCHED_TOPIC };
    arrival = letter.at;
    const { readings, problems } = found.route.decoder.decode({ topic, payload: Buffer.from(letter.raw), topicSensor: found.topicSensor });
    return problems.length ? { readings, rejection: oneRejection(topic, problems).reason } : { readings };
  };
}
