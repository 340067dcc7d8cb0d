/**
 * The PDA upload API as the registry (../registry.ts) sees it. It has no Source object: its routes
 * are mounted on the service's HTTP server (../index.ts registerHttpSources).
 */
import { pdaAddressSchema, pdaSourceSchema } from './config.ts';
import type { SourceDescriptor } from '../types.ts';

export const pda = {
  type: 'pda',
  configSchema: pdaSourceSchema.default(pdaSourceSchema.parse({})),
  addressSchema: pdaAddressSchema,
} satisfies SourceDescriptor;
