/**
 * Signed links to a work order's phone page, sent to the members of the crew it is assigned to:
 * a token naming the work order and the crew member, signed with the notifier's acknowledgement
 * secret under its own label (so an acknowledgement token is never a work-order token), expiring.
 * Unlike an acknowledgement link it is used more than once (in progress, then resolved); what it
 * allows ends with its expiry or the work order's resolution.
 *
 * Body: {w: work order id, r: recipient id, e: expiry ms} (signed-token.ts).
 */
import { readToken, signToken, type TokenProblem } from './signed-token.ts';

export interface WorkOrderClaim { workOrderId: string; recipientId: string; expiresAt: number }
export type WorkOrderCheck = { ok: true; claim: WorkOrderClaim } | { ok: false; reason: TokenProblem | 'expired' };

const LABEL = 'aquawatch work order link\n';

export class WorkOrderLinks {
  constructor(private readonly secret: string, private readonly ttlMs: number) {}

  create(workOrderId: string, recipientId: string, now: number): string {
    return signToken(this.secret, LABEL, { w: workOrderId, r: recipientId, e: now + this.ttlMs });
  }

  verify(token: string, now: number): WorkOrderCheck {
    const read = readToken(this.secret, LABEL, token);
    if (!read.ok) return read;
    const { w, r, e } = read.body;
    if (typeof w !== 'string' || typeof r !== 'string' || typeof e !== 'number') return { ok: false, reason: 'malformed' };
    if (now >= e) return { ok: false, reason: 'expired' };
    return { ok: true, claim: { workOrderId: w, recipientId: r, expiresAt: e } };
  }
}
