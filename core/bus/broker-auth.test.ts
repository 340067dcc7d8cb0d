import { describe, it, expect } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { mosquittoAuthFiles, BrokerAuthError } from './broker-auth.ts';
import { filterCovers, topicMatches } from './topic-filter.ts';

const broker = (extra: Record<string, unknown>) => parseConfig({ broker: { url: 'mqtt://mosquitto:1883', ...extra } }, '(test)', {}).broker;

describe('broker identities from the config', () => {
  it('refuses a device topic that reaches the platform bus, naming the key', () => {
    for (const f of ['aquawatch/v1/conditions/#', '#', '+/v1/alarms']) {
      expect(() => broker({ users: [{ username: 'd1', password: 'x', publish: [f] }] })).toThrow(/broker\.users\[0\]\.publish\[0\].*aquawatch/);
    }
  });

  it('writes Mosquitto files: the platform everywhere, each device on its own topics', () => {
    const { passwd, acl } = mosquittoAuthFiles(broker({
      username: 'aquawatch', password: 'p', users: [{ username: 'd1', password: 'q', publish: ['sim/a/#'], subscribe: ['cmd/a/#'] }],
    }));
    expect(passwd.split('\n').filter(Boolean).map((l) => l.split(':')[0])).toEqual(['aquawatch', 'd1']);
    expect(passwd).toMatch(/^aquawatch:\$7\$101\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/m);
    expect(acl).toContain('user aquawatch\ntopic readwrite #');
    expect(acl).toContain('user d1\ntopic write sim/a/#\ntopic read cmd/a/#');
  });

  it('needs the platform identity and names that cannot go in the files', () => {
    expect(() => mosquittoAuthFiles(broker({}))).toThrow(BrokerAuthError);
    expect(() => mosquittoAuthFiles(broker({ username: 'aquawatch', password: 'p', users: [{ username: 'bad name', password: 'x' }] })))
      .toThrow(/broker\.users\[0\]\.username/);
  });
});

describe('topic filters', () => {
  it('match as MQTT brokers do', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(filterCovers('a/#', 'a/+/c')).toBe(true);
    expect(filterCovers('a/+/c', 'a/#')).toBe(false);
    expect(filterCovers('aquawatch/v1/alarms/#', 'aquawatch/v1/#')).toBe(false);
  });
});
