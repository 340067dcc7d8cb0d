/**
 * The CSV history import as the registry (../registry.ts) sees it: a command (`aquawatch import`),
 * configured by its mapping file, so only its sensor address `{ type: csv }` is in the site config.
 */
import { z } from 'zod';
import type { SourceDescriptor } from '../types.ts';

export const csv: SourceDescriptor = {
  type: 'csv',
  addressSchema: z.object({ type: z.literal('csv') }).strict(),
};
