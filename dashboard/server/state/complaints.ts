/**
 * The complaint ledger (投诉台账, issue #14.2) in the state database: every complaint received on the
 * hotline 12345, the utility's own line or a channel the config names, with when it came, who (the
 * customer's account or an address), its category and text, the area and incident it is about, who
 * handles it, and its way to closure: open → in progress → closed with a resolution, reopened when the
 * customer calls back. Each change is in the complaint's history with who and when (the API's audit
 * log has it too). `complaintCounts` gives the counts per channel and category for a period: the
 * figures of the quarterly disclosure.
 */
import type Database from 'better-sqlite3';
import { closeStateDb, storeDb } from '../../../core/state/state-db.ts';
import { DomainError, type DomainErrorCode } from '../../../core/errors.ts';

/** The categories the seeds' ledgers keep (no water, low pressure, quality, meter and billing, service, other). */
export const COMPLAINT_CATEGORIES = ['no_water', 'low_pressure', 'water_quality', 'meter_billing', 'service', 'other'] as const;
export type ComplaintCategory = (typeof COMPLAINT_CATEGORIES)[number];
export const COMPLAINT_STATUSES = ['open', 'in_progress', 'closed'] as const;
export type ComplaintStatus = (typeof COMPLAINT_STATUSES)[number];
/** Channels every site has: the government hotline 12345 and the utility's own service line. */
export const BUILT_IN_CHANNELS = ['hotline_12345', 'own_line'] as const;

export interface Complaint {
  id: string;
  channel: string;
  /** When the complaint came in (ms, UTC). */
  receivedAt: number;
  /** The customer's account, when known. */
  customer?: string;
  address?: string;
  /** How to reach the person who complained (name, phone), as they gave it. */
  contact?: string;
  category: ComplaintCategory;
  text: string;
  dma?: string;
  incidentId?: string;
  /** Who handles it (a user name or a team). */
  assignee?: string;
  status: ComplaintStatus;
  /** How it was resolved: required to close. */
  resolution?: string;
  closedAt?: number;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  updatedBy: string;
}

export interface ComplaintChange {
  complaintId: string;
  at: number;
  by: string;
  action: 'create' | 'edit' | 'start' | 'close' | 'reopen';
  /** Field → [before, after]. */
  changes: Record<string, [unknown, unknown]>;
  note?: string;
}

export type NewComplaint = Pick<Complaint, 'channel' | 'receivedAt' | 'category' | 'text'>
  & Partial<Pick<Complaint, 'customer' | 'address' | 'contact' | 'dma' | 'incidentId' | 'assignee'>>;

/** Fields a person may change after recording (`null` clears an optional one). */
export type ComplaintPatch = Partial<Pick<Complaint, 'channel' | 'receivedAt' | 'category' | 'text'>>
  & { [K in 'customer' | 'address' | 'contact' | 'dma' | 'incidentId' | 'assignee']?: string | null };

export interface ComplaintQuery {
  /** receivedAt in [from, to). */
  from?: number;
  to?: number;
  status?: ComplaintStatus;
  channel?: string;
  category?: ComplaintCategory;
  customer?: string;
  incidentId?: string;
  dma?: string;
  limit?: number;
}

export interface ComplaintCounts {
  from: number;
  to: number;
  total: number;
  /** Every channel known to the ledger, zero included. */
  byChannel: Record<string, number>;
  byCategory: Record<ComplaintCategory, number>;
  /** Of those received in the period: closed by now, and still open or in progress. */
  closed: number;
  unresolved: number;
}

/** A refusal naming the field (`field: reason`), as the API passes it on. */
const refused = (field: string, reason: string, code: DomainErrorCode = 'validation') => new DomainError(code, `${field}: ${reason}`, field);

const TABLES = `
  CREATE TABLE IF NOT EXISTS complaints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    customer TEXT, address TEXT, contact TEXT,
    category TEXT NOT NULL,
    text TEXT NOT NULL,
    dma TEXT, incident_id TEXT, assignee TEXT,
    status TEXT NOT NULL,
    resolution TEXT,
    closed_at INTEGER,
    created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS complaints_received ON complaints (received_at);
  CREATE TABLE IF NOT EXISTS complaint_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    action TEXT NOT NULL,
    changes TEXT NOT NULL,          -- JSON { field: [before, after] }
    note TEXT
  );
  CREATE INDEX IF NOT EXISTS complaint_history_complaint ON complaint_history (complaint_id, seq);
`;

interface Row {
  id: string; channel: string; received_at: number; customer: string | null; address: string | null; contact: string | null;
  category: string; text: string; dma: string | null; incident_id: string | null; assignee: string | null; status: string;
  resolution: string | null; closed_at: number | null; created_at: number; created_by: string; updated_at: number; updated_by: string;
}

/** Optional text fields and their columns. */
const OPTIONAL = { customer: 'customer', address: 'address', contact: 'contact', dma: 'dma', incidentId: 'incident_id', assignee: 'assignee' } as const;
const EDITABLE = ['channel', 'receivedAt', 'category', 'text', ...Object.keys(OPTIONAL)] as (keyof ComplaintPatch)[];

export class ComplaintLedger {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;

  /** `channels`: the site's channels besides the built-in ones (config `complaints.channels`). */
  constructor(db: string | Database.Database, private readonly extraChannels: readonly string[] = []) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }

  get channels(): string[] {
    return [...BUILT_IN_CHANNELS, ...this.extraChannels];
  }

  record(input: NewComplaint, by: string, at: number): Complaint {
    const c = this.checked({ ...input });
    let id = '';
    this.db.transaction(() => {
      const seq = Number(this.db.prepare(`INSERT INTO complaints (id, channel, received_at, customer, address, contact, category, text, dma, incident_id, assignee,
        status, created_at, created_by, updated_at, updated_by) VALUES ('', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`)
        .run(c.channel, c.receivedAt, c.customer ?? null, c.address ?? null, c.contact ?? null, c.category, c.text, c.dma ?? null,
          c.incidentId ?? null, c.assignee ?? null, at, by, at, by).lastInsertRowid);
      id = `C-${String(seq).padStart(5, '0')}`;
      this.db.prepare('UPDATE complaints SET id = ? WHERE seq = ?').run(id, seq);
      this.log(id, at, by, 'create', {});
    })();
    return this.get(id)!;
  }

  get(id: string): Complaint | undefined {
    const row = this.db.prepare('SELECT * FROM complaints WHERE id = ?').get(id) as Row | undefined;
    return row ? toComplaint(row) : undefined;
  }

  /** Newest received first. */
  list(q: ComplaintQuery = {}): Complaint[] {
    const where: string[] = [];
    const params: unknown[] = [];
    const eq = (col: string, v: unknown) => { if (v !== undefined) { where.push(`${col} = ?`); params.push(v); } };
    if (q.from !== undefined) { where.push('received_at >= ?'); params.push(q.from); }
    if (q.to !== undefined) { where.push('received_at < ?'); params.push(q.to); }
    eq('status', q.status); eq('channel', q.channel); eq('category', q.category); eq('customer', q.customer); eq('incident_id', q.incidentId); eq('dma', q.dma);
    const rows = this.db.prepare(`SELECT * FROM complaints ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at DESC, seq DESC LIMIT ?`)
      .all(...params, q.limit ?? 1000) as Row[];
    return rows.map(toComplaint);
  }

  history(id: string): ComplaintChange[] {
    const rows = this.db.prepare('SELECT * FROM complaint_history WHERE complaint_id = ? ORDER BY seq').all(id) as
      { complaint_id: string; at: number; by: string; action: ComplaintChange['action']; changes: string; note: string | null }[];
    return rows.map((r) => ({ complaintId: r.complaint_id, at: r.at, by: r.by, action: r.action, changes: JSON.parse(r.changes) as ComplaintChange['changes'], ...(r.note ? { note: r.note } : {}) }));
  }

  /** Corrects what was recorded; every changed field goes into the history. */
  edit(id: string, patch: ComplaintPatch, by: string, at: number): Complaint {
    const before = this.need(id);
    const merged: Record<string, unknown> = { ...before };
    for (const k of EDITABLE) if (patch[k] !== undefined) merged[k] = patch[k] === null ? undefined : patch[k];
    const after = this.checked(merged as unknown as NewComplaint);
    const changes: ComplaintChange['changes'] = {};
    for (const k of EDITABLE) if (before[k] !== after[k]) changes[k] = [before[k] ?? null, after[k] ?? null];
    if (!Object.keys(changes).length) return before;
    this.db.transaction(() => {
      this.db.prepare(`UPDATE complaints SET channel = ?, received_at = ?, customer = ?, address = ?, contact = ?, category = ?, text = ?, dma = ?,
        incident_id = ?, assignee = ?, updated_at = ?, updated_by = ? WHERE id = ?`)
        .run(after.channel, after.receivedAt, after.customer ?? null, after.address ?? null, after.contact ?? null, after.category, after.text,
          after.dma ?? null, after.incidentId ?? null, after.assignee ?? null, at, by, id);
      this.log(id, at, by, 'edit', changes);
    })();
    return this.get(id)!;
  }

  /**
   * Moves a complaint on: open → `in_progress` (someone works on it), open or in progress → `closed`
   * (a resolution is required), closed → `open` again (reopened: a reason is required; the old
   * resolution stays in the history).
   */
  setStatus(id: string, status: ComplaintStatus, o: { resolution?: string; note?: string }, by: string, at: number): Complaint {
    const before = this.need(id);
    if (!(COMPLAINT_STATUSES as readonly string[]).includes(status)) throw refused('status', `must be one of ${COMPLAINT_STATUSES.join(', ')}`);
    if (status === before.status) throw refused('status', `${id} is already ${status}`, 'conflict');
    if (before.status === 'closed' && status !== 'open') throw refused('status', `${id} is closed: reopen it first`, 'conflict');
    if (before.status === 'in_progress' && status === 'open') throw refused('status', `${id} is in progress: close it with a resolution`, 'conflict');
    const note = o.note?.trim() || undefined;
    let action: ComplaintChange['action'] = 'start';
    const changes: ComplaintChange['changes'] = { status: [before.status, status] };
    let resolution = before.resolution ?? null;
    let closedAt = before.closedAt ?? null;
    if (status === 'closed') {
      resolution = o.resolution?.trim() ?? '';
      if (!resolution) throw refused('resolution', 'say how the complaint was resolved to close it');
      changes.resolution = [before.resolution ?? null, resolution];
      closedAt = at;
      action = 'close';
    } else if (before.status === 'closed') {
      if (!note) throw refused('note', 'say why the complaint is reopened');
      changes.resolution = [before.resolution ?? null, null];
      resolution = null;
      closedAt = null;
      action = 'reopen';
    }
    this.db.transaction(() => {
      this.db.prepare('UPDATE complaints SET status = ?, resolution = ?, closed_at = ?, updated_at = ?, updated_by = ? WHERE id = ?')
        .run(status, resolution, closedAt, at, by, id);
      this.log(id, at, by, action, changes, note);
    })();
    return this.get(id)!;
  }

  /** Counts of the complaints received in [from, to), per channel and category. */
  counts(from: number, to: number): ComplaintCounts {
    const rows = this.db.prepare('SELECT channel, category, status, COUNT(*) AS n FROM complaints WHERE received_at >= ? AND received_at < ? GROUP BY channel, category, status')
      .all(from, to) as { channel: string; category: ComplaintCategory; status: ComplaintStatus; n: number }[];
    const out: ComplaintCounts = {
      from, to, total: 0, closed: 0, unresolved: 0,
      byChannel: Object.fromEntries(this.channels.map((c) => [c, 0])),
      byCategory: Object.fromEntries(COMPLAINT_CATEGORIES.map((c) => [c, 0])) as Record<ComplaintCategory, number>,
    };
    for (const r of rows) {
      out.total += r.n;
      out.byChannel[r.channel] = (out.byChannel[r.channel] ?? 0) + r.n;
      out.byCategory[r.category] += r.n;
      if (r.status === 'closed') out.closed += r.n;
      else out.unresolved += r.n;
    }
    return out;
  }

  private need(id: string): Complaint {
    const c = this.get(id);
    if (!c) throw refused('id', `no complaint ${id}`, 'not_found');
    return c;
  }

  private log(id: string, at: number, by: string, action: ComplaintChange['action'], changes: ComplaintChange['changes'], note?: string): void {
    this.db.prepare('INSERT INTO complaint_history (complaint_id, at, by, action, changes, note) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, at, by, action, JSON.stringify(changes), note ?? null);
  }

  /** The fields of a complaint checked, optional ones trimmed and empty ones dropped. */
  private checked(c: NewComplaint): NewComplaint {
    if (!this.channels.includes(c.channel)) throw refused('channel', `unknown channel ${JSON.stringify(c.channel)} (known: ${this.channels.join(', ')})`);
    if (!(COMPLAINT_CATEGORIES as readonly string[]).includes(c.category)) throw refused('category', `must be one of ${COMPLAINT_CATEGORIES.join(', ')}`);
    if (!Number.isFinite(c.receivedAt)) throw refused('receivedAt', 'expected a time in ms');
    const text = c.text.trim();
    if (!text) throw refused('text', 'say what the complaint is about');
    const out: NewComplaint = { channel: c.channel, receivedAt: c.receivedAt, category: c.category, text };
    for (const k of Object.keys(OPTIONAL) as (keyof typeof OPTIONAL)[]) {
      const v = c[k]?.trim();
      if (v) out[k] = v;
    }
    if (!out.customer && !out.address) throw refused('customer', 'give the customer\'s account or an address');
    return out;
  }
}

/** The counts of the complaints received in [periodStart, periodEnd) in a state database (the quarterly disclosure's figures). */
export function complaintCounts(db: Database.Database, periodStart: number, periodEnd: number, extraChannels: readonly string[] = []): ComplaintCounts {
  return new ComplaintLedger(db, extraChannels).counts(periodStart, periodEnd);
}

function toComplaint(r: Row): Complaint {
  const optional = Object.fromEntries(Object.entries(OPTIONAL).flatMap(([k, col]) => {
    const v = r[col as keyof Row];
    return v === null ? [] : [[k, v]];
  }));
  return {
    id: r.id, channel: r.channel, receivedAt: r.received_at, ...optional, category: r.category as ComplaintCategory, text: r.text,
    status: r.status as ComplaintStatus, ...(r.resolution !== null ? { resolution: r.resolution } : {}), ...(r.closed_at !== null ? { closedAt: r.closed_at } : {}),
    createdAt: r.created_at, createdBy: r.created_by, updatedAt: r.updated_at, updatedBy: r.updated_by,
  };
}
