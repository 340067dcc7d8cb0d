/** An MQTT payload as kept with a rejection (dead letter): text, cut to a bounded length. */

/** Longest raw payload kept with a rejection. */
const MAX_RAW = 8192;

export function rawForRejection(payload: Buffer | string): string {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (bytes.length <= MAX_RAW) return bytes.toString('utf8');
  return `${bytes.subarray(0, MAX_RAW).toString('utf8')}... (${bytes.length} bytes, truncated)`;
}
