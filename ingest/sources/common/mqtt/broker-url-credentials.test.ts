/**
 * A broker URL that carries credentials (`mqtts://user:password@host`, which production allows)
 * never shows them: the MQTT sources' disconnection condition becomes an alarm every viewer reads,
 * and their log lines go to whoever reads the logs (review F21, F13). A real connection attempt to
 * a port nobody listens on; the source context is the recording test double.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { Topology } from '../../../../core/topology/topology.ts';
import { topologySchema } from '../../../../core/config/schema.ts';
import { RecordingContext } from '../../../../test/support/recording-context.ts';
import { freePort, waitFor } from '../../../../test/support/ports.ts';
import { DurableSubscriber } from './durable-subscriber.ts';

const topology = new Topology(topologySchema.parse({ sites: [{ id: 'S' }], dmas: [{ id: 'D' }], sensors: [{ id: 'P-1', kind: 'pressure', site: 'S', dma: 'D' }] }));
let subscriber: DurableSubscriber | undefined;
afterEach(async () => { await subscriber?.stop(); subscriber = undefined; });

describe('a broker URL with credentials in it', () => {
  it('shows neither user nor password in the disconnection condition or the log (F21)', async () => {
    const port = await freePort();
    const ctx = new RecordingContext(topology);
    const logged: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { logged.push(String(chunk)); done(); } }));
    subscriber = new DurableSubscriber({
      name: 'plant', type: 'mqtt', broker: { url: `mqtt://plant-user:s3cret-in-url@127.0.0.1:${port}` }, brokerField: 'sources.mqtt[0].broker',
      clientId: 'aw-test-credentials', qos: 1, filters: ['sensors/#'], decode: () => [],
      ctx, log, reconnectPeriodMs: 200, connectWaitMs: 300,
    });
    await subscriber.start();
    await waitFor(() => ctx.conditions.some((c) => c.state === 'raise'), 10_000, 20, 'the disconnection condition');
    const raised = ctx.conditions.find((c) => c.state === 'raise')!;
    expect(raised.message).toContain(`mqtt://127.0.0.1:${port}`);
    const shown = [raised.message, JSON.stringify(raised.evidence ?? {}), ...logged].join('\n');
    expect(shown).not.toContain('s3cret-in-url');
    expect(shown).not.toContain('plant-user');
  });
});
