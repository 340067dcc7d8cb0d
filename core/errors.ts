/**
 * A refusal by a domain store or service (alarm manager, outage register, users, work orders), with
 * a code saying what kind of refusal it is. Callers decide by the code, never by the message: the
 * dashboard API turns the code into an HTTP status (dashboard/contract ERROR_STATUS).
 */
export type DomainErrorCode = 'validation' | 'not_found' | 'conflict';

export class DomainError extends Error {
  /**
   * `field` is the path of the input the refusal is about, when there is one; `rule` a stable code
   * of the rule it broke, for a client to say in its user's language (a password rule).
   */
  constructor(readonly code: DomainErrorCode, message: string, readonly field?: string, readonly rule?: string) {
    super(message);
    this.name = 'DomainError';
  }
}
