/**
 * A signal that fires when a request's client closes its connection before the answer is sent
 * (review finding F9): long routes pass it down to the store so their work stops with the client.
 * fastify's own `request.signal` is not used: it follows the request stream's 'close', which Node
 * emits as soon as a body has been read (a POST would abort at once) and after every answer.
 */
import type { FastifyReply } from 'fastify';

/** The reason such a signal carries: the answer has nobody to go to. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection before the answer was sent');
    this.name = 'ClientGoneError';
  }
}

export function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const res = reply.raw;
  const gone = () => { if (!res.writableEnded) controller.abort(new ClientGoneError()); };
  // the connection may have closed before the handler ran (its 'close' is then already past)
  if (res.destroyed || res.socket?.destroyed) gone();
  else res.once('close', gone);
  return controller.signal;
}
