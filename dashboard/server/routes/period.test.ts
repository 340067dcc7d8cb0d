/**
 * A signed-in viewer cannot ask for an unbounded period (review finding F9: /api/v1/kpis from 0 to
 * the schema's maximum meant about 10^8 store queries); the refusal names the field, at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client, startHarness, T0, type Harness } from '../../../test/support/dashboard.ts';
import { MAX_PERIOD_DAYS } from './period.ts';

const harnesses: Harness[] = [];
afterEach(async () => { for (const h of harnesses.splice(0)) await h.close(); });

describe('bounded periods', () => {
  it('refuses a KPI report or a history read over more than the longest report', async () => {
    const h = await startHarness();
    harnesses.push(h);
    const viewer = await Client.signIn(h.app, 'viewer');
    for (const url of [
      '/api/v1/kpis?from=0&to=8639999000000000',
      `/api/v1/kpis?from=${T0 - (MAX_PERIOD_DAYS + 1) * 86_400_000}&to=${T0}`,
      `/api/v1/history?sensors=x&from=0&to=${T0}`,
    ]) {
      const r = await viewer.get(url);
      expect(r.statusCode, url).toBe(400);
      expect(r.json(), url).toMatchObject({ error: { code: 'validation', field: 'querystring.to' } });
    }
    const year = await viewer.get(`/api/v1/kpis?from=${T0 - 365 * 86_400_000}&to=${T0}`);
    expect(year.statusCode).toBe(200);
  });
});
