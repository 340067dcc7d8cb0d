/**
 * At most REPORTS_AT_ONCE_PER_USER report computations per user at once (review finding F9): a
 * report reads the store once per day of its period, and requests repeated by a user (reloads,
 * period clicks, scripted calls) must not pile up on the store. The next one is refused with 429,
 * `retry-after` and the rule `reports_at_once`, which the web app says in the user's language.
 *
 * Two, not one: the Reports view's figures and the CSV export of the same period are two requests
 * a person makes at once; a third at once is a repeat, not a need. The slot is freed when the
 * computation ends, also when it ends early because its client went away (clientGoneSignal).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type DashboardContext } from '../context.ts';
import { clientGoneSignal } from './client-gone.ts';

export const REPORTS_AT_ONCE_PER_USER = 2;
/** A quarter's report takes seconds: asking again after a few is soon enough. */
export const REPORT_RETRY_AFTER_S = 5;

export class ReportSlots {
  private readonly running = new Map<string, number>();
  constructor(readonly perUser = REPORTS_AT_ONCE_PER_USER) {}

  /** A slot for `user`, or undefined when all of theirs are taken; call the answer to give it back. */
  take(user: string): (() => void) | undefined {
    const n = this.running.get(user) ?? 0;
    if (n >= this.perUser) return undefined;
    this.running.set(user, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(user) ?? 1) - 1;
      if (left > 0) this.running.set(user, left); else this.running.delete(user);
    };
  }
}

const slotsOf = new WeakMap<DashboardContext, ReportSlots>();

/**
 * Runs one report computation for the signed-in user of `req` in one of their slots, handing it a
 * signal that fires when the client goes away; refuses with 429 when the user's slots are taken.
 */
export async function inReportSlot<T>(ctx: DashboardContext, req: FastifyRequest, reply: FastifyReply, compute: (signal: AbortSignal) => Promise<T>): Promise<T> {
  let slots = slotsOf.get(ctx);
  if (!slots) slotsOf.set(ctx, slots = new ReportSlots());
  const user = req.dashUser!.username;
  const release = slots.take(user);
  if (!release) {
    reply.header('retry-after', String(REPORT_RETRY_AFTER_S));
    throw new ApiError('rate_limited', `${user} already has ${slots.perUser} reports being computed; try again in ${REPORT_RETRY_AFTER_S} s`, undefined, 'reports_at_once');
  }
  try {
    return await compute(clientGoneSignal(reply));
  } finally {
    release();
  }
}
