/**
 * The PDA upload API's configuration (`sources.pda`, one for the service): meter readers' handhelds
 * post readings over HTTP. A customer meter's address is `{ type: pda }` (the topology gives it).
 */
import { z } from 'zod';
import { idSchema } from '../../../core/config/schema.ts';

export const pdaSourceSchema = z.object({
  enabled: z.boolean().default(true),
  /** Accept readings taken up to this many days ago (PDA uploads come late). */
  maxAgeDays: z.number().positive().default(45),
  maxItems: z.number().int().positive().default(10_000),
  /** Seconds a PDA is told to wait (Retry-After) when the outbox is full, the server clock is behind, or uploads queue up. */
  retryAfterS: z.number().int().positive().default(30),
  /**
   * Uploads waiting their turn (they are handled one at a time) beyond which an upload is answered
   * 503 with Retry-After: each waiting upload holds its body (up to 5 MB) in memory.
   */
  maxQueuedUploads: z.number().int().positive().default(16),
  /**
   * Device tokens given as SHA-256 hashes (64 hex digits), for an ingest instance without the
   * server's state database. Tokens issued by the server (device_tokens table) work as well.
   */
  devices: z.array(z.object({
    id: idSchema,
    tokenSha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (the SHA-256 of the token)'),
  }).strict()).default([]),
  /**
   * Meter-reading routes: the meters (listed, or all meters of the listed DMAs) each device may
   * write. With routes, a device writes only the meters of its routes (a device on none, none);
   * without, any device writes any meter of the topology.
   */
  routes: z.array(z.object({
    id: idSchema,
    devices: z.array(idSchema).min(1),
    meters: z.array(idSchema).default([]),
    dmas: z.array(idSchema).default([]),
  }).strict()).default([]),
}).strict();

export const pdaAddressSchema = z.object({ type: z.literal('pda') }).strict();

export type PdaSourceConfig = z.infer<typeof pdaSourceSchema>;
