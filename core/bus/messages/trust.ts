/**
 * What a consumer of the bus (the analytics worker, the dashboard's live gateway) accepts from it.
 * The broker's ACLs (core/bus/broker-auth.ts) keep devices off the platform's topics; these checks
 * are the second line: a message that does not have its topic's shape, a condition id outside the
 * namespaces its publisher owns, or a time further in the future than the clock skew the platform
 * allows is dropped and counted by reason (never handed on).
 */

/** Why a bus message (or, for `future`, one reading of it) was dropped. */
export type BusDropReason =
  /** Not JSON, or not UTF-8 text. */
  | 'undecodable'
  /** JSON, but not the message of its topic (missing or extra fields, wrong types, bad ids). */
  | 'shape'
  /** A condition whose id or type is outside the namespaces its publisher may use. */
  | 'namespace'
  /** A time further ahead of the consumer's clock than the allowed skew (one count per reading). */
  | 'future';

export const BUS_DROP_REASONS: readonly BusDropReason[] = ['undecodable', 'shape', 'namespace', 'future'];

export type BusDropCounts = Record<BusDropReason, number>;

export function emptyDropCounts(): BusDropCounts {
  return { undecodable: 0, shape: 0, namespace: 0, future: 0 };
}

/** The consumer's clock and how far ahead of it a message's time may be (ingest.maxFutureMs). */
export interface BusClock {
  now: () => number;
  maxFutureMs: number;
}

/** The publisher a per-publisher topic names: its last level (`aquawatch/v1/status/<source>`). */
export function publisherOf(topic: string): string {
  return topic.slice(topic.lastIndexOf('/') + 1);
}

/** A message refused as a whole. */
export interface BusRefusal { ok: false; reason: BusDropReason; detail: string }

/** JSON.parse of a payload that must be a JSON object. */
export function parseJsonObject(payload: Buffer | string): { ok: true; value: unknown } | BusRefusal {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch (e) {
    return { ok: false, reason: 'undecodable', detail: (e as Error).message };
  }
  return { ok: true, value };
}

/** The zod issues of a refused message, short enough for a log line. */
export function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(message)'}: ${i.message}`).join('; ');
}
