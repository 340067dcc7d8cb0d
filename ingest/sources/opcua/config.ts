/**
 * The OPC UA source's configuration (`sources.opcua[]`, one per server) and the address of a sensor
 * it reads (`source: { type: opcua, server, nodeId }`).
 */
import { z } from 'zod';
import { idSchema } from '../../../core/config/schema.ts';
import { OPCUA_SECURITY_MODES, OPCUA_SECURITY_POLICIES } from '../../../core/opcua-security.ts';

export const opcuaSourceSchema = z.object({
  name: idSchema,
  endpoint: z.string().regex(/^opc\.tcp:\/\//, 'must start with opc.tcp://'),
  securityMode: z.enum(OPCUA_SECURITY_MODES).default('None'),
  securityPolicy: z.enum(OPCUA_SECURITY_POLICIES).default('None'),
  auth: z.discriminatedUnion('type', [
    z.object({ type: z.literal('anonymous') }).strict(),
    z.object({ type: z.literal('username'), username: z.string().min(1), password: z.string() }).strict(),
    z.object({ type: z.literal('certificate'), certificate: z.string().min(1), privateKey: z.string().min(1) }).strict(),
  ]).default({ type: 'anonymous' }),
  /** The client's PKI: own certificate, trusted and rejected server certificates. Under dataDir when relative. */
  pkiFolder: z.string().default('pki/opcua'),
  /** Server certificates (PEM or DER files) to trust in addition to those in the PKI's trusted folder. */
  trustedServerCertificates: z.array(z.string()).default([]),
  samplingIntervalMs: z.number().int().min(0).default(1000),
  publishingIntervalMs: z.number().int().min(50).default(1000),
  /**
   * Server-side queue per monitored item. Default: enough samples for one publishing interval.
   * Raise it (with samplingIntervalMs 0) to receive every change of a fast source, e.g. a simulator
   * running faster than real time.
   */
  queueSize: z.number().int().min(1).max(100_000).optional(),
  /** Report a value again when only its source timestamp changes (trigger StatusValueTimestamp). */
  reportSameValue: z.boolean().default(false),
  /** Monitored items created per CreateMonitoredItems request, to stay under the server's message size. */
  batchSize: z.number().int().min(1).max(10_000).default(500),
  /** A subscription with no data and no keep-alive for this long is reported silent. */
  silenceTimeoutMs: z.number().int().positive().default(30_000),
  /**
   * Production mode refuses security mode None and anonymous sessions (anyone on the plant network
   * could forge values); `true` accepts that risk for this server, and the source then keeps a
   * warning condition raised for as long as it runs. A username over None is refused regardless.
   */
  allowInsecure: z.boolean().default(false),
}).strict();

/** In production: what an OPC UA server's settings ask for that production refuses (see allowInsecure). */
export function opcuaProductionProblems(section: unknown): string[] {
  const servers = Array.isArray(section) ? section as OpcuaSourceConfig[] : [];
  return servers.flatMap((s, i) => {
    const key = `sources.opcua[${i}]`;
    const out: string[] = [];
    if (s.securityMode === 'None' && s.auth.type === 'username') {
      out.push(`${key}.auth: a username and password over security mode None travel in clear text; use Sign or SignAndEncrypt`);
    }
    if (!s.allowInsecure) {
      if (s.securityMode === 'None') out.push(`${key}.securityMode: None is refused in production mode (plant values could be forged on the network); use Sign or SignAndEncrypt, or set allowInsecure: true to accept the risk`);
      if (s.auth.type === 'anonymous') out.push(`${key}.auth: anonymous sessions are refused in production mode; use a username or a certificate, or set allowInsecure: true to accept the risk`);
    }
    return out;
  });
}

/** Why this server's session is insecure (None or anonymous), or undefined when it is not. */
export function opcuaInsecurity(s: OpcuaSourceConfig): string | undefined {
  const why = [s.securityMode === 'None' ? 'security mode None' : '', s.auth.type === 'anonymous' ? 'an anonymous session' : ''].filter(Boolean);
  return why.length ? why.join(' and ') : undefined;
}

/** A sensor read from an OPC UA server: one monitored item on the node's Value. */
export const opcuaAddressSchema = z.object({
  type: z.literal('opcua'),
  /** Name of the OPC UA source (sources.opcua[].name). */
  server: z.string().min(1),
  nodeId: z.string().min(1),
  /** Absolute deadband in the source's unit; 0 reports every change. */
  deadband: z.number().min(0).optional(),
  samplingIntervalMs: z.number().int().min(0).optional(),
}).strict();

/** One node of one server (deadband and sampling are settings of the item, not its identity). */
export function opcuaAddressKey(a: Pick<OpcuaAddress, 'server' | 'nodeId'>): string {
  return `${a.server}|${a.nodeId}`;
}

export type OpcuaSourceConfig = z.infer<typeof opcuaSourceSchema>;
export type OpcuaAddress = z.infer<typeof opcuaAddressSchema>;
