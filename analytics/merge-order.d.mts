/** Types of merge-order.mjs (plain JavaScript, shared with the replay's read-ahead thread). */

/**
 * Series j's readings are at [offsets[j], offsets[j + 1]) of `ts`, ascending in time. Returns, in
 * (time, series index) order, each reading's position in `ts` and its series.
 */
export function mergeOrder(ts: Float64Array, offsets: Int32Array): { order: Int32Array; seriesOf: Int32Array };
