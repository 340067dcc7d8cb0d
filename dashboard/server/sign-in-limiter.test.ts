/**
 * Password guessing is limited even when the guesses come at once (review finding F8: 24 concurrent
 * wrong passwords were all checked against a limit of 5), and spraying one address over many
 * usernames is limited too.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startHarness, password, type Harness } from '../../test/support/dashboard.ts';
import { SignInLimiter } from './sign-in-limiter.ts';

const harnesses: Harness[] = [];
afterEach(async () => { for (const h of harnesses.splice(0)) await h.close(); });

describe('sign-in limits', () => {
  it('24 concurrent wrong passwords: at most 5 are checked, the rest refused with 429', async () => {
    const h = await startHarness();
    harnesses.push(h);
    const shots = Array.from({ length: 24 }, (_, i) => h.app.inject({
      method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: `guess-${i}-xxxxxxxx` },
    }));
    const codes = (await Promise.all(shots)).map((r) => r.statusCode);
    expect(codes.filter((c) => c === 401).length).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(19);
    // the right password is refused too until the window passes: the account is not guessable by racing
    const after = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: password('admin') } });
    expect(after.statusCode).toBe(429);
  });

  it('limits one address spraying many usernames, and forgets a user\'s failures after a success', () => {
    let now = 0;
    const limiter = new SignInLimiter({ perUser: 5, perAddress: 20, concurrent: 100, windowMs: 300_000 }, () => now);
    for (let i = 0; i < 20; i++) {
      const r = limiter.reserve(`user${i}`, '10.0.0.9');
      expect(r.ok).toBe(true);
      if (r.ok) r.done(false);
    }
    expect(limiter.reserve('user99', '10.0.0.9')).toMatchObject({ ok: false, reason: 'address' });
    expect(limiter.reserve('user99', '10.0.0.10').ok).toBe(true); // another address
    now += 300_001; // the window has passed
    expect(limiter.reserve('user99', '10.0.0.9').ok).toBe(true);

    const a = new SignInLimiter({ perUser: 2, perAddress: 20, concurrent: 100, windowMs: 300_000 }, () => now);
    const first = a.reserve('ann', 'x'); if (first.ok) first.done(false);
    const ok = a.reserve('ann', 'x'); if (ok.ok) ok.done(true);
    const again = a.reserve('ann', 'x');
    expect(again.ok).toBe(true); // the failure before the success is forgotten
  });

  it('caps password checks running at once, server-wide', () => {
    const limiter = new SignInLimiter({ perUser: 5, perAddress: 20, concurrent: 2, windowMs: 300_000 });
    const a = limiter.reserve('a', '1');
    const b = limiter.reserve('b', '2');
    expect(limiter.reserve('c', '3')).toMatchObject({ ok: false, reason: 'busy' });
    if (a.ok) a.done(true);
    expect(limiter.reserve('c', '3').ok).toBe(true);
    if (b.ok) b.done(true);
  });

  it('F17 a lockout lasts its window whatever the server\'s wall clock does: a step forwards does not lift it, one backwards does not prolong it', () => {
    // The process's clocks faked: the wall clock (Date) is stepped alone, as NTP or an RTC fix
    // does; time passing moves it and the monotonic clock (performance.now) together.
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    try {
      vi.setSystemTime(Date.parse('2026-12-04T06:00:00Z'));
      const limiter = new SignInLimiter({ perUser: 2, perAddress: 20, concurrent: 100, windowMs: 300_000 });
      const guess = () => { const r = limiter.reserve('ann', '10.0.0.9'); if (r.ok) r.done(false); return r; };
      guess(); guess();
      expect(guess()).toMatchObject({ ok: false, reason: 'user' });
      vi.setSystemTime(Date.now() + 2 * 3_600_000); // the wall clock steps forward 2 h
      expect(guess()).toMatchObject({ ok: false, reason: 'user', retryAfterS: 300 });
      vi.setSystemTime(Date.now() - 4 * 3_600_000); // and back 4 h
      vi.advanceTimersByTime(300_001); // the window passes
      expect(guess().ok).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
