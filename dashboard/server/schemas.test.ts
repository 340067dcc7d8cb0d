/** `serve`: a route from a contract endpoint validates its input and, when asked, checks its answer. */
import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { endpoint } from '../contract/index.ts';
import { serve } from './schemas.ts';

const apps: FastifyInstance[] = [];
afterEach(async () => { for (const a of apps.splice(0)) await a.close(); });

const sum = endpoint({
  method: 'GET', url: '/sum', tags: ['test'], summary: 'Add two numbers',
  querystring: z.strictObject({ a: z.number().int(), b: z.number().int().max(10).optional() }),
  response: z.strictObject({ sum: z.number() }),
});

async function appWith(answer: (a: number, b: number) => unknown, checkResponses: boolean): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false } } });
  apps.push(app);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // the handler's type comes from the endpoint: a and b are numbers after validation
  serve(app, sum, async (req) => answer(req.query.a, req.query.b ?? 0) as { sum: number }, { checkResponses });
  await app.ready();
  return app;
}

describe('serve', () => {
  it('validates the query with the contract\'s schema (numbers coerced, unknown keys refused)', async () => {
    const app = await appWith((a, b) => ({ sum: a + b }), true);
    expect((await app.inject('/sum?a=2&b=3')).json()).toEqual({ sum: 5 });
    expect((await app.inject('/sum?a=2&b=11')).statusCode).toBe(400);
    expect((await app.inject('/sum?a=2&c=1')).statusCode).toBe(400);
    expect((await app.inject('/sum?a=x')).statusCode).toBe(400);
  });

  it('with checkResponses, an answer that is not the contract\'s is a 500, not a silent drift', async () => {
    const drifting = (a: number, b: number) => ({ sum: a + b, extra: true });
    expect((await (await appWith(drifting, true)).inject('/sum?a=1')).statusCode).toBe(500);
    expect((await (await appWith(drifting, false)).inject('/sum?a=1')).json()).toEqual({ sum: 1, extra: true });
  });
});
