/**
 * Every view in zh-CN and en (issue #14): the two dictionaries have the same keys, no empty message
 * and the same placeholders; every message key the app's sources name exists; every code a view
 * shows through `tCode(prefix, code)` has a message for each value the server may send; no view
 * writes English text straight into its markup. The browser side (no raw key or English label on
 * any view) is in test/e2e/incidents.test.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zhCN } from './i18n/zh-CN.ts';
import { en } from './i18n/en.ts';
import {
  alarmEventRecord, alarmState, API, CASE_ACTIONS, CASE_STATES, causeCode, CLOSE_REASONS, compensationLine, compensationRules,
  complaintCategory, complaintChange, complaintStatus, customerNoticeRow, deliveryRecord, disclosure, dmaStateName, emergencyMeasure,
  healthState, incidentChange, incidentKind, incidentRecord, LIMIT_RULES, mapSensor, noticeDelivery, PASSWORD_RULES, role, workOrderStatus,
} from '../../contract/index.ts';
import { BUILT_IN_CHANNELS } from '../../server/state/complaints.ts';
import { AUDITED_ACTIONS } from '../../server/audit.ts';

const SRC = fileURLToPath(new URL('.', import.meta.url));
const DICTS = { 'zh-CN': zhCN as Record<string, string>, en: en as Record<string, string> };

const enumValues = (schema: z.ZodType): readonly string[] => (schema as unknown as { options: string[] }).options;

/**
 * The codes each `tCode` prefix is given: the values the server may send there. A view that uses a
 * new prefix adds it here with where its codes come from.
 */
const CODE_SETS: Record<string, readonly string[]> = {
  state: enumValues(dmaStateName),
  kind: enumValues(mapSensor.shape.kind),
  place: enumValues(mapSensor.shape.place),
  health: enumValues(healthState),
  cause: enumValues(causeCode),
  incKind: enumValues(incidentKind),
  incOrigin: enumValues(incidentRecord.shape.origin),
  incAction: enumValues(incidentChange.shape.action),
  /** The fields the incident book records changes of (analytics/outages/incident-book.ts). */
  incField: ['cause', 'customersAffected', 'affectedPart', 'expectedRestoration', 'actualRestoration', 'end', 'notes', 'mergedInto', 'merged', 'measures'],
  measure: enumValues(emergencyMeasure.shape.kind),
  woStatus: enumValues(workOrderStatus),
  role: enumValues(role),
  alarmState: enumValues(alarmState),
  alarmEvent: enumValues(alarmEventRecord.shape.kind),
  deliveryState: enumValues(deliveryRecord.shape.state),
  noticeState: enumValues(noticeDelivery.shape.state),
  caseState: CASE_STATES,
  caseAction: CASE_ACTIONS,
  closeReason: CLOSE_REASONS,
  'cust.noticeKind': enumValues(customerNoticeRow.shape.kind),
  'cust.status': enumValues((API.customers.anomalies.querystring as z.ZodObject<{ status: z.ZodOptional<z.ZodEnum> }>).shape.status.unwrap()),
  'complaints.cat': enumValues(complaintCategory),
  'complaints.state': enumValues(complaintStatus),
  'complaints.action': enumValues(complaintChange.shape.action),
  /** The built-in channels (a site's own channels carry their name from the config). */
  'complaints.channel': BUILT_IN_CHANNELS,
  'comp.per': enumValues(compensationRules.shape.outage.shape.rate.shape.per),
  'comp.basisOf': enumValues(compensationLine.shape.basis),
  'disclosure.status': enumValues(disclosure.shape.status),
  /** The audit log's actions: every state-changing route of the API. */
  auditAction: AUDITED_ACTIONS,
  /** Why a new password is refused (the API error's `rule`). */
  passwordRule: PASSWORD_RULES,
  /** Which limit a 429 names (the API error's `rule`). */
  limitRule: LIMIT_RULES,
};

function sources(dir = SRC): { file: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'i18n' ? [] : sources(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.test.ts') ? [{ file: relative(SRC, path), text: readFileSync(path, 'utf8') }] : [];
  });
}

const placeholders = (msg: string) => [...msg.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the zh-CN and en dictionaries', () => {
  it('have the same keys, no empty message, and the same placeholders', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zhCN).sort());
    for (const [lang, dict] of Object.entries(DICTS)) {
      for (const [key, msg] of Object.entries(dict)) expect(msg.trim(), `${lang} ${key}`).not.toBe('');
    }
    for (const key of Object.keys(zhCN)) expect(placeholders(DICTS.en[key]), key).toEqual(placeholders(DICTS['zh-CN'][key]));
  });

  it('have every message key the app names', () => {
    const used = sources().flatMap(({ file, text }) => [...text.matchAll(/\bt\(\s*'([^']+)'/g)].map((m) => ({ file, key: m[1] })));
    expect(used.length).toBeGreaterThan(300);
    for (const { file, key } of used) {
      expect(key in DICTS['zh-CN'] && key in DICTS.en, `${file}: t('${key}')`).toBe(true);
    }
  });

  it('have a message for every code a view shows, in both languages', () => {
    const calls = sources().flatMap(({ file, text }) => [...text.matchAll(/\btCode\(\s*'([^']+)'\s*,\s*([^)]*)\)/g)].map((m) => ({ file, prefix: m[1], arg: m[2].trim() })));
    expect(calls.length).toBeGreaterThan(30);
    for (const { file, prefix, arg } of calls) {
      // alarm types are named by core/messages/alarm-texts.ts (alarmTypeOf), which the notifier uses too
      expect(CODE_SETS[prefix], `${file}: tCode('${prefix}', …) has no code set in this test (alarm types: alarmTypeOf)`).toBeDefined();
      const literal = /^'([^']+)'$/.exec(arg);
      if (literal) expect(`${prefix}.${literal[1]}` in DICTS.en, `${file}: tCode('${prefix}', '${literal[1]}')`).toBe(true);
    }
    for (const [prefix, codes] of Object.entries(CODE_SETS)) {
      for (const code of codes) {
        for (const [lang, dict] of Object.entries(DICTS)) expect(dict[`${prefix}.${code}`], `${lang} ${prefix}.${code}`).toBeTruthy();
      }
    }
  });
});

describe('the views', () => {
  it('write no English text straight into their markup: every word goes through t()', () => {
    const found: string[] = [];
    for (const { file, text } of sources().filter((s) => s.file.endsWith('.tsx'))) {
      text.split('\n').forEach((line, n) => {
        // text between a tag's end and the next tag; not an arrow `=>`, a generic `Promise<…>`, code
        // between two elements (`</p> : canEdit && <>`) or a type (`Record<…>; onChange: (v: Partial<…>`)
        for (const m of line.matchAll(/([^=\s])>([^<>{}]*[A-Za-z]{2,}[^<>{}]*)</g)) {
          if (/&&|\|\||;|^\s*[:?]|^\s*(Promise|Record|Array|Set|Map)\s*$/.test(m[2])) continue;
          found.push(`${file}:${n + 1}: ${m[2].trim()}`);
        }
        for (const m of line.matchAll(/\b(placeholder|title|aria-label|alt)="([^"]*[A-Za-z]{2,}[^"]*)"/g)) found.push(`${file}:${n + 1}: ${m[1]}="${m[2]}"`);
      });
    }
    // the language switch names each language in itself
    expect(found.filter((f) => !/LanguageSwitch\.tsx:\d+: English$/.test(f))).toEqual([]);
  });
});
