/**
 * Who may read a service's operational detail (`/health` beyond its status, `/metrics`): the
 * store's and brokers' URLs, source endpoints, error strings and outbox depths are reconnaissance
 * for anyone else (review finding F13). Detail goes to callers on this machine (a monitoring agent,
 * the container's health check, an operator's ssh session); everyone else gets the status alone.
 * Behind a proxy every caller arrives from the proxy's address, so there nobody gets detail by
 * address. A monitoring server on another machine (or another container: compose's published ports
 * do not arrive from loopback) presents `http.metricsToken` instead.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** The part of the `http` config section that decides it. */
export interface OperationalAccess {
  behindTlsProxy: boolean;
  /** `http.metricsToken`: a monitoring server elsewhere (or behind the proxy) presents it as a bearer token. */
  metricsToken?: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The request carries `Authorization: Bearer <metricsToken>` (compared in constant time). */
function presentsMetricsToken(req: FastifyRequest, token: string | undefined): boolean {
  if (!token) return false;
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  return m !== null && timingSafeEqual(digest(m[1]), digest(token));
}

export function mayReadOperationalDetail(req: FastifyRequest, access: OperationalAccess): boolean {
  if (presentsMetricsToken(req, access.metricsToken)) return true;
  return !access.behindTlsProxy && LOOPBACK.test(req.socket.remoteAddress ?? '');
}

/** The answer to a caller who may not read /metrics. */
export const METRICS_REFUSED = { error: 'forbidden', message: '/metrics is served to callers on this machine, or to those presenting http.metricsToken as a bearer token' };
