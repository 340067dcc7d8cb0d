/** The alarm manager's input checks: a refused condition or operator action names its field. */
import type { Condition as IncomingCondition } from '../../core/bus/messages/condition.ts';
import { renderAlarmText } from '../../core/messages/alarm-texts.ts';
import { DomainError, type DomainErrorCode } from '../../core/errors.ts';
import { ALARM_PRIORITIES, type AlarmPriority } from '../../core/state/alarm-store.ts';

/** A refused operator action (unknown alarm, wrong state, missing reason); the message names the field. */
export class AlarmError extends DomainError {
  constructor(message: string, code: DomainErrorCode = 'validation') {
    super(code, message);
    this.name = 'AlarmError';
  }
}

export function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new AlarmError(`${field}: must be a non-empty string`);
  return value;
}

/** A condition as the manager keeps it: with its English message (rendered from its text when it has one). */
export type Condition = IncomingCondition & { message: string };

/** Check a condition's fields, naming the first that is wrong. */
export function validateCondition(c: unknown): Condition {
  if (typeof c !== 'object' || c === null) throw new AlarmError('condition: must be an object');
  const x = c as Record<string, unknown>;
  requireText(x.id, 'condition.id');
  requireText(x.type, 'condition.type');
  if (x.state !== 'raise' && x.state !== 'update' && x.state !== 'clear') throw new AlarmError(`condition.state: must be raise, update or clear (got ${JSON.stringify(x.state)})`);
  if (typeof x.ts !== 'number' || !Number.isFinite(x.ts)) throw new AlarmError('condition.ts: must be a finite number of ms');
  if (x.priority !== undefined && !ALARM_PRIORITIES.includes(x.priority as AlarmPriority)) {
    throw new AlarmError(`condition.priority: must be one of ${ALARM_PRIORITIES.join(', ')} (got ${JSON.stringify(x.priority)})`);
  }
  const text = x.text as { code?: unknown; params?: unknown } | undefined;
  if (text !== undefined && (typeof text !== 'object' || text === null || typeof text.code !== 'string' || typeof text.params !== 'object' || text.params === null)) {
    throw new AlarmError('condition.text: must be { code, params }');
  }
  if (x.message !== undefined && typeof x.message !== 'string') throw new AlarmError('condition.message: must be a string');
  if (text === undefined && x.message === undefined) throw new AlarmError('condition.message: a condition needs a message or a text');
  if (x.message === undefined) return { ...x, message: renderAlarmText(x.text as IncomingCondition['text'] & object, 'en') } as unknown as Condition;
  if (x.evidence !== undefined && (typeof x.evidence !== 'object' || x.evidence === null)) throw new AlarmError('condition.evidence: must be an object');
  return x as unknown as Condition;
}
