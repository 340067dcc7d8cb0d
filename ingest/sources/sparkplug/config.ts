/**
 * The Sparkplug B source's configuration (`sources.sparkplug[]`) and the address of a sensor it reads
 * (`source: { type: sparkplug, group, node, device?, metric }`).
 */
import { z } from 'zod';
import { idSchema } from '../../../core/config/schema.ts';
import { sourceBrokerSchema } from '../common/mqtt/config.ts';

export const sparkplugSourceSchema = z.object({
  name: idSchema,
  broker: sourceBrokerSchema.optional(),
  clientId: z.string().optional(),
  /**
   * Sparkplug group ids to subscribe to; `+` for all. A metric maps to the sensor whose
   * source address names it; when a metric has no such sensor, `<group>.<node>[.<device>].<metric>`
   * is taken as the sensor id if it exists.
   */
  groups: z.array(z.string().min(1)).default(['+']),
  qos: z.union([z.literal(0), z.literal(1)]).default(1),
  /** The host application id for STATE messages (Sparkplug 3.0). */
  hostId: z.string().min(1).regex(/^[^/+#]+$/, 'no / + or # (it is a topic level)').default('aquawatch'),
  /** At most one rebirth request (NCMD Node Control/Rebirth) per edge node in this interval. */
  rebirthMinIntervalMs: z.number().int().min(0).default(5000),
}).strict();

/** A metric of an edge node, or of a device behind it. */
export const sparkplugAddressSchema = z.object({
  type: z.literal('sparkplug'),
  group: z.string().min(1),
  node: z.string().min(1),
  device: z.string().min(1).optional(),
  metric: z.string().min(1),
}).strict();

/** One metric of one node or device. */
export function sparkplugAddressKey(a: Pick<SparkplugAddress, 'group' | 'node' | 'device' | 'metric'>): string {
  return `${a.group}|${a.node}|${a.device ?? ''}|${a.metric}`;
}

export type SparkplugSourceConfig = z.infer<typeof sparkplugSourceSchema>;
export type SparkplugAddress = z.infer<typeof sparkplugAddressSchema>;
