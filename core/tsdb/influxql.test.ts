/**
 * The InfluxQL text and /query answer handling shared by both InfluxDB stores, on fixed inputs.
 * (That the server reads the text as meant is proven against real InfluxDB 1.6 in
 * test/integration/tsdb-influx1.test.ts.)
 */
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  buildLatestQuery, buildRangeQuery, checkRangeQuery, InfluxQLReader, parseQueryResponse, quoteIdent, quoteString, serverMessage, timeLiteral,
} from './influxql.ts';
import { waitFor } from '../../test/support/ports.ts';
import { checkPoint, escapeMeasurement, InvalidPointError } from './line-protocol.ts';
import type { Point } from '../model/reading.ts';

const T0 = Date.UTC(2026, 0, 5);

describe('InfluxQL text', () => {
  it('escapes quotes, backslashes and newlines in identifiers and strings', () => {
    expect(quoteIdent('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
    expect(quoteString("x' OR 1=1 --")).toBe("'x\\' OR 1=1 --'");
    expect(quoteString('line\nbreak')).toBe("'line\\nbreak'");
  });

  it('writes time bounds as nanoseconds, clamped to what InfluxDB can store', () => {
    expect(timeLiteral(T0)).toBe(`${T0}000000`);
    expect(timeLiteral(-1)).toBe('-1000000');
    expect(timeLiteral(Number.MAX_SAFE_INTEGER)).toBe('9223372036854000000');
    expect(timeLiteral(Number.MIN_SAFE_INTEGER)).toBe('-9223372036854000000');
  });

  it('builds raw, windowed, whole-range and latest statements', () => {
    const base = { measurement: 'pressure', sensors: [], from: T0, to: T0 + 1000 };
    const where = `WHERE ("sensor" = 'a' OR "sensor" = 'b') AND time >= ${T0}000000 AND time < ${T0 + 1000}000000`;
    expect(buildRangeQuery(base, ['a', 'b'])).toBe(`SELECT "value", "q" FROM "pressure" ${where} GROUP BY "sensor"`);
    expect(buildRangeQuery({ ...base, aggregate: 'max', windowMs: 500 }, ['a', 'b']))
      .toBe(`SELECT max("value") AS "value" FROM "pressure" ${where} GROUP BY time(500ms), "sensor" fill(none)`);
    expect(buildRangeQuery({ ...base, aggregate: 'count' }, ['a', 'b'])).toBe(`SELECT count("value") AS "value" FROM "pressure" ${where} GROUP BY "sensor"`);
    expect(buildLatestQuery('level')).toBe('SELECT last("value") AS "value", "q" FROM "level" GROUP BY "sensor"');
  });

  it('reads a measurement from every database named (readings and derived series kept apart)', () => {
    const dbs = ['aquawatch', 'aw"derived'];
    expect(buildLatestQuery('dma_inflow', ['D1'], dbs))
      .toBe('SELECT last("value") AS "value", "q" FROM "aquawatch".."dma_inflow", "aw\\"derived".."dma_inflow" WHERE ("sensor" = \'D1\') GROUP BY "sensor"');
    expect(buildRangeQuery({ measurement: 'flow', sensors: [], from: T0, to: T0 + 1000 }, ['a'], dbs))
      .toMatch(/^SELECT "value", "q" FROM "aquawatch".."flow", "aw\\"derived".."flow" WHERE/);
  });

  it('checks a RangeQuery with errors that name the field', () => {
    const q = { measurement: 'pressure', sensors: ['a'], from: 0, to: 1 };
    expect(() => checkRangeQuery({ ...q, windowMs: 1.5, aggregate: 'mean' })).toThrow('query.windowMs must be a positive whole number of milliseconds, got 1.5');
    expect(() => checkRangeQuery({ ...q, from: Number.NaN })).toThrow('query.from must be a number');
    expect(() => checkRangeQuery({ ...q, aggregate: 'median' as 'mean' })).toThrow('query.aggregate must be one of mean, min, max, last, count, sum, got median');
    expect(() => checkRangeQuery({ ...q, measurement: '' })).toThrow('query.measurement must be a non-empty string');
  });
});

describe('/query answers', () => {
  it('joins a series split over chunks and keeps statements apart', () => {
    const body = [
      { results: [{ statement_id: 0, series: [{ name: 'p', tags: { sensor: 'a' }, columns: ['time', 'value'], values: [[1, 1]], partial: true }], partial: true }] },
      { results: [{ statement_id: 0, series: [{ name: 'p', tags: { sensor: 'a' }, columns: ['time', 'value'], values: [[2, 2]] }], partial: true }] },
      { results: [{ statement_id: 0, series: [{ name: 'p', tags: { sensor: 'b' }, columns: ['time', 'value'], values: [[1, 9]] }] }] },
      { results: [{ statement_id: 1 }] },
    ].map((c) => JSON.stringify(c)).join('\n');
    const [first, second] = parseQueryResponse(body, 'test');
    expect(first.map((s) => [s.tags?.sensor, s.values])).toEqual([['a', [[1, 1], [2, 2]]], ['b', [[1, 9]]]]);
    expect(second).toEqual([]);
  });

  it('refuses an answer the server cut short (max-row-limit without chunking)', () => {
    const body = JSON.stringify({ results: [{ statement_id: 0, series: [{ name: 'p', columns: ['time'], values: [[1]] }], partial: true }] });
    expect(() => parseQueryResponse(body, 'test')).toThrow(/cut the answer short/);
  });

  it('throws the error of a statement or of the whole answer', () => {
    expect(() => parseQueryResponse('{"results":[{"statement_id":0,"error":"database not found: x"}]}', 'q')).toThrow('q: database not found: x');
    expect(() => parseQueryResponse('{"error":"error parsing query: found FRM"}', 'q')).toThrow('q: error parsing query: found FRM');
    expect(() => parseQueryResponse('<html>proxy error</html>', 'q')).toThrow(/not JSON/);
  });

  it('takes the message from 1.x and 2.x/3.x error bodies', () => {
    expect(serverMessage('{"error":"unable to parse"}')).toBe('unable to parse');
    expect(serverMessage('{"code":"invalid","message":"bucket not found"}')).toBe('bucket not found');
    expect(serverMessage('404 page not found\n')).toBe('404 page not found');
  });
});

describe('line protocol checks', () => {
  const p: Point = { measurement: 'pressure', sensor: 's', ts: T0, value: 1, quality: 'good', site: 'S', dma: 'D' };
  it('names the field a point cannot be written for', () => {
    const bad: [Partial<Point>, RegExp][] = [
      [{ sensor: '' }, /sensor must be a non-empty string/],
      [{ value: Number.POSITIVE_INFINITY }, /value must be a finite number, got Infinity/],
      [{ ts: 1.5 }, /ts must be a whole number of milliseconds/],
      [{ ts: 1e13 }, /ts is outside InfluxDB's time range/],
      [{ measurement: '#x' }, /measurement must not start with '#'/],
      [{ site: 'a\\' }, /site must not contain a newline or backslash/],
      [{ quality: 'meh' as 'good' }, /quality must be good, uncertain or bad/],
    ];
    for (const [change, message] of bad) {
      expect(() => checkPoint({ ...p, ...change }, 3)).toThrow(message);
      expect(() => checkPoint({ ...p, ...change }, 3)).toThrow(InvalidPointError);
    }
    expect(() => checkPoint({ ...p, site: '', dma: '' }, 0)).not.toThrow();
  });

  it('escapes commas and spaces in measurement names', () => {
    expect(escapeMeasurement('night flow,x=1')).toBe('night\\ flow\\,x=1');
  });
});

describe('a read with a signal', () => {
  it('F9 cancels its request in flight when the signal fires, and rejects with the signal\'s reason', async () => {
    // a server that takes the connection and never answers (an InfluxDB stalled on a long query)
    // (a socket counts once the request has reached it: aborted before it is written, fetch keeps an idle
    // connection for its pool, and there is no query on it to stop)
    const sockets = new Set<Socket>();
    const stalled = createServer((socket) => {
      socket.once('data', () => sockets.add(socket));
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = stalled.address() as { port: number };
      const reader = new InfluxQLReader({ url: `http://127.0.0.1:${port}`, database: 'aquawatch', timeoutMs: 60_000, describe: 'stalled' });
      const caller = new AbortController();
      const read = reader.query({ measurement: 'pressure', sensors: ['P1'], from: T0, to: T0 + 86_400_000, signal: caller.signal });
      read.catch(() => { /* asserted below */ });
      const onTheWire = await waitFor(() => [...sockets][0], 5_000, 10, 'the request on the wire');
      const gone = new Error('the client went away');
      caller.abort(gone);
      await expect(read).rejects.toBe(gone);
      // InfluxDB stops a query whose connection closes (fetch may open a fresh one for the pool: not this one)
      await waitFor(() => onTheWire.destroyed, 5_000, 10, 'the connection of the read closed');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });
});
