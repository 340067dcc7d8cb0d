/**
 * The server's analytics service across a restart, as `aquawatch server` runs it: the state
 * database holds the alarms the run before left open, the store holds what ingest kept storing
 * while analytics was down, and the service warms up and reconciles them before it subscribes to
 * the bus (a real aedes broker, the embedded store, the state database on disk).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../core/config/load.ts';
import { silentLogger } from '../core/log.ts';
import { AlarmStore } from '../core/state/alarm-store.ts';
import { stateDbPath } from '../core/state/state-db.ts';
import { SqliteStore } from '../core/tsdb/sqlite.ts';
import type { Point } from '../core/model/reading.ts';
import { AedesTestBroker } from '../test/support/brokers.ts';
import { alarmText } from '../core/messages/alarm-texts.ts';
import { AlarmManager } from './alarms/manager.ts';
import { AnalyticsService } from './service.ts';

const MIN = 60_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

describe('analytics service: a restart settles the alarms left open', () => {
  it('clears the stale alarm of a logger heard again while it was down, and raises one for a logger gone silent then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-service-restart-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = parseConfig({
      dataDir: dir, log: { level: 'silent' }, store: { type: 'sqlite', path: join(dir, 'tsdb.sqlite') },
      topology: {
        sites: [{ id: 'net' }], dmas: [{ id: 'a' }],
        sensors: [
          // 5-min loggers: stale 15 min after their last reading, a margin for a slow start of the service
          { id: 'P-back', kind: 'pressure', unit: 'MPa', site: 'net', dma: 'a', intervalS: 300 },
          { id: 'P-lost', kind: 'pressure', unit: 'MPa', site: 'net', dma: 'a', intervalS: 300 },
        ],
      },
    });
    const now = Date.now();
    // the run before: P-back went silent and was alarmed two hours ago; then the server stopped
    const before = new AlarmStore(stateDbPath(config));
    const manager = new AlarmManager({ store: before });
    manager.onCondition({ id: 'sensor_stale:P-back', type: 'sensor_stale', state: 'raise', ts: now - 120 * MIN, sensor: 'P-back', dma: 'a', text: alarmText('sensor_fault.raise', { sensor: 'P-back', fault: '@fault.stale' }), evidence: {} });
    before.close();
    // what ingest stored meanwhile: P-back reporting again for the last 80 minutes, P-lost silent for the last 40
    const store = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await store.init();
    cleanups.push(() => store.close());
    const points: Point[] = [];
    for (let m = 80; m >= 0; m -= 5) {
      const ts = Math.floor((now - m * MIN) / MIN) * MIN;
      points.push({ measurement: 'pressure', sensor: 'P-back', ts, value: 0.3 + 0.001 * (m % 7), quality: 'good', site: 'net', dma: 'a' });
      if (m > 40) points.push({ measurement: 'pressure', sensor: 'P-lost', ts, value: 0.3 + 0.001 * (m % 3), quality: 'good', site: 'net', dma: 'a' });
    }
    await store.write(points);
    const broker = new AedesTestBroker();
    await broker.start();
    cleanups.push(() => broker.stop());

    const service = new AnalyticsService({ config, store, brokerUrl: broker.url, log: silentLogger });
    await service.start();
    cleanups.push(() => service.stop());
    const alarms = service.alarmStore.openAlarms();
    const back = service.alarmStore.listAlarms({}).find((a) => a.conditionId === 'sensor_stale:P-back')!;
    expect(back.state).toBe('cleared-unacknowledged');
    expect(alarms.filter((a) => a.state.startsWith('active')).map((a) => a.conditionId)).toEqual(['sensor_stale:P-lost']);
    expect(alarms.find((a) => a.conditionId === 'sensor_stale:P-lost')!.evidence).toMatchObject({ afterRestart: true });
  });
});
