/**
 * The condition message (topics.ts `conditionTopic`): something that should become (or stop being)
 * an alarm. Ingest publishes its own on the bus; analytics detectors return the same shape to the
 * alarm manager in process.
 */
import { z } from 'zod';
import { ALARM_PRIORITIES, type AlarmPriority } from '../../state/alarm-store.ts';
import { describeIssues, parseJsonObject, publisherOf, type BusClock, type BusRefusal } from './trust.ts';
import type { AlarmText } from '../../messages/alarm-texts.ts';
import { ingestConditionText } from '../../messages/ingest-texts.ts';

export interface Condition {
  /** Stable id of the condition instance, e.g. `ingest.outbox_full` or `opcua.session_lost:plant1`. */
  id: string;
  type: string;
  state: 'raise' | 'update' | 'clear';
  /** Event time of the transition, ms. */
  ts: number;
  priority?: 'low' | 'medium' | 'high' | 'critical';
  site?: string;
  dma?: string;
  sensor?: string;
  /**
   * What it is, for people: `text` (a code of core/messages/alarm-texts.ts and its parameters,
   * rendered in each reader's language) or, from a source without codes yet, an English `message`.
   */
  message?: string;
  text?: AlarmText;
  evidence?: Record<string, unknown>;
}

/**
 * Per publisher (the last level of `aquawatch/v1/conditions/<origin>`), the prefixes its condition
 * ids and types must start with. Only ingest publishes conditions on the bus; detector conditions
 * (`burst:DMA_C`, `pressure_low:P-1`) never travel there, so a message naming one is forged.
 */
export const BUS_CONDITION_NAMESPACES: Readonly<Record<string, { ids: readonly string[]; types: readonly string[] }>> = {
  ingest: {
    ids: ['ingest.', 'opcua.', 'mqtt.', 'sparkplug.', 'pda.', 'csv.'],
    types: ['ingest.', 'source.', 'opcua.', 'mqtt.', 'sparkplug.', 'pda.', 'csv.'],
  },
};

const topologyId = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/);

/** A condition as it may travel on the bus: no topic wildcards or separators where a topic is built from it. */
export const busConditionSchema = z.object({
  id: z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  type: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.]+$/),
  state: z.enum(['raise', 'update', 'clear']),
  ts: z.number().int(),
  priority: z.enum(ALARM_PRIORITIES as [AlarmPriority, ...AlarmPriority[]]).optional(),
  site: topologyId.optional(),
  dma: topologyId.optional(),
  sensor: topologyId.optional(),
  message: z.string().max(2000),
  evidence: z.record(z.string(), z.unknown()).optional(),
}).strict();

/**
 * A condition from the bus topic `topic`, checked: its shape, the namespace its publisher (the
 * topic's last level) owns, and a time no further than the allowed skew ahead of `clock.now()`.
 */
export function checkBusCondition(topic: string, payload: Buffer | string, clock: BusClock): { ok: true; condition: Condition } | BusRefusal {
  const json = parseJsonObject(payload);
  if (!json.ok) return json;
  const parsed = busConditionSchema.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: 'shape', detail: describeIssues(parsed.error.issues) };
  return checkPublished(topic, parsed.data, clock);
}

/** The namespaces of the publisher a topic's last level names, or why there is none. */
function namespacesOf(topic: string): { origin: string; ns: { ids: readonly string[]; types: readonly string[] } } | BusRefusal {
  const origin = publisherOf(topic);
  const ns = Object.hasOwn(BUS_CONDITION_NAMESPACES, origin) ? BUS_CONDITION_NAMESPACES[origin] : undefined;
  return ns ? { origin, ns } : { ok: false, reason: 'namespace', detail: `${topic}: no publisher ${origin} of conditions` };
}

/** One condition of the publisher `topic` names: its namespaces, its time; its text in every language. */
function checkPublished(topic: string, c: z.infer<typeof busConditionSchema>, clock: BusClock): { ok: true; condition: Condition } | BusRefusal {
  const of = namespacesOf(topic);
  if ('ok' in of) return of;
  const { origin, ns } = of;
  if (!ns.ids.some((p) => c.id.startsWith(p))) return { ok: false, reason: 'namespace', detail: `id ${c.id} is not in ${origin}'s namespaces (${ns.ids.join(' ')})` };
  if (!ns.types.some((p) => c.type.startsWith(p))) return { ok: false, reason: 'namespace', detail: `type ${c.type} is not in ${origin}'s namespaces (${ns.types.join(' ')})` };
  const ahead = c.ts - clock.now();
  if (ahead > clock.maxFutureMs) return { ok: false, reason: 'future', detail: `${Math.round(ahead / 1000)} s in the future (limit ${Math.round(clock.maxFutureMs / 1000)} s)` };
  // ingest sends English messages: the text in every reader's language comes from what was checked
  const text = ingestConditionText(c);
  return { ok: true, condition: text ? { ...c, text } : c };
}

/** Most conditions one active-conditions message lists: beyond it the list says it is not complete. */
export const ACTIVE_CONDITIONS_LISTED = 200;

/**
 * The conditions a publisher holds active (topics.ts `activeConditionsTopic`, retained): `complete`
 * false when it holds more than it lists, so a reader may raise from it but not clear by absence.
 */
export interface ActiveConditions {
  ts: number;
  complete: boolean;
  conditions: Condition[];
}

const activeConditionsSchema = z.object({
  ts: z.number().int(),
  complete: z.boolean(),
  conditions: z.array(busConditionSchema).max(ACTIVE_CONDITIONS_LISTED),
}).strict();

/** The publisher's namespaces, for a reader clearing what the list no longer holds. */
export function conditionNamespacesOf(topic: string): readonly string[] {
  const of = namespacesOf(topic);
  return 'ok' in of ? [] : of.ns.ids;
}

/**
 * An active-conditions message from `topic`, checked whole: its shape, and every condition as
 * checkBusCondition checks one (a single forged or future condition refuses the message, which a
 * reader would otherwise take as the publisher's whole state).
 */
export function checkActiveConditions(topic: string, payload: Buffer | string, clock: BusClock): { ok: true; active: ActiveConditions } | BusRefusal {
  const publisher = namespacesOf(topic);
  if ('ok' in publisher) return publisher;
  const json = parseJsonObject(payload);
  if (!json.ok) return json;
  const parsed = activeConditionsSchema.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: 'shape', detail: describeIssues(parsed.error.issues) };
  const conditions: Condition[] = [];
  for (const c of parsed.data.conditions) {
    if (c.state === 'clear') return { ok: false, reason: 'shape', detail: `conditions: ${c.id} is a clear, not an active condition` };
    const checked = checkPublished(topic, c, clock);
    if (!checked.ok) return checked;
    conditions.push(checked.condition);
  }
  const ahead = parsed.data.ts - clock.now();
  if (ahead > clock.maxFutureMs) return { ok: false, reason: 'future', detail: `${Math.round(ahead / 1000)} s in the future (limit ${Math.round(clock.maxFutureMs / 1000)} s)` };
  return { ok: true, active: { ts: parsed.data.ts, complete: parsed.data.complete, conditions } };
}
