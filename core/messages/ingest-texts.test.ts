/**
 * Every condition type ingest raises has a name and raise/clear texts in zh-CN and en; a condition
 * from the bus gets its text from what it carries, and keeps its English message when that does
 * not fill the text.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBusCondition } from '../bus/messages/condition.ts';
import { conditionTopic } from '../bus/topics.ts';
import { ALARM_TYPE_NAMES, alarmMessage, renderAlarmText } from './alarm-texts.ts';
import { INGEST_TEXTS, ingestConditionText } from './ingest-texts.ts';

const INGEST = fileURLToPath(new URL('../../ingest/', import.meta.url));

/** Condition types written as literals in ingest's sources (the durable MQTT subscriber's `<type>.disconnected` is built from its source type). */
function ingestConditionTypes(): string[] {
  const files = readdirSync(INGEST, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const types = new Set(['mqtt.disconnected', 'sparkplug.disconnected']);
  for (const f of files) for (const m of readFileSync(join(INGEST, f), 'utf8').matchAll(/['`]((?:ingest|source|sparkplug|mqtt)\.[a-z_]+)['`]/g)) types.add(m[1]);
  return [...types];
}

describe('texts of ingest conditions', () => {
  it('every type ingest raises has a name and a raise and clear text in both languages', () => {
    const types = ingestConditionTypes();
    expect(types.length).toBeGreaterThan(10);
    for (const type of types) {
      expect(ALARM_TYPE_NAMES[type]?.['zh-CN'], type).toMatch(/[\u4e00-\u9fff]/);
      expect(Object.keys(INGEST_TEXTS), type).toEqual(expect.arrayContaining([`${type}.raise`, `${type}.clear`]));
    }
  });

  it('a condition from the bus carries its text, filled from its id and evidence', () => {
    const clock = { now: () => 1_000_000, maxFutureMs: 60_000 };
    const c = { id: 'opcua.session_lost:plant', type: 'source.session_lost', state: 'raise', ts: 1_000_000, priority: 'high',
      message: 'OPC UA source plant: no session with opc.tcp://plc:4840: connection refused', evidence: { endpoint: 'opc.tcp://plc:4840', reason: 'connection refused' } };
    const checked = checkBusCondition(conditionTopic('ingest'), JSON.stringify(c), clock);
    expect(checked.ok && checked.condition.text).toEqual({ code: 'source.session_lost.raise', params: { source: 'plant', endpoint: 'opc.tcp://plc:4840', reason: 'connection refused' } });
    if (!checked.ok) return;
    expect(alarmMessage(checked.condition, 'zh-CN')).toBe('OPC UA 数据源 plant:与 opc.tcp://plc:4840 无会话(connection refused)');
    const node = ingestConditionText({ id: 'sparkplug.node_death:demo/central', type: 'sparkplug.node_death', state: 'raise' })!;
    expect(renderAlarmText(node, 'zh-CN')).toBe('Sparkplug 边缘节点 demo/central 离线(NDEATH),其传感器没有当前值');
    expect(renderAlarmText(node, 'en')).toBe('Sparkplug edge node demo/central is offline (NDEATH); its sensors have no current values');
  });

  it('without what the text needs, or for an unknown type, there is no text (the message shows)', () => {
    expect(ingestConditionText({ id: 'ingest.outbox_full', type: 'ingest.outbox_full', state: 'raise' })).toBeUndefined();
    expect(ingestConditionText({ id: 'ingest.x', type: 'ingest.x', state: 'raise' })).toBeUndefined();
    expect(ingestConditionText({ id: 'ingest.outbox_full', type: 'ingest.outbox_full', state: 'raise', evidence: { depth: 5, capacity: 5, nested: { a: 1 } } }))
      .toEqual({ code: 'ingest.outbox_full.raise', params: { depth: 5 } });
  });
});
