/** The OPC UA source as the registry (../registry.ts) sees it. */
import { z } from 'zod';
import type { ProtocolSourceDescriptor } from '../types.ts';
import { opcuaAddressSchema, opcuaSourceSchema, type OpcuaAddress, type OpcuaSourceConfig, opcuaAddressKey, opcuaProductionProblems } from './config.ts';

export const opcua: ProtocolSourceDescriptor<OpcuaSourceConfig> = {
  type: 'opcua',
  configSchema: z.array(opcuaSourceSchema).default([]),
  addressSchema: opcuaAddressSchema,
  addressKey: (a) => opcuaAddressKey(a as OpcuaAddress),
  productionProblems: opcuaProductionProblems,
  load: () => import('./source.ts'),
};

