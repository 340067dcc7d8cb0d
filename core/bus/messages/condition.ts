/**
 * The condition message (topics.ts `conditionTopic`): something that should become (or stop being)
 * an alarm. Ingest publishes its own on the bus; analytics detectors return the same shape to the
 * alarm manager in process.
 */
export interface Condition {
  /** Stable id of the condition instance, e.g. `ingest.outbox_full` or `opcua.session_lost:plant1`. */
  id: string;
  type: string;
  state: 'raise' | 'update' | 'clear';
  /** Event time of the transition, ms. */
  ts: number;
  priority?: 'low' | 'medium' | 'high' | 'critical';
  site?: string;
  dma?: string;
  sensor?: string;
  message: string;
  evidence?: Record<string, unknown>;
}
