/**
 * Signed acknowledgement links: a token naming an alarm and a recipient, signed with HMAC-SHA256,
 * expiring, and single-use (its nonce is recorded in `notify_ack_tokens` in the state database when
 * used, so a forwarded or replayed link acknowledges nothing). The token goes in the SMS / robot /
 * e-mail link; dashboard/server/ack-page.ts is the page that verifies and uses it.
 *
 * Body: {a: alarm id, r: recipient id, e: expiry ms, n: nonce} (signed-token.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { readToken, signToken } from './signed-token.ts';

/** Acknowledgement tokens are signed without a label (as they were before other links existed). */
const ACK_LABEL = '';

export interface AckClaim { alarmId: string; recipientId: string; expiresAt: number; nonce: string }
export type AckCheck = { ok: true; claim: AckClaim } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'used' };

export class AckLinks {
  private readonly insertUse;
  private readonly findUse;

  constructor(private readonly db: Database, private readonly secret: string, private readonly ttlMs: number) {
    if (Buffer.byteLength(secret) < 32) throw new Error('ack link secret: at least 32 bytes');
    db.exec(`CREATE TABLE IF NOT EXISTS notify_ack_tokens (
      nonce TEXT PRIMARY KEY, alarm_id TEXT NOT NULL, recipient_id TEXT NOT NULL, used_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`);
    this.insertUse = db.prepare('INSERT OR IGNORE INTO notify_ack_tokens (nonce, alarm_id, recipient_id, used_at, expires_at) VALUES (?, ?, ?, ?, ?)');
    this.findUse = db.prepare('SELECT 1 FROM notify_ack_tokens WHERE nonce = ?');
  }

  create(alarmId: string, recipientId: string, now: number): string {
    return signToken(this.secret, ACK_LABEL, { a: alarmId, r: recipientId, e: now + this.ttlMs, n: randomBytes(12).toString('base64url') });
  }

  /** Check a token without using it (to show the alarm on the page before the person confirms). */
  verify(token: string, now: number): AckCheck {
    const read = readToken(this.secret, ACK_LABEL, token);
    if (!read.ok) return read;
    const body = read.body;
    if (typeof body.a !== 'string' || typeof body.r !== 'string' || typeof body.e !== 'number' || typeof body.n !== 'string') return { ok: false, reason: 'malformed' };
    if (now >= body.e) return { ok: false, reason: 'expired' };
    if (this.findUse.get(body.n)) return { ok: false, reason: 'used' };
    return { ok: true, claim: { alarmId: body.a, recipientId: body.r, expiresAt: body.e, nonce: body.n } };
  }

  /** Verify and use the token: only the first call for a token succeeds. */
  consume(token: string, now: number): AckCheck {
    const check = this.verify(token, now);
    if (!check.ok) return check;
    const { alarmId, recipientId, expiresAt, nonce } = check.claim;
    const inserted = this.insertUse.run(nonce, alarmId, recipientId, now, expiresAt).changes === 1;
    return inserted ? check : { ok: false, reason: 'used' };
  }
}
