import { describe, expect, it } from 'vitest';
import { INCIDENT_NOTES, incidentNote, localizeIncidentNote } from './incident-notes.ts';

describe('incident history notes', () => {
  it('are stored in English and shown in either language with their parameters', () => {
    const note = incidentNote('emergency_opened', { hours: 24, id: 'es-north:1' });
    expect(note).toBe('outage reached 24 h: emergency supply record es-north:1 opened');
    expect(localizeIncidentNote(note, 'zh-CN')).toBe('停水已达 24 小时：已建立应急供水记录 es-north:1');
    expect(localizeIncidentNote(incidentNote('manual_outage', { dma: 'south' }), 'zh-CN')).toBe('手工录入：south 停水');
    expect(localizeIncidentNote(note, 'en')).toBe(note);
    expect(localizeIncidentNote('written by someone', 'zh-CN')).toBe('written by someone');
  });

  it('have both languages with the same placeholders', () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [code, texts] of Object.entries(INCIDENT_NOTES)) expect(names(texts['zh-CN']), code).toEqual(names(texts.en));
  });
});
