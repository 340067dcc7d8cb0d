/** Latest live value per sensor, shared by the map's tooltips and the value lists. */
import type { LiveValue } from '../../contract/index.ts';

export const latestValues = new Map<string, LiveValue>();

export function recordValues(batch: LiveValue[]): void {
  for (const v of batch) {
    const prev = latestValues.get(v.sensor);
    if (!prev || prev.ts <= v.ts) latestValues.set(v.sensor, v);
  }
}
