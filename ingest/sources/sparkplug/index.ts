/** The Sparkplug B source as the registry (../registry.ts) sees it. */
import { z } from 'zod';
import type { ProtocolSourceDescriptor } from '../types.ts';
import { sparkplugAddressSchema, sparkplugSourceSchema, type SparkplugAddress, type SparkplugSourceConfig, sparkplugAddressKey } from './config.ts';

export const sparkplug: ProtocolSourceDescriptor<SparkplugSourceConfig> = {
  type: 'sparkplug',
  configSchema: z.array(sparkplugSourceSchema).default([]),
  addressSchema: sparkplugAddressSchema,
  addressKey: (a) => sparkplugAddressKey(a as SparkplugAddress),
  load: () => import('./sparkplug-source.ts'),
};

