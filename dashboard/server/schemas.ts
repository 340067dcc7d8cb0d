/**
 * Routes from the contract (dashboard/contract): `serve(app, endpoint, handler)` registers the
 * endpoint's URL with its input schemas (converted to JSON Schema, validated by fastify's ajv so
 * that unknown keys are refused and messages name the field) and its answer schemas (for the
 * OpenAPI document at /docs), and types the handler's request and answer from the same schemas.
 * With `checkResponses` every answer is also checked against its schema (the tests turn it on).
 */
import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { errorBody, type Endpoint, type BodyOf, type ParamsOf, type QueryOf, type ResponseOf } from '../contract/index.ts';

export type ContractRequest<E extends Endpoint> = FastifyRequest<{ Params: ParamsOf<E>; Querystring: QueryOf<E>; Body: BodyOf<E> }>;
export type ContractHandler<E extends Endpoint> = (req: ContractRequest<E>, reply: FastifyReply) => Promise<ResponseOf<E>>;

export interface ServeOptions {
  /** Check every answer against the endpoint's response schema (a mismatch is a 500 naming the path). */
  checkResponses?: boolean;
  /** State change without the CSRF header (sign-in only). */
  noCsrf?: boolean;
}

/** Draft-7 JSON Schema of a zod schema, as fastify's ajv and @fastify/swagger read it. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io }) as Record<string, unknown>;
  return rest;
}

const ERROR_SCHEMA = jsonSchema(errorBody, 'output');

export function serve<E extends Endpoint>(app: FastifyInstance, e: E, handler: ContractHandler<E>, opts: ServeOptions = {}): void {
  const status = e.status ?? 200;
  const answer = jsonSchema(e.response, 'output');
  const options: RouteShorthandOptions = {
    config: { permission: e.permission, public: e.public, noCsrf: opts.noCsrf },
    schema: {
      tags: e.tags, summary: e.summary,
      ...(e.public ? { security: [] } : {}),
      ...(e.params ? { params: jsonSchema(e.params, 'input') } : {}),
      ...(e.querystring ? { querystring: jsonSchema(e.querystring, 'input') } : {}),
      ...(e.body ? { body: jsonSchema(e.body, 'input') } : {}),
      response: {
        [status]: e.contentType ? { description: e.summary, content: { [e.contentType]: { schema: answer } } } : answer,
        '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA,
      },
    },
  };
  if (opts.checkResponses && !e.contentType) {
    options.preSerialization = async (_req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      if (reply.statusCode !== status) return payload;
      const checked = e.response.safeParse(payload);
      if (!checked.success) throw new Error(`${e.method} ${e.url}: the answer does not match the contract: ${z.prettifyError(checked.error)}`);
      return payload;
    };
  }
  app.route({
    ...options,
    method: e.method, url: e.url,
    handler: async (req, reply) => {
      const body = await handler(req as unknown as ContractRequest<E>, reply);
      reply.code(status);
      return body;
    },
  });
}
