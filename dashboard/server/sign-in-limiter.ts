/**
 * Limits on password guessing at the dashboard's sign-in (review finding F8).
 *
 * A password check (scrypt, ~50 ms and 32 MiB) is asynchronous, so a limiter that reads a counter
 * before it and writes after it lets N concurrent guesses through. Here an attempt *reserves* its
 * place synchronously before the check, counting the attempts in flight as failures until they
 * are known: at most `perUser` guesses per username and address, `perAddress` per address (spraying
 * one password over many names), and `concurrent` checks at once for the whole server (scrypt is an
 * unauthenticated CPU cost). A success forgets that username's failures from that address.
 *
 * The window is measured on the process's monotonic clock: on the wall clock a step forwards (NTP,
 * an RTC fixed) would lift every lockout at once, and a step backwards would lock users out for the
 * length of the step (F17). Nothing here outlives the process, so wall time is not needed.
 */
import { monotonicMs } from '../../core/time/monotonic.ts';

export interface SignInLimits {
  /** Failed sign-ins per username and address within the window. */
  perUser: number;
  /** Failed sign-ins per address within the window, whatever the usernames. */
  perAddress: number;
  /** Password checks running at once, server-wide. */
  concurrent: number;
  windowMs: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { perUser: 5, perAddress: 20, concurrent: 8, windowMs: 5 * 60_000 };

/** Keys remembered at most: older ones are forgotten first (their window has usually passed). */
const MAX_KEYS = 100_000;

export type Reservation =
  | { ok: true; done(success: boolean): void }
  | { ok: false; reason: 'user' | 'address' | 'busy'; retryAfterS: number };

interface Counter { failures: number[]; inFlight: number }

export class SignInLimiter {
  private readonly counters = new Map<string, Counter>();
  private checking = 0;

  /** `now`: a monotonic clock in ms (tests pass a fake one). */
  constructor(private readonly limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS, private readonly now: () => number = monotonicMs) {}

  /** Take a place for one password check, or say why not. Synchronous, so concurrent attempts see each other. */
  reserve(username: string, address: string): Reservation {
    const t = this.now();
    const userKey = `u|${username.toLowerCase()}|${address}`;
    const addressKey = `a|${address}`;
    const user = this.counter(userKey, t);
    const addr = this.counter(addressKey, t);
    if (user.failures.length + user.inFlight >= this.limits.perUser) return this.refuse('user', user, t);
    if (addr.failures.length + addr.inFlight >= this.limits.perAddress) return this.refuse('address', addr, t);
    if (this.checking >= this.limits.concurrent) return { ok: false, reason: 'busy', retryAfterS: 1 };
    user.inFlight++; addr.inFlight++; this.checking++;
    let settled = false;
    return {
      ok: true,
      done: (success: boolean) => {
        if (settled) return;
        settled = true;
        user.inFlight--; addr.inFlight--; this.checking--;
        const at = this.now();
        if (success) user.failures.length = 0;
        else { user.failures.push(at); addr.failures.push(at); }
      },
    };
  }

  private counter(key: string, t: number): Counter {
    let c = this.counters.get(key);
    if (c) {
      this.counters.delete(key); // re-insert: the map's order is least recently used first
    } else {
      c = { failures: [], inFlight: 0 };
      if (this.counters.size >= MAX_KEYS) this.forgetOldest();
    }
    this.counters.set(key, c);
    const since = t - this.limits.windowMs;
    while (c.failures.length && c.failures[0] <= since) c.failures.shift();
    return c;
  }

  private forgetOldest(): void {
    for (const [key, c] of this.counters) {
      if (c.inFlight === 0) { this.counters.delete(key); return; }
    }
  }

  private refuse(reason: 'user' | 'address', c: Counter, t: number): Reservation {
    const oldest = c.failures[0] ?? t;
    return { ok: false, reason, retryAfterS: Math.max(1, Math.ceil((oldest + this.limits.windowMs - t) / 1000)) };
  }
}
