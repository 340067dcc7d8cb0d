/**
 * Topic patterns of the MQTT source: an MQTT topic filter whose levels may also be named captures.
 * `wq/{site}/{sensor}` subscribes to `wq/+/+` and, for the topic `wq/north/cl-7`, captures
 * `{ site: 'north', sensor: 'cl-7' }`. `+` and `#` keep their MQTT meaning.
 */
import { ConfigError } from '../../../core/config/load.ts';

type Level =
  | { kind: 'literal'; text: string }
  | { kind: 'capture'; name: string }
  | { kind: 'plus' }
  | { kind: 'hash' };

export interface CompiledPattern {
  /** The pattern as configured. */
  pattern: string;
  /** What to subscribe to: captures replaced by `+`. */
  filter: string;
  levels: Level[];
  /** True when a `{sensor}` level names the sensor. */
  capturesSensor: boolean;
}

const CAPTURE = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Parse and check a pattern; `field` names it in errors (e.g. `sources.mqtt[plant].topics[0].pattern`). */
export function compilePattern(pattern: string, field: string): CompiledPattern {
  const fail = (reason: string): never => { throw new ConfigError('(config)', [`${field}: ${reason} in '${pattern}'`]); };
  const parts = pattern.split('/');
  const levels: Level[] = [];
  const names = new Set<string>();
  parts.forEach((part, i) => {
    if (part === '#') {
      if (i !== parts.length - 1) fail('# must be the last level');
      levels.push({ kind: 'hash' });
    } else if (part === '+') {
      levels.push({ kind: 'plus' });
    } else if (part.includes('{') || part.includes('}')) {
      const m = CAPTURE.exec(part);
      if (!m) fail(`level '${part}': a capture is a whole level like {sensor}`);
      const name = m![1];
      if (names.has(name)) fail(`capture {${name}} appears twice`);
      names.add(name);
      levels.push({ kind: 'capture', name });
    } else if (part.includes('+') || part.includes('#')) {
      fail(`level '${part}': + and # must be a whole level`);
    } else {
      levels.push({ kind: 'literal', text: part });
    }
  });
  const filter = levels.map((l) => (l.kind === 'literal' ? l.text : l.kind === 'hash' ? '#' : '+')).join('/');
  return { pattern, filter, levels, capturesSensor: names.has('sensor') };
}

/** The captures when `topic` matches the pattern, or undefined. */
export function matchTopic(p: CompiledPattern, topic: string): Record<string, string> | undefined {
  const parts = topic.split('/');
  const captures: Record<string, string> = {};
  // MQTT: wildcards at the first level do not match topics starting with `$` ($SYS, $share).
  if (topic.startsWith('$') && p.levels[0]?.kind !== 'literal') return undefined;
  for (let i = 0; i < p.levels.length; i++) {
    const level = p.levels[i];
    if (level.kind === 'hash') return captures; // also matches the parent level (`a/#` matches `a`)
    if (i >= parts.length) return undefined;
    if (level.kind === 'literal') {
      if (parts[i] !== level.text) return undefined;
    } else if (level.kind === 'capture') {
      captures[level.name] = parts[i];
    }
  }
  return parts.length === p.levels.length ? captures : undefined;
}
