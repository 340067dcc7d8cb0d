/**
 * The live messages (socket.io, path `/socket.io`) the server sends to the rooms a client joined
 * (dashboard/server/live). Their schemas document the shapes; the gateway sends them as they are.
 */
import { z } from 'zod';
import { epochMs } from './common.ts';
import { alarmRecord } from './alarms.ts';
import { leakRepair } from './leaks.ts';
import { dmaState, kpiSummary } from './network.ts';
import { incident } from './outages.ts';

/** One reading, the latest per series and second: message `values` carries an array of them. */
export const liveValue = z.strictObject({ sensor: z.string(), kind: z.string(), ts: epochMs, value: z.number(), quality: z.string() });
export type LiveValue = z.infer<typeof liveValue>;

/**
 * Message `alarm` (room `alarms`) on every transition; `annunciate` false: show it, no sound. `repair`:
 * on the clear of a leak alarm the night flow confirms repaired (issue #12.4), the repair with its
 * drop and the work order opened from the alarm, if one was.
 */
export const alarmTransition = z.strictObject({ kind: z.string(), alarm: alarmRecord, annunciate: z.boolean(), repair: leakRepair.optional() });
export type AlarmTransition = z.infer<typeof alarmTransition>;

/** What each server message carries. */
export const liveMessages = {
  values: z.array(liveValue),
  alarm: alarmTransition,
  incident,
  dmas: z.array(dmaState),
  kpis: kpiSummary,
  session_expired: z.strictObject({ message: z.string() }),
};
export type LiveMessage<K extends keyof typeof liveMessages> = z.infer<(typeof liveMessages)[K]>;

/** Client → server `subscribe` / `unsubscribe`. Rooms: alarms, incidents, dmas, kpis, values:<sensor>, values:dma:<dma>. */
export const roomRequest = z.strictObject({ rooms: z.array(z.string()) });
