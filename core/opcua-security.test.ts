import { describe, expect, it } from 'vitest';
import { MessageSecurityMode, SecurityPolicy } from 'node-opcua';
import { OPCUA_SECURITY_MODES, OPCUA_SECURITY_POLICIES, SECURITY_MODE, SECURITY_POLICY } from './opcua-security.ts';

describe('OPC UA security names', () => {
  it('map to node-opcua\'s own enum values', () => {
    for (const name of OPCUA_SECURITY_MODES) expect(SECURITY_MODE[name]).toBe(MessageSecurityMode[name]);
    for (const name of OPCUA_SECURITY_POLICIES) expect(SECURITY_POLICY[name]).toBe(SecurityPolicy[name]);
  });
});
