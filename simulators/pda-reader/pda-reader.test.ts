/**
 * PDA meter readers against a real HTTP server (fastify): rounds read from the simulation's meter
 * registers, batches uploaded hours later with the bearer token, the mistakes at seeded rates
 * (duplicates, late uploads, digit slips lower than the last reading), and retries after a 503
 * (respecting Retry-After) and after a dropped connection.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { MeterSample, SimStep } from '../types.ts';
import type { TopologyConfig } from '../../core/config/schema.ts';
import { PdaReaderFleet, digitSlip, planRoutes, platformDevices, tokenSha256, type PdaReaderConfig, type PdaReaderFleetOptions } from './reader.ts';
import { isoWithOffset } from './time.ts';
import { PdaTestReceiver } from './test-receiver.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// 2026-01-05 00:00 UTC = 08:00 in Asia/Shanghai: the first round (09:00 local) is an hour in.
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const STEP = 10 * 60_000;

const meterIds = Array.from({ length: 10 }, (_, i) => `M${String(i + 1).padStart(3, '0')}`);
/** Register of meter k at ts: starts at 1000 + 137k m³, grows 0.02 m³/h (about half a m³ a day). */
const register = (meter: string, ts: number) => 1000 + 137 * meterIds.indexOf(meter) + ((ts - T0) / HOUR) * 0.02;

const readers: PdaReaderConfig[] = [
  { readerId: 'alice', deviceId: 'pda-01', token: 'tok-alice', meters: meterIds.slice(0, 5) },
  { readerId: 'bob', deviceId: 'pda-02', token: 'tok-bob', meters: meterIds.slice(5) },
];
const tokens = { 'tok-alice': 'pda-01', 'tok-bob': 'pda-02' };

function simStep(ts: number): SimStep {
  const meters: MeterSample[] = meterIds.map((meter) => ({ meter, ts, reading: register(meter, ts) }));
  return { ts, samples: [], meters, silent: [] };
}

async function run(fleet: PdaReaderFleet, days: number): Promise<void> {
  await fleet.start();
  for (let ts = T0; ts < T0 + days * DAY; ts += STEP) await fleet.onStep(simStep(ts));
  await fleet.stop();
}

const noMistakes = { lateRate: 0, duplicateRate: 0, digitSlipRate: 0 };
/** Retries fast enough for a test; Retry-After still wins. */
const quickRetry = { initialDelayMs: 20, maxDelayMs: 200 };

describe('PDA readers uploading to a real HTTP server', () => {
  let receiver: PdaTestReceiver;
  beforeEach(async () => {
    receiver = new PdaTestReceiver(tokens);
    await receiver.start();
  });
  afterEach(async () => { await receiver?.stop(); });

  const fleetWith = (o: Partial<PdaReaderFleetOptions>) =>
    new PdaReaderFleet({ baseUrl: receiver.baseUrl, readers, seed: 7, retry: quickRetry, ...o });

  it('reads each route daily from 09:00 local and uploads the batch hours later with the device token', async () => {
    const fleet = fleetWith(noMistakes);
    await run(fleet, 3);

    // 3 days × 2 readers, each upload 6 h after the round's last reading
    expect(fleet.uploads.map((u) => [u.id, u.status])).toEqual([
      ['alice/1', 'sent'], ['bob/1', 'sent'], ['alice/2', 'sent'], ['bob/2', 'sent'], ['alice/3', 'sent'], ['bob/3', 'sent'],
    ]);
    expect(receiver.requests.map((r) => [r.deviceId, r.status])).toEqual([
      ['pda-01', 200], ['pda-02', 200], ['pda-01', 200], ['pda-02', 200], ['pda-01', 200], ['pda-02', 200],
    ]);

    const first = receiver.requests[0].body as { readerId: string; deviceId: string; readings: { meter: string; reading: number; time: string; readerId: string }[] };
    expect(first.readerId).toBe('alice');
    expect(first.deviceId).toBe('pda-01');
    // Meter i of the route is due at 09:00 + 2i min; the reader takes it at the first step from then (10-min steps).
    const firstRound = T0 + HOUR;
    expect(first.readings.map((r) => r.time)).toEqual([
      '2026-01-05T09:00:00+08:00', '2026-01-05T09:10:00+08:00', '2026-01-05T09:10:00+08:00', '2026-01-05T09:10:00+08:00', '2026-01-05T09:10:00+08:00',
    ]);
    expect(first.readings[0]).toEqual({ meter: 'M001', reading: Number(register('M001', firstRound).toFixed(3)), time: '2026-01-05T09:00:00+08:00', readerId: 'alice' });
    expect(first.readings.map((r) => r.meter)).toEqual(meterIds.slice(0, 5));

    const upload = fleet.uploads[0];
    expect(upload.uploadAt).toBe(firstRound + STEP + 6 * HOUR);
    expect(upload.sentAtSim).toBe(upload.uploadAt); // the step at the upload time sent it
    expect(upload.answer).toMatchObject({ deviceId: 'pda-01', totals: { items: 5 } });

    // Ground truth: every reading, none mistyped
    expect(fleet.readings).toHaveLength(30);
    expect(fleet.readings.every((t) => t.reported === t.actual && !t.mistake)).toBe(true);
    expect(fleet.skipped).toEqual([]);
  });

  it('makes the mistakes real readers make at seeded rates, and the same seed makes the same ones', async () => {
    const opts = { lateRate: 0.4, duplicateRate: 0.4, digitSlipRate: 0.15 };
    const fleet = fleetWith(opts);
    await run(fleet, 12);
    await fleet.flush(); // the last rounds' uploads are due after the run

    const late = fleet.uploads.filter((u) => u.late && !u.resend);
    const resent = fleet.uploads.filter((u) => u.resend);
    const slips = fleet.readings.filter((t) => t.mistake === 'digit-slip');
    expect(late.length).toBeGreaterThan(0);
    expect(resent.length).toBeGreaterThan(0);
    expect(slips.length).toBeGreaterThan(0);

    // A late upload comes 26 h after the usual 6 h.
    for (const u of late) {
      const last = Math.max(...fleet.readings.filter((t) => t.batch === u.batch).map((t) => t.ts));
      expect(u.uploadAt).toBe(last + 32 * HOUR);
    }
    // A duplicate is the same batch, sent again half an hour later; the server got both.
    for (const dup of resent) {
      const original = fleet.uploads.find((u) => u.id === dup.batch)!;
      expect(dup.uploadAt).toBe(original.uploadAt + HOUR / 2);
      const bodies = receiver.accepted.filter((r) => JSON.stringify(r.body) === JSON.stringify(original.body));
      expect(bodies).toHaveLength(2);
    }
    // A digit slip is lower than the meter's last reading, and is what was uploaded.
    for (const slip of slips) {
      const before = fleet.readings.filter((t) => t.meter === slip.meter && t.ts < slip.ts);
      expect(slip.reported).toBeLessThan(before[before.length - 1].actual);
      const sent = receiver.accepted.flatMap((r) => (r.body as { readings: { meter: string; time: string; reading: number }[] }).readings)
        .filter((r) => r.meter === slip.meter && r.time === slip.time);
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.every((r) => r.reading === slip.reported)).toBe(true);
    }
    // Late uploads arrive after a later round's upload: the server sees readings out of order.
    const order = receiver.accepted.map((r) => (r.body as { readings: { time: string }[] }).readings[0].time);
    expect([...order].sort()).not.toEqual(order);
    expect(fleet.uploads.every((u) => u.status === 'sent')).toBe(true);

    // Same seed, same run: the same readings, mistakes and uploads.
    const again = fleetWith(opts);
    await run(again, 12);
    await again.flush();
    expect(again.readings).toEqual(fleet.readings);
    const plan = (f: PdaReaderFleet) => f.uploads.map((u) => ({ id: u.id, uploadAt: u.uploadAt, late: u.late, body: u.body }));
    expect(plan(again)).toEqual(plan(fleet));
    // Another seed, other mistakes.
    const other = fleetWith({ ...opts, seed: 8 });
    await run(other, 12);
    expect(other.readings.filter((t) => t.mistake).map((t) => `${t.meter}@${t.ts}`))
      .not.toEqual(slips.map((t) => `${t.meter}@${t.ts}`));
  });

  it('retries after a 503, waiting what Retry-After says, and after a dropped connection', async () => {
    receiver.script.push({ status: 503, retryAfterS: 1 }, 'drop');
    const fleet = fleetWith(noMistakes);
    await run(fleet, 1);

    const first = fleet.uploads[0];
    expect(first.status).toBe('sent');
    expect(first.attempts.map((a) => a.httpStatus ?? 'network')).toEqual([503, 'network', 200]);
    expect(first.attempts[0].waitMs).toBeGreaterThanOrEqual(1000);
    expect(first.attempts[1].at - first.attempts[0].at).toBeGreaterThanOrEqual(1000);
    expect(first.attempts[1].error).toBeTruthy();
    // the server saw the same body three times and accepted it once
    expect(receiver.requests.slice(0, 3).map((r) => r.status)).toEqual([503, 'dropped', 200]);
    expect(new Set(receiver.requests.slice(0, 3).map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(fleet.uploads[1].attempts).toHaveLength(1);
  });

  it('gives up at once on a refused token (401) and records why', async () => {
    const fleet = new PdaReaderFleet({
      baseUrl: receiver.baseUrl, readers: [{ ...readers[0], token: 'revoked' }], seed: 7, retry: quickRetry, ...noMistakes,
    });
    await run(fleet, 1);
    expect(fleet.uploads[0].status).toBe('failed');
    expect(fleet.uploads[0].attempts).toEqual([expect.objectContaining({ httpStatus: 401, error: expect.stringContaining('unauthorized') })]);
    expect(receiver.requests).toHaveLength(1);
  });

  it('gives up after maxAttempts when the server stays away', async () => {
    const port = receiver.port;
    await receiver.stop();
    const fleet = new PdaReaderFleet({
      baseUrl: `http://127.0.0.1:${port}`, readers: [readers[0]], seed: 7, ...noMistakes,
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 },
    });
    await run(fleet, 1);
    expect(fleet.uploads[0].status).toBe('failed');
    expect(fleet.uploads[0].attempts.map((a) => a.error)).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
  });
});

describe('PDA reader helpers', () => {
  it('types a slip lower than the last reading: a swap of neighbouring digits, else a digit left out', () => {
    expect(digitSlip(1243.5, 1243.1, 3)).toBe(1234.5); // 4 and 3 swapped
    expect(digitSlip(1520.25, 1520, 3)).toBe(1502.25);
    expect(digitSlip(1234.5, 1234.1, 3)).toBe(123.5); // digits rise: one left out
    expect(digitSlip(7.5, 7.2, 3)).toBeUndefined(); // one digit: no slip lower than the last
  });

  it('writes times in ISO 8601 with the local offset', () => {
    expect(isoWithOffset(T0, 'Asia/Shanghai')).toBe('2026-01-05T08:00:00+08:00');
    expect(isoWithOffset(T0 + 1234, 'Asia/Shanghai')).toBe('2026-01-05T08:00:01.234+08:00');
    expect(isoWithOffset(Date.UTC(2026, 6, 1, 12), 'America/New_York')).toBe('2026-07-01T08:00:00-04:00');
  });

  it('splits the topology meters into routes and gives the platform the token hashes', () => {
    const meters: TopologyConfig['meters'] = [
      { id: 'B2', customer: 'c', dma: 'dmaB', active: true, large: false },
      { id: 'A1', customer: 'c', dma: 'dmaA', active: true, large: false },
      { id: 'A2', customer: 'c', dma: 'dmaA', active: true, large: false },
      { id: 'B1', customer: 'c', dma: 'dmaB', active: true, large: false },
      { id: 'B3', customer: 'c', dma: 'dmaB', active: true, large: false },
    ];
    const routes = planRoutes(meters, 2, (d) => `token-${d}`);
    expect(routes).toEqual([
      { readerId: 'reader-01', deviceId: 'pda-01', token: 'token-pda-01', meters: ['A1', 'A2', 'B1'] },
      { readerId: 'reader-02', deviceId: 'pda-02', token: 'token-pda-02', meters: ['B2', 'B3'] },
    ]);
    expect(platformDevices(routes)).toEqual([
      { id: 'pda-01', tokenSha256: tokenSha256('token-pda-01') },
      { id: 'pda-02', tokenSha256: tokenSha256('token-pda-02') },
    ]);
    expect(tokenSha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('names the option at fault', () => {
    const base = { baseUrl: 'http://127.0.0.1:1', readers };
    expect(() => new PdaReaderFleet({ ...base, baseUrl: 'nope' })).toThrow(/option baseUrl: "nope" is not a URL/);
    expect(() => new PdaReaderFleet({ ...base, lateRate: 2 })).toThrow(/option lateRate: 2 is not a share between 0 and 1/);
    expect(() => new PdaReaderFleet({ ...base, timezone: 'Mars/Base' })).toThrow(/option timezone: Mars\/Base/);
    const topology: TopologyConfig = { sites: [], dmas: [], sensors: [], meters: [{ id: 'M001', customer: 'c', active: true, large: false }] };
    expect(() => new PdaReaderFleet({ ...base, topology })).toThrow(/readers\[0\]\.meters\[1\]: M002 is not a meter of the topology/);
    expect(new PdaReaderFleet({ ...base, baseUrl: 'https://host/aquawatch/' }).uploadUrl).toBe('https://host/aquawatch/api/v1/pda/readings');
  });
});
