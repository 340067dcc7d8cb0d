/** Configuration shared by the MQTT-based sources (MQTT JSON, Sparkplug B). */
import { z } from 'zod';
import { tlsSchema } from '../../../../core/config/schema.ts';

/**
 * A source's own broker settings, laid over the platform broker's. No defaults here (unlike
 * brokerSchema), so a key left out is inherited instead of reset; host/port belong to the embedded
 * broker only, a source names another broker by `url`.
 */
export const sourceBrokerSchema = z.object({
  url: z.string().min(1).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  tls: tlsSchema.optional(),
  /**
   * MQTT version of the source's connection. 4 (3.1.1, the default) works with every broker,
   * the embedded aedes included, which speaks nothing else. 5 puts the maximum packet size
   * (MQTT_MAX_PACKET_BYTES plus the topic's room) in the CONNECT, so a broker such as Mosquitto
   * never sends ingest a bigger message (it drops it), and asks for a session that outlives the
   * connection (session expiry: never).
   */
  protocolVersion: z.union([z.literal(4), z.literal(5)]).optional(),
}).strict();
