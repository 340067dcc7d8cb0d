/** Bound on how long a close or terminate of node-opcua's (session, subscription, client) is waited for. */
export const DISCONNECT_TIMEOUT_MS = 5_000;

/** A promise that rejects after `ms` if `p` has not settled by then (node-opcua calls can hang on a dead peer). */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
    p.then((v) => { clearTimeout(timer); resolvePromise(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}
