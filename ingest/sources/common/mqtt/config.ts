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
}).strict();
