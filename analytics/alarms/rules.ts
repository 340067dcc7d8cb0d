/**
 * The alarm manager's rules: per condition type, the on-delay, off-delay and default priority
 * (AlarmRule); and which conditions are secondary effects of an alarm of another type (LinkRule).
 * Types match exactly, or by prefix when the pattern ends in `*`.
 */
import { ALARM_PRIORITIES, type AlarmPriority } from '../../core/state/alarm-store.ts';
import { AlarmError } from './validate.ts';

/** The per-type lifecycle rule. Delays are event time, ms. */
export interface AlarmRule {
  /** A raise must hold this long (no clear) before it becomes an alarm. Default 0. */
  onDelayMs?: number;
  /** A clear must hold this long (no raise) before the alarm returns to normal. Default 0. */
  offDelayMs?: number;
  /** Priority when the condition carries none. Default `medium`. */
  priority?: AlarmPriority;
}

/**
 * Conditions of a child type in the same DMA as an alarm of a parent type, from `windowMs` before
 * the parent's condition started until `windowMs` after it cleared, are linked to it as secondaries.
 */
export interface LinkRule {
  parentTypes: string[];
  childTypes: string[];
  windowMs: number;
}

/**
 * Default: a burst's pressure conditions in its DMA are its secondary effects, not alarms of their
 * own; so are an outage's (a DMA without water has low and falling pressure at every logger: the
 * outage is the one alarm, ISA-18.2).
 */
export const DEFAULT_LINK_RULES: readonly LinkRule[] = [
  { parentTypes: ['burst*'], childTypes: ['pressure*'], windowMs: 30 * 60_000 },
  { parentTypes: ['outage*'], childTypes: ['pressure*'], windowMs: 30 * 60_000 },
];

export function typeMatches(pattern: string, type: string): boolean {
  return pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

/**
 * Rules keyed by condition type (exact, or a prefix ending in `*`; the longest prefix wins); key
 * `default` applies to the rest. Checked at construction, resolved once per type.
 */
export class AlarmRules {
  private readonly patterns: [string, AlarmRule][];
  private readonly resolved = new Map<string, Required<AlarmRule>>();

  constructor(private readonly rules: Record<string, AlarmRule> = {}) {
    this.patterns = Object.entries(rules).filter(([k]) => k.endsWith('*')).sort((a, b) => b[0].length - a[0].length);
    for (const [type, rule] of Object.entries(rules)) {
      for (const key of ['onDelayMs', 'offDelayMs'] as const) {
        const v = rule[key];
        if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new AlarmError(`rules.${type}.${key}: must be a number ≥ 0 (got ${v})`);
      }
      if (rule.priority !== undefined && !ALARM_PRIORITIES.includes(rule.priority)) throw new AlarmError(`rules.${type}.priority: must be one of ${ALARM_PRIORITIES.join(', ')}`);
    }
  }

  /** The rule for a type, shared: not to be changed (it runs per track and step). */
  of(type: string): Required<AlarmRule> {
    let resolved = this.resolved.get(type);
    if (!resolved) this.resolved.set(type, resolved = this.resolve(type));
    return resolved;
  }

  private resolve(type: string): Required<AlarmRule> {
    const rule = this.rules[type] ?? this.patterns.find(([p]) => typeMatches(p, type))?.[1] ?? this.rules.default ?? {};
    return { onDelayMs: rule.onDelayMs ?? 0, offDelayMs: rule.offDelayMs ?? 0, priority: rule.priority ?? 'medium' };
  }
}
