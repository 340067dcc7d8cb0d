/**
 * The MQTT source's configuration (`sources.mqtt[]`, one per broker connection) and the address of
 * a sensor it reads (`source: { type: mqtt, topic }`).
 */
import { z } from 'zod';
import { idSchema } from '../../../core/config/schema.ts';
import { sourceBrokerSchema } from '../common/mqtt/config.ts';

export const topicPatternSchema = z.object({
  /**
   * MQTT topic filter with named segments: `wq/{site}/{sensor}` captures the sensor id from the topic;
   * `+` and `#` match as in MQTT. Without `{sensor}`, the sensor is looked up by exact topic
   * (sensor.source.topic) or taken from `sensorPath` in the payload.
   */
  pattern: z.string().min(1),
  format: z.enum(['json', 'number']).default('json'),
  /** Dotted paths into a JSON payload. */
  valuePath: z.string().default('value'),
  timePath: z.string().optional(),
  unitPath: z.string().optional(),
  qualityPath: z.string().optional(),
  sensorPath: z.string().optional(),
  /** Time format of timePath: epoch ms, epoch s, or ISO 8601. */
  timeFormat: z.enum(['ms', 's', 'iso']).default('ms'),
}).strict();

export const mqttSourceSchema = z.object({
  name: idSchema,
  /** Broker to read from; defaults to the platform's broker. */
  broker: sourceBrokerSchema.optional(),
  clientId: z.string().optional(),
  /**
   * Subscribe through a shared subscription (`$share/<group>/<filter>`) so several ingest instances
   * split the load (Mosquitto 2 and EMQX; not the embedded aedes broker).
   */
  shareGroup: z.string().min(1).regex(/^[^/+#]+$/, 'no / + or # (it is a topic level)').optional(),
  qos: z.union([z.literal(0), z.literal(1)]).default(1),
  topics: z.array(topicPatternSchema).default([]),
}).strict();

/** A sensor that publishes on one exact topic. */
export const mqttAddressSchema = z.object({
  type: z.literal('mqtt'),
  /** Exact topic this sensor publishes on (or omit and let a topic pattern name the sensor). */
  topic: z.string().min(1),
}).strict();

export type MqttSourceConfig = z.infer<typeof mqttSourceSchema>;
export type TopicPatternConfig = z.infer<typeof topicPatternSchema>;
export type MqttAddress = z.infer<typeof mqttAddressSchema>;
