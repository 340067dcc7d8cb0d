/** Signed acknowledgement links: signature, expiry and single use, the use recorded in SQLite. */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { AckLinks } from './ack-links.ts';

const T0 = Date.parse('2026-12-03T02:00:00Z');
const SECRET = 'an-ack-link-secret-of-32-bytes-or-more';

describe('AckLinks', () => {
  it('a token names the alarm and recipient, verifies without being used, and works once', () => {
    const db = new Database(':memory:');
    const links = new AckLinks(db, SECRET, 3600_000);
    const token = links.create('burst:dma-3@2026-12-03T02:00:00.000Z', 'wang', T0);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const check = links.verify(token, T0 + 1000);
    expect(check).toMatchObject({ ok: true, claim: { alarmId: 'burst:dma-3@2026-12-03T02:00:00.000Z', recipientId: 'wang', expiresAt: T0 + 3600_000 } });
    expect(links.consume(token, T0 + 2000)).toMatchObject({ ok: true });
    expect(links.consume(token, T0 + 3000)).toEqual({ ok: false, reason: 'used' });
    expect(links.verify(token, T0 + 3000)).toEqual({ ok: false, reason: 'used' });
    // The use is in the database: another instance (a restart) refuses it too.
    expect(new AckLinks(db, SECRET, 3600_000).consume(token, T0 + 4000)).toEqual({ ok: false, reason: 'used' });
    expect(db.prepare('SELECT alarm_id, recipient_id, used_at FROM notify_ack_tokens').all()).toEqual([
      { alarm_id: 'burst:dma-3@2026-12-03T02:00:00.000Z', recipient_id: 'wang', used_at: T0 + 2000 },
    ]);
  });

  it('refuses an expired token, a tampered one, one signed with another secret, and garbage', () => {
    const links = new AckLinks(new Database(':memory:'), SECRET, 60_000);
    const token = links.create('burst:a', 'wang', T0);
    expect(links.consume(token, T0 + 60_000)).toEqual({ ok: false, reason: 'expired' });
    const [payload, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), r: 'li' })).toString('base64url');
    expect(links.consume(`${forged}.${sig}`, T0)).toEqual({ ok: false, reason: 'bad-signature' });
    const other = new AckLinks(new Database(':memory:'), 'another-secret-of-thirty-two-bytes-long', 60_000);
    expect(links.consume(other.create('burst:a', 'wang', T0), T0)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(links.consume('not-a-token', T0)).toEqual({ ok: false, reason: 'malformed' });
    expect(links.consume(token, T0 + 1)).toMatchObject({ ok: true });
  });

  it('wants a secret of at least 32 bytes', () => {
    expect(() => new AckLinks(new Database(':memory:'), 'short', 1000)).toThrow(/32 bytes/);
  });
});
