/**
 * Reads a scenario file: YAML with line positions kept, so that every error names the line (and
 * column) it is about and the reason: `demo.yaml:14:5: events[2].flow: Too small: expected number to be >0`.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { scenarioSchema, type ScenarioFile } from './schema.ts';

export interface ScenarioProblem {
  line: number;
  col: number;
  /** Key path in the file, e.g. events[2].flow. */
  path: string;
  message: string;
}

export class ScenarioError extends Error {
  constructor(readonly file: string, readonly problems: ScenarioProblem[]) {
    super(problems.map((p) => `${file}:${p.line}:${p.col}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n'));
    this.name = 'ScenarioError';
  }
}

export type PathKey = string | number;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** A parsed scenario with a way back from a key path to its place in the file. */
export interface ParsedScenario {
  file: string;
  scenario: ScenarioFile;
  /** Line and column (1-based) of the value at `path`, or of the nearest enclosing node present. */
  locate(path: readonly PathKey[], keyOnly?: boolean): { line: number; col: number };
  /** A ScenarioError for problems found after parsing (unknown junction, DMA...). */
  error(problems: { path: readonly PathKey[]; message: string }[]): ScenarioError;
}

function locator(doc: Document, lines: LineCounter) {
  const pos = (offset: number) => {
    const p = lines.linePos(offset);
    return { line: p.line, col: p.col };
  };
  return (path: readonly PathKey[], keyOnly = false): { line: number; col: number } => {
    let node: Node | null | undefined = doc.contents as Node | null;
    let at = node?.range ? pos(node.range[0]) : { line: 1, col: 1 };
    for (let i = 0; i < path.length; i++) {
      const key = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
        if (!pair) return at;
        const keyNode = pair.key as Node | null;
        if (keyNode?.range) at = pos(keyNode.range[0]);
        // the last key of a path that names a key (an unknown key) points at the key itself
        if (keyOnly && i === path.length - 1) return at;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key] as Node | undefined;
        if (!node) return at;
      } else {
        return at;
      }
      // an empty value (`key:`) has no range of its own; stay on its key
      if (node?.range && !(isScalar(node) && node.value === null)) at = pos(node.range[0]);
    }
    return at;
  };
}

function zodProblems(error: z.ZodError, locate: ReturnType<typeof locator>): ScenarioProblem[] {
  const out: ScenarioProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path as PathKey[];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ ...locate([...path, key], true), path: formatPath([...path, key]), message: 'unknown key' });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
    out.push({ ...locate(path), path: formatPath(path), message });
  }
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Parse and check the shape of a scenario given as text. */
export function parseScenario(text: string, file = '(scenario)'): ParsedScenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    throw new ScenarioError(file, doc.errors.map((e) => {
      const p = lines.linePos(e.pos[0]);
      return { line: p.line, col: p.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` };
    }));
  }
  const locate = locator(doc, lines);
  const raw = doc.toJS() ?? {};
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) throw new ScenarioError(file, zodProblems(result.error, locate));
  return {
    file,
    scenario: result.data,
    locate,
    error: (problems) => new ScenarioError(file, problems
      .map((p) => ({ ...locate(p.path), path: formatPath(p.path), message: p.message }))
      .sort((a, b) => a.line - b.line || a.col - b.col)),
  };
}

/** Read and parse a scenario file. */
export function readScenarioFile(path: string): ParsedScenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioError(basename(path), [{ line: 1, col: 1, path: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseScenario(text, path);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a duration string (already checked against DURATION_PATTERN). */
export function parseDuration(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return Math.round(total);
}
