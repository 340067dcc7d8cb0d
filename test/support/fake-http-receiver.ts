/**
 * A local HTTP receiver standing in for a vendor's API that cannot be reached from here (a fake):
 * it records every request and answers with what the vendor-specific handler decides. The fakes
 * (fake-wecom.ts, fake-dingtalk.ts, ...) check the vendor's documented request format and signature
 * and answer the vendor's error when something is wrong, so a test fails on a malformed request.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest { method: string; url: URL; headers: IncomingHttpHeaders; body: string }
export interface FakeAnswer { status?: number; headers?: Record<string, string>; body: unknown }

export interface FakeReceiver {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  requests: ReceivedRequest[];
  /** What the checks found wrong in each request, in order (empty array for a good request). */
  problems: string[][];
  /** Answers to give before the normal one, in order (a 503 with Retry-After, a vendor rate limit...). */
  queueAnswer(answer: FakeAnswer): void;
  close(): Promise<void>;
}

export type FakeHandler = (req: ReceivedRequest) => { problems: string[]; answer: FakeAnswer };

export async function startFakeReceiver(handle: FakeHandler): Promise<FakeReceiver> {
  const requests: ReceivedRequest[] = [];
  const problems: string[][] = [];
  const queued: FakeAnswer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received: ReceivedRequest = { method: req.method ?? '', url: new URL(req.url ?? '/', `http://${req.headers.host}`), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(received);
      const checked = handle(received);
      problems.push(checked.problems);
      const answer = queued.shift() ?? checked.answer;
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, requests, problems,
    queueAnswer: (a) => queued.push(a),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Parse JSON or record why not. */
export function parseJsonBody(body: string, problems: string[]): Record<string, unknown> | undefined {
  try { return JSON.parse(body) as Record<string, unknown>; } catch { problems.push('body is not JSON'); return undefined; }
}
