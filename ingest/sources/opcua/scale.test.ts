/**
 * 10,000 monitored items against a real node-opcua server: created in batches (never one oversized
 * request), an initial value for every one of them, delivered in publish-sized submits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMonitoredItemsRequest, type Request } from 'node-opcua';
import { OpcuaSource } from './source.ts';
import { removeTempFolders, startTestServer, tempFolder, type TestServer } from '../../../test/support/opcua-server.ts';
import { opcuaSourceSchema } from './config.ts';
import { parseTopology } from '../../../core/config/load.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { RecordingContext } from '../../../test/support/recording-context.ts';
import { freePort, waitFor } from '../../../test/support/ports.ts';

const ITEMS = 10_000;

describe('OpcuaSource with 10,000 monitored items', () => {
  let server: TestServer;
  let source: OpcuaSource | undefined;

  beforeAll(async () => {
    server = await startTestServer({ port: await freePort(), pkiFolder: tempFolder('scale'), bulk: { count: ITEMS, prefix: 'bulk.' } });
  }, 60_000);
  afterAll(async () => {
    await source?.stop();
    await server?.stop();
    removeTempFolders();
  });

  it('creates them in batches and receives an initial value for every one', async () => {
    const topology = new Topology(parseTopology({
      sites: [{ id: 'plant1', kind: 'plant' }],
      sensors: Array.from({ length: ITEMS }, (_, i) => ({
        id: `plant1.level.${i}`, kind: 'level', site: 'plant1', source: { type: 'opcua', server: 'plant1', nodeId: `ns=1;s=bulk.${i}` },
      })),
    }, '(test topology)'));
    const createRequests: number[] = [];
    server.server.on('request', (request: Request) => {
      if (request instanceof CreateMonitoredItemsRequest) createRequests.push(request.itemsToCreate?.length ?? 0);
    });
    const ctx = new RecordingContext(topology);
    const submitSizes: number[] = [];
    const submit = ctx.submit.bind(ctx);
    ctx.submit = async (name, readings) => { submitSizes.push(readings.length); return submit(name, readings); };

    source = new OpcuaSource(opcuaSourceSchema.parse({ name: 'plant1', endpoint: server.endpoint, publishingIntervalMs: 200 }),
      { dataDir: tempFolder('scale-data'), demoMode: false });
    await source.start(ctx);

    await waitFor(() => new Set(ctx.readings.map((r) => r.sensor)).size === ITEMS, 50_000, 200, 'an initial value of every item');
    await waitFor(() => source!.status().state === 'connected', 10_000, 100, 'connected');

    expect(source.status().detail).toMatchObject({ monitoredItems: ITEMS, rejectedItems: 0 });
    // batchSize 500 (the default): 20 requests, none larger.
    expect(createRequests).toEqual(Array(ITEMS / 500).fill(500));
    // Initial values are static: exactly one reading per item, with the value the server holds.
    expect(ctx.readings.length).toBe(ITEMS);
    expect(ctx.readings.find((r) => r.sensor === 'plant1.level.1234')).toMatchObject({ value: 1234, quality: 'good' });
    // One submit per publish response, each at most maxNotificationsPerPublish (1,000) readings.
    expect(submitSizes.reduce((a, b) => a + b, 0)).toBe(ITEMS);
    expect(Math.max(...submitSizes)).toBeLessThanOrEqual(1_000);
    expect(submitSizes.length).toBeLessThan(ITEMS / 100);
  }, 90_000);
});
