/**
 * Incident sources for the KPIs: a plain list (tests, imports) and an adapter to the outage
 * register (analytics/outages/register.ts), which keeps incidents in the server's state database.
 */
import { existsSync } from 'node:fs';
import { openStateDbReadOnly } from '../../core/state/state-db.ts';
import { OutageRegister } from '../outages/register.ts';
import { CAUSE_CODES } from '../outages/types.ts';
import type { IncidentSource } from './types.ts';
import type { Incident } from '../outages/types.ts';

/** The cause codes incidents may carry (from the register). */
export const KNOWN_CAUSE_CODES: readonly string[] = CAUSE_CODES;

/** Incidents held in memory. */
export class ListIncidentSource implements IncidentSource {
  constructor(private readonly list: readonly Incident[]) {}
  incidents(from: number, to: number): Incident[] {
    return this.list.filter((i) => i.start < to && (i.end === undefined || i.end > from || (i.end === i.start && i.start >= from)));
  }
}

/** Anything with the register's `listIncidents` (the register itself, or a test double of it). */
export interface IncidentLister {
  listIncidents(from?: number, to?: number): Incident[];
}

/** The outage register as an incident source. */
export function registerIncidentSource(register: IncidentLister): IncidentSource {
  return { incidents: (from, to) => register.listIncidents(from, to) };
}

/**
 * Opens the register in a state database file read-only, for a report: nothing is created or changed.
 * Returns undefined (with the reason) when the file or its incidents table does not exist.
 */
export function openRegisterReadOnly(path: string): { source: IncidentSource; close(): void } | { missing: string } {
  if (!existsSync(path)) return { missing: `${path} does not exist` };
  const db = openStateDbReadOnly(path);
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outage_incidents'").get();
  if (!hasTable) {
    db.close();
    return { missing: `${path} holds no outage incidents table` };
  }
  // The register's CREATE TABLE IF NOT EXISTS statements are no-ops when the tables exist, so it opens on a read-only handle.
  const register = new OutageRegister(db);
  return { source: registerIncidentSource(register), close: () => db.close() };
}
