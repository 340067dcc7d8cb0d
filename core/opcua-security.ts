/**
 * OPC UA security modes and policies by the names the configuration uses, and their node-opcua
 * values: one map for the ingest source, the test server and the plant simulator.
 *
 * node-opcua is imported for its types only, so the config schema can list the names without
 * loading node-opcua (some 100 MB) into a process that reads no OPC UA. The values are the
 * specification's (MessageSecurityMode numbers, policy URIs); opcua-security.test.ts checks them
 * against node-opcua's own enums.
 */
import type { MessageSecurityMode, SecurityPolicy } from 'node-opcua';

export const OPCUA_SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const OPCUA_SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type OpcuaSecurityModeName = typeof OPCUA_SECURITY_MODES[number];
export type OpcuaSecurityPolicyName = typeof OPCUA_SECURITY_POLICIES[number];

/** OPC UA Part 4, MessageSecurityMode. */
export const SECURITY_MODE: Record<OpcuaSecurityModeName, MessageSecurityMode> = {
  None: 1 as MessageSecurityMode,
  Sign: 2 as MessageSecurityMode,
  SignAndEncrypt: 3 as MessageSecurityMode,
};

/** OPC UA Part 7: a policy is named by its URI. */
export const SECURITY_POLICY = Object.fromEntries(
  OPCUA_SECURITY_POLICIES.map((name) => [name, `http://opcfoundation.org/UA/SecurityPolicy#${name}` as SecurityPolicy]),
) as Record<OpcuaSecurityPolicyName, SecurityPolicy>;
