/**
 * HTTPS for the platform's HTTP servers (dashboard, ingest API) when `http.tls` names a certificate
 * and key. A server factory rather than Fastify's `https` option, so every route module keeps the one
 * FastifyInstance type whether the site serves HTTP (loopback demo) or HTTPS (production).
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { FastifyServerFactory } from 'fastify';

export interface HttpTlsFiles { cert: string; key: string }

export class HttpTlsError extends Error {
  constructor(key: string, reason: string) {
    super(`${key}: ${reason}`);
    this.name = 'HttpTlsError';
  }
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new HttpTlsError(key, `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Fastify options that serve HTTPS with `tls`, or nothing (plain HTTP) without it. Reads the files now. */
export function httpServerOptions(tls: HttpTlsFiles | undefined): { serverFactory?: FastifyServerFactory<Server> } {
  if (!tls) return {};
  const cert = readPem(tls.cert, 'http.tls.cert');
  const key = readPem(tls.key, 'http.tls.key');
  // https.Server is an http.Server to every consumer here (Fastify, socket.io): same request API.
  return { serverFactory: (handler) => createHttpsServer({ cert, key }, handler) as unknown as Server };
}

/** The scheme a server built with httpServerOptions answers on, for the "ready" line and logs. */
export const httpScheme = (tls: HttpTlsFiles | undefined): 'https' | 'http' => (tls ? 'https' : 'http');
