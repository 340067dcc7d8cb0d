/**
 * A test double of the platform's PDA endpoint (named so): a real fastify server on a free loopback
 * port that checks the bearer token, records every request body, and answers what the test scripts
 * (a 503 with Retry-After, a dropped connection, a 401…) before answering 200.
 */
import Fastify, { type FastifyInstance } from 'fastify';

export type ScriptedAnswer =
  | { status: number; retryAfterS?: number }
  /** Close the connection without an answer: a network error for the client. */
  | 'drop';

export interface ReceivedUpload {
  /** Wall-clock arrival. */
  at: number;
  deviceId?: string;
  status: number | 'dropped';
  body: unknown;
}

export class PdaTestReceiver {
  readonly requests: ReceivedUpload[] = [];
  /** Answers for the next requests, in order; when empty, a valid token gets 200. */
  readonly script: ScriptedAnswer[] = [];
  private app?: FastifyInstance;
  port = 0;

  /** `tokens`: token → device id. */
  constructor(private readonly tokens: Record<string, string>) {}

  get baseUrl(): string { return `http://127.0.0.1:${this.port}`; }

  /** Requests answered 200, i.e. what the platform accepted. */
  get accepted(): ReceivedUpload[] { return this.requests.filter((r) => r.status === 200); }

  async start(): Promise<void> {
    const app = Fastify({ logger: false });
    app.post('/api/v1/pda/readings', async (req, reply) => {
      const record: ReceivedUpload = { at: Date.now(), status: 200, body: req.body };
      this.requests.push(record);
      const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      const deviceId = m ? this.tokens[m[1]] : undefined;
      if (!deviceId) {
        record.status = 401;
        return reply.code(401).send({ error: 'unauthorized' });
      }
      record.deviceId = deviceId;
      const next = this.script.shift();
      if (next === 'drop') {
        record.status = 'dropped';
        req.raw.socket.destroy();
        return reply;
      }
      if (next && next.status !== 200) {
        record.status = next.status;
        if (next.retryAfterS !== undefined) reply.header('retry-after', String(next.retryAfterS));
        return reply.code(next.status).send({ error: 'scripted', status: next.status });
      }
      const readings = (req.body as { readings?: unknown[] }).readings ?? [];
      return { deviceId, totals: { items: readings.length, accepted: readings.length, duplicates: 0, rejected: 0, flagged: 0 } };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    this.app = app;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }
}
