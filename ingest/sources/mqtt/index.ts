/** The MQTT (JSON or plain number) source as the registry (../registry.ts) sees it. */
import { z } from 'zod';
import type { ProtocolSourceDescriptor } from '../types.ts';
import { mqttAddressSchema, mqttSourceSchema, type MqttAddress, type MqttSourceConfig } from './config.ts';

export const mqtt: ProtocolSourceDescriptor<MqttSourceConfig> = {
  type: 'mqtt',
  configSchema: z.array(mqttSourceSchema).default([]),
  addressSchema: mqttAddressSchema,
  addressKey: (a) => (a as MqttAddress).topic,
  load: () => import('./mqtt-source.ts'),
};
