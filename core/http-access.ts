/**
 * Who may read a service's operational detail (`/health` beyond its status, `/metrics`): the
 * store's and brokers' URLs, source endpoints, error strings and outbox depths are reconnaissance
 * for anyone else (review finding F13). Detail goes to callers on this machine (a monitoring agent,
 * the container's health check, an operator's ssh session); everyone else gets the status alone.
 * Behind a proxy every caller arrives from the proxy's address, so there nobody gets detail.
 */
import type { FastifyRequest } from 'fastify';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export function mayReadOperationalDetail(req: FastifyRequest, behindTlsProxy: boolean): boolean {
  return !behindTlsProxy && LOOPBACK.test(req.socket.remoteAddress ?? '');
}

/** The answer to a caller who may not read /metrics. */
export const METRICS_REFUSED = { error: 'forbidden', message: '/metrics is served to callers on this machine only' };
