/**
 * The OPC UA source's retry loop: one connection attempt after another, RETRY_DELAY_MS apart,
 * until stop. node-opcua repairs a broken connection by itself; the loop starts over only when a
 * whole attempt failed (certificate not trusted, user refused) or the session ended for good.
 */

/** Pause before a new attempt after a whole connection attempt failed. */
export const RETRY_DELAY_MS = 2_000;

export interface RetryLoopSteps {
  stopping(): boolean;
  /** Before every attempt but the first (the trust store is read again: an operator may have trusted a certificate). */
  beforeRetry(): Promise<void>;
  /** Connect, open a session and subscribe; resolves once connected, rejects when the attempt failed. */
  attempt(): Promise<void>;
  failed(err: Error): void;
  /** Close what the attempt opened. */
  teardown(): Promise<void>;
}

export class RetryLoop {
  private endConnection?: () => void;
  private wakeRetry?: () => void;

  constructor(private readonly steps: RetryLoopSteps) {}

  /** The connection is over (session closed for good, client closed): start over. */
  connectionEnded(): void { this.endConnection?.(); }

  /** Stop waiting: for the end of the connection, and for the next attempt. */
  interrupt(): void {
    this.wakeRetry?.();
    this.endConnection?.();
  }

  async run(): Promise<void> {
    const s = this.steps;
    let first = true;
    while (!s.stopping()) {
      if (!first) await s.beforeRetry();
      first = false;
      try {
        await s.attempt();
        if (s.stopping()) break;
        // Connected: node-opcua now repairs broken connections itself. We come back here only when the
        // session is closed for good (the server closed it, or the client gave up) or on stop().
        await new Promise<void>((resolveEnd) => { this.endConnection = resolveEnd; });
      } catch (err) {
        if (!s.stopping()) s.failed(err as Error);
      }
      this.endConnection = undefined;
      await s.teardown();
      if (s.stopping()) break;
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, RETRY_DELAY_MS);
        this.wakeRetry = () => { clearTimeout(timer); wake(); };
      });
      this.wakeRetry = undefined;
    }
  }
}
