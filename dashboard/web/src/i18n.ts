/**
 * zh-CN (default) and en. Every visible string goes through `t`; the choice is remembered in
 * localStorage. Switching re-renders the app from its root (App keys its tree on the language).
 */
import { zhCN, type MessageKey } from './i18n/zh-CN.ts';
import { en } from './i18n/en.ts';
import { alarmTypeName } from '../../../core/messages/alarm-texts.ts';
import { localizeReportNote } from '../../../core/messages/report-notes.ts';
import { localizeIncidentNote } from '../../../core/messages/incident-notes.ts';

export type Lang = 'zh-CN' | 'en';
export type { MessageKey };
const DICTS: Record<Lang, Record<MessageKey, string>> = { 'zh-CN': zhCN, en };
const STORAGE_KEY = 'aquawatch.lang';

function initialLang(): Lang {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (v === 'en' || v === 'zh-CN') return v;
  } catch { /* storage blocked: default */ }
  return 'zh-CN';
}

let current: Lang = initialLang();
document.documentElement.lang = current;

export function lang(): Lang { return current; }

export function setLang(l: Lang): void {
  current = l;
  document.documentElement.lang = l;
  try { localStorage.setItem(STORAGE_KEY, l); } catch { /* not remembered, still switched */ }
}

/** The message in the current language, with `{name}` placeholders filled from `params`. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const msg = DICTS[current][key] ?? key;
  return params ? msg.replace(/\{(\w+)\}/g, (_, k: string) => (k in params ? String(params[k]) : `{${k}}`)) : msg;
}

/** A message for a server-side code (state, kind, cause…) with a fallback to the code itself. */
export function tCode(prefix: string, code: string): string {
  const key = `${prefix}.${code}` as MessageKey;
  return DICTS[current][key] ?? code;
}

/** The codes that have a message under `prefix` (e.g. the audit log's actions, for a filter). */
export function codesOf(prefix: string): string[] {
  return Object.keys(DICTS[current]).filter((k) => k.startsWith(`${prefix}.`)).map((k) => k.slice(prefix.length + 1));
}

/** A KPI report's note in the current language (core/messages/report-notes.ts). */
export function reportNoteOf(note: string): string {
  return localizeReportNote(note, current);
}

/** A note of an incident's history in the current language (core/messages/incident-notes.ts). */
export function incidentNoteOf(note: string): string {
  return localizeIncidentNote(note, current);
}

/** An alarm type's name in the current language, from the catalog the notifier uses too (core/messages/alarm-texts.ts). */
export function alarmTypeOf(type: string): string {
  return alarmTypeName(type, current);
}

/** An alarm's text in the current language (rendered from its message code; a source's own message as it came). */
export function alarmTextOf(a: { message: string; localized?: Record<Lang, string> }): string {
  return a.localized?.[current] ?? a.message;
}
