/**
 * What the pipeline promises a source that submits readings: the result of `submit`, the error it
 * throws when full, and the shape of input a source could not decode. The pipeline produces these;
 * sources (ingest/sources/types.ts) consume them.
 */

export interface Rejection {
  /** Index of the reading in the submitted array. */
  index: number;
  /** The field at fault: `sensor`, `ts`, `value`, `unit`, `quality`. */
  field: string;
  reason: string;
}

export interface SubmitResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

/** Raised when the outbox is full: the source must not acknowledge; it should retry later. */
export class BackpressureError extends Error {
  constructor(message = 'outbox full: readings refused until the store catches up') {
    super(message);
    this.name = 'BackpressureError';
  }
}

/** Raw input a source could not even turn into a reading (bad JSON, unknown topic), kept for inspection. */
export interface UndecodableInput {
  /** Where it came from: topic, node id, line number. */
  origin: string;
  reason: string;
  raw: string;
}

/**
 * Raised when most sensors report times ahead of the server clock: the server's clock is behind,
 * the readings are right. A back-pressure refusal like a full outbox (the source must not
 * acknowledge, and retries), accepting nothing of the batch.
 */
export class ClockBehindError extends BackpressureError {
  constructor(message: string) {
    super(message);
    this.name = 'ClockBehindError';
  }
}
