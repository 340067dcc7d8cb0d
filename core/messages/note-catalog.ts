/**
 * Notes kept as English text where they are stored (a report, an incident's history) and shown in
 * the reader's language: the producers write a note only from its catalog entry, so the English
 * text can be matched back to its entry and parameters and rendered in zh-CN. A text that matches
 * no entry (written elsewhere, or by a person) is shown as it came. Pure string work, so the web
 * app bundles it.
 */
import type { TextLanguage, TextParams } from './alarm-texts.ts';

export type NoteTexts = Record<TextLanguage, string>;

const fill = (template: string, params: TextParams) => template.replace(/\{(\w+)\}/g, (whole, k: string) => (k in params ? String(params[k]) : whole));
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function noteCatalog<C extends string>(notes: Record<C, NoteTexts>) {
  const matchers = Object.values<NoteTexts>(notes).map((texts) => {
    const names: string[] = [];
    const source = texts.en.split(/(\{\w+\})/).map((part) => {
      const m = /^\{(\w+)\}$/.exec(part);
      if (!m) return escapeRegExp(part);
      names.push(m[1]);
      return '(.+?)';
    }).join('');
    return { pattern: new RegExp(`^${source}$`), names, texts };
  });
  return {
    /** The note as it is stored (English). */
    write: (code: C, params: TextParams = {}): string => fill(notes[code].en, params),
    /** A stored note in `language`. */
    localize: (note: string, language: TextLanguage): string => {
      for (const { pattern, names, texts } of matchers) {
        const m = pattern.exec(note);
        if (m) return fill(texts[language], Object.fromEntries(names.map((n, i) => [n, m[i + 1]])));
      }
      return note;
    },
  };
}
