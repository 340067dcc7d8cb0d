/**
 * Every MQTT topic of the platform's own bus. The message on each topic is defined in
 * core/bus/messages/ (telemetry, condition, status, alarm). Versioned (`v1`) so that a later format can run
 * beside this one during an upgrade.
 */
export const TOPIC_ROOT = 'aquawatch/v1';

/** Accepted readings, batched per DMA (`_` for readings outside any DMA): messages/telemetry.ts. */
export const telemetryTopic = (dma: string) => `${TOPIC_ROOT}/telemetry/${dma || '_'}`;
export const TELEMETRY_FILTER = `${TOPIC_ROOT}/telemetry/+`;

/** Alarm conditions raised by ingest or analytics (e.g. outbox full, source disconnected): messages/condition.ts. */
export const conditionTopic = (origin: string) => `${TOPIC_ROOT}/conditions/${origin}`;
export const CONDITION_FILTER = `${TOPIC_ROOT}/conditions/#`;

/**
 * The conditions a publisher holds active now, one retained message per publisher, replaced at each
 * change (messages/condition.ts `ActiveConditions`): a subscriber that was away (a restart, a lost
 * connection) gets it at once and catches up on raises and clears it missed.
 */
export const activeConditionsTopic = (origin: string) => `${TOPIC_ROOT}/conditions-active/${origin}`;
export const ACTIVE_CONDITIONS_FILTER = `${TOPIC_ROOT}/conditions-active/+`;

/**
 * Sensors a source lost or regained (Sparkplug death and birth, OPC UA session lost and restored):
 * messages/status.ts. The analytics worker reads it; sensor health marks the sensors offline.
 */
export const statusTopic = (source: string) => `${TOPIC_ROOT}/status/${source}`;
export const STATUS_FILTER = `${TOPIC_ROOT}/status/#`;

/**
 * The sensors a source holds offline now, one retained message per source, replaced at each change
 * (messages/status.ts `OfflineSensors`): the analytics, back after a restart or a lost connection,
 * marks offline what it missed going offline and online what it missed coming back.
 */
export const offlineSensorsTopic = (source: string) => `${TOPIC_ROOT}/status-offline/${source}`;
export const OFFLINE_SENSORS_FILTER = `${TOPIC_ROOT}/status-offline/+`;

/**
 * Alarm transitions, one message per transition, QoS 1, per DMA (`_` for alarms outside any DMA):
 * messages/alarm.ts. The analytics worker publishes them for integrations (subscribe to
 * `aquawatch/v1/alarms/+`, or one DMA's topic): docs/alarm-topic.md.
 */
export const alarmTopic = (dma: string | undefined) => `${TOPIC_ROOT}/alarms/${dma || '_'}`;
export const ALARM_FILTER = `${TOPIC_ROOT}/alarms/+`;
