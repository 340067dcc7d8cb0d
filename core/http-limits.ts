/**
 * Limits of the platform's HTTP servers (dashboard, ingest API, the all-in-one `start`): a small
 * body by default, which a route that needs more raises for itself (the PDA upload), and timeouts,
 * so that a slow or silent client cannot hold a connection and its buffers for ever.
 */
import type { Server } from 'node:http';
import type { FastifyServerFactory } from 'fastify';
import { httpServerOptions, type HttpTlsFiles } from './http-tls.ts';

export interface HttpLimits {
  /** Largest request body a route takes unless it sets its own `bodyLimit`. */
  bodyLimit: number;
  /** A whole request (headers and body) must have arrived within this, ms. */
  requestTimeout: number;
  /** A socket with no activity for this long is closed, ms. */
  connectionTimeout: number;
  /** An idle keep-alive connection is closed after this, ms. */
  keepAliveTimeout: number;
}

export const HTTP_LIMITS: HttpLimits = {
  bodyLimit: 256 * 1024,
  // PDA uploads come over mobile networks: a minute for up to a few MB.
  requestTimeout: 60_000,
  connectionTimeout: 60_000,
  keepAliveTimeout: 10_000,
};

function applyTimeouts(server: Server, limits: HttpLimits): Server {
  server.requestTimeout = limits.requestTimeout;
  server.headersTimeout = Math.min(server.headersTimeout, limits.requestTimeout);
  server.keepAliveTimeout = limits.keepAliveTimeout;
  server.setTimeout(limits.connectionTimeout);
  return server;
}

/**
 * Fastify options for a platform HTTP server: the limits, and HTTPS when `tls` is given (Fastify
 * applies its timeouts only to a server it makes itself, so the HTTPS factory sets them).
 */
export function httpServerSettings(tls: HttpTlsFiles | undefined, limits: HttpLimits = HTTP_LIMITS): {
  bodyLimit: number; requestTimeout: number; connectionTimeout: number; keepAliveTimeout: number; serverFactory?: FastifyServerFactory<Server>;
} {
  const { serverFactory } = httpServerOptions(tls);
  return {
    ...limits,
    ...(serverFactory ? { serverFactory: (handler, opts) => applyTimeouts(serverFactory(handler, opts), limits) } : {}),
  };
}
