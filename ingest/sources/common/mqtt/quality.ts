/** Quality codes as MQTT devices send them, shared by the MQTT (JSON) and Sparkplug B sources. */
import type { Quality } from '../../../../core/model/reading.ts';

/**
 * Quality from what devices send: our names (good/uncertain/bad, any case, OPC names such as
 * `Good_LocalOverride` or `Bad_SensorFailure` by prefix), our codes 0/1/2, an OPC DA quality byte
 * (192 = good, 64–127 uncertain, below 64 bad) or an OPC UA StatusCode (top two bits: severity).
 */
export function qualityFromAny(q: unknown): Quality | undefined {
  if (typeof q === 'string') {
    const s = q.trim().toLowerCase();
    if (/^\d+$/.test(s)) return qualityFromAny(Number(s));
    for (const name of ['good', 'uncertain', 'bad'] as const) if (s === name || s.startsWith(`${name}_`)) return name;
    return undefined;
  }
  if (typeof q !== 'number' || !Number.isInteger(q) || q < 0) return undefined;
  if (q <= 2) return (['good', 'uncertain', 'bad'] as const)[q];
  if (q <= 0xff) return (q & 0xc0) === 0xc0 ? 'good' : (q & 0xc0) === 0x40 ? 'uncertain' : 'bad';
  if (q <= 0xffffffff) {
    const severity = q >>> 30;
    return severity === 0 ? 'good' : severity === 1 ? 'uncertain' : 'bad';
  }
  return undefined;
}
