/**
 * Quarterly disclosures (季度公示, issue #14.4) in the state database: one row per quarter, moving
 * draft → approved → published. A draft holds the figures as computed when it was prepared (and
 * may be prepared again, or get a remark); approving fixes what will be published; publishing stores
 * the figures' JSON, the rendered HTML page and the PDF with its SHA-256 and the publication time,
 * and nothing of a published row changes afterwards (the store refuses it, so no later
 * recomputation can alter what the public saw).
 */
import type Database from 'better-sqlite3';
import { closeStateDb, storeDb } from '../../../core/state/state-db.ts';
import { DomainError, type DomainErrorCode } from '../../../core/errors.ts';
import type { DisclosureFigures } from '../disclosure-figures.ts';

export const DISCLOSURE_STATUSES = ['draft', 'approved', 'published'] as const;
export type DisclosureStatus = (typeof DISCLOSURE_STATUSES)[number];

export interface Disclosure {
  /** `2026-Q3`. */
  quarter: string;
  status: DisclosureStatus;
  figures: DisclosureFigures;
  remark?: string;
  preparedBy: string;
  /** Wall clock, ms. */
  preparedAt: number;
  approvedBy?: string;
  approvedAt?: number;
  publishedBy?: string;
  publishedAt?: number;
  /** SHA-256 (hex) of the published PDF. */
  pdfSha256?: string;
  /** SHA-256 (hex) of the published figures' JSON. */
  jsonSha256?: string;
}

/** What was published, byte for byte. */
export interface PublishedDocument { json: string; html: string; pdf: Buffer; pdfSha256: string; jsonSha256: string; publishedAt: number }

export class DisclosureError extends DomainError {
  constructor(field: string, reason: string, code: DomainErrorCode = 'validation') {
    super(code, `${field}: ${reason}`, field);
    this.name = 'DisclosureError';
  }
}

const TABLES = `
  CREATE TABLE IF NOT EXISTS disclosures (
    quarter TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    figures TEXT NOT NULL,
    remark TEXT,
    prepared_by TEXT NOT NULL,
    prepared_at INTEGER NOT NULL,
    approved_by TEXT,
    approved_at INTEGER,
    published_by TEXT,
    published_at INTEGER,
    published_json TEXT,
    published_html TEXT,
    published_pdf BLOB,
    pdf_sha256 TEXT,
    json_sha256 TEXT);`;

interface Row {
  quarter: string; status: string; figures: string; remark: string | null; prepared_by: string; prepared_at: number;
  approved_by: string | null; approved_at: number | null; published_by: string | null; published_at: number | null;
  pdf_sha256: string | null; json_sha256: string | null;
}

const SUMMARY_COLUMNS = 'quarter, status, figures, remark, prepared_by, prepared_at, approved_by, approved_at, published_by, published_at, pdf_sha256, json_sha256';

export class DisclosureStore {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;

  constructor(db: string | Database.Database) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }

  /** Newest quarter first. */
  list(): Disclosure[] {
    return (this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM disclosures ORDER BY quarter DESC`).all() as Row[]).map(toDisclosure);
  }

  get(quarter: string): Disclosure | undefined {
    const row = this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM disclosures WHERE quarter = ?`).get(quarter) as Row | undefined;
    return row ? toDisclosure(row) : undefined;
  }

  private require(quarter: string): Disclosure {
    const d = this.get(quarter);
    if (!d) throw new DisclosureError('quarter', `no disclosure of ${quarter} has been prepared`, 'not_found');
    return d;
  }

  private refusePublished(d: Disclosure | undefined): void {
    if (d?.status === 'published') throw new DisclosureError('quarter', `${d.quarter} was published on ${new Date(d.publishedAt!).toISOString()}; a publication is never changed`, 'conflict');
  }

  /** A new draft, or the draft (or approved one, back to draft) with its figures computed again. */
  prepare(figures: DisclosureFigures, by: string, at: number, remark?: string): Disclosure {
    const current = this.get(figures.quarter);
    this.refusePublished(current);
    const keptRemark = remark ?? current?.remark ?? null;
    this.db.prepare(`INSERT INTO disclosures (quarter, status, figures, remark, prepared_by, prepared_at) VALUES (?, 'draft', ?, ?, ?, ?)
      ON CONFLICT (quarter) DO UPDATE SET status = 'draft', figures = excluded.figures, remark = excluded.remark,
        prepared_by = excluded.prepared_by, prepared_at = excluded.prepared_at, approved_by = NULL, approved_at = NULL`)
      .run(figures.quarter, JSON.stringify(figures), keptRemark, by, at);
    return this.require(figures.quarter);
  }

  /** The remark of a draft (an approved one must go back to draft first: approval covers the remark too). */
  setRemark(quarter: string, remark: string): Disclosure {
    const d = this.require(quarter);
    this.refusePublished(d);
    if (d.status !== 'draft') throw new DisclosureError('status', `${quarter} is ${d.status}; prepare it again to change the remark`, 'conflict');
    this.db.prepare('UPDATE disclosures SET remark = ? WHERE quarter = ?').run(remark.trim() || null, quarter);
    return this.require(quarter);
  }

  approve(quarter: string, by: string, at: number): Disclosure {
    const d = this.require(quarter);
    this.refusePublished(d);
    if (d.status !== 'draft') throw new DisclosureError('status', `${quarter} is already ${d.status}`, 'conflict');
    this.db.prepare("UPDATE disclosures SET status = 'approved', approved_by = ?, approved_at = ? WHERE quarter = ?").run(by, at, quarter);
    return this.require(quarter);
  }

  /** Freezes an approved disclosure with its rendered documents. */
  publish(quarter: string, by: string, doc: PublishedDocument): Disclosure {
    const d = this.require(quarter);
    this.refusePublished(d);
    if (d.status !== 'approved') throw new DisclosureError('status', `${quarter} must be approved before it is published (it is ${d.status})`, 'conflict');
    this.db.prepare(`UPDATE disclosures SET status = 'published', published_by = ?, published_at = ?, published_json = ?, published_html = ?,
      published_pdf = ?, pdf_sha256 = ?, json_sha256 = ? WHERE quarter = ? AND status = 'approved'`)
      .run(by, doc.publishedAt, doc.json, doc.html, doc.pdf, doc.pdfSha256, doc.jsonSha256, quarter);
    return this.require(quarter);
  }

  /** The published HTML page and PDF, as stored at publication; undefined before. */
  published(quarter: string): { html: string; pdf: Buffer; json: string } | undefined {
    const row = this.db.prepare("SELECT published_html AS html, published_pdf AS pdf, published_json AS json FROM disclosures WHERE quarter = ? AND status = 'published'")
      .get(quarter) as { html: string; pdf: Buffer; json: string } | undefined;
    return row;
  }
}

function toDisclosure(r: Row): Disclosure {
  return {
    quarter: r.quarter, status: r.status as DisclosureStatus, figures: JSON.parse(r.figures) as DisclosureFigures,
    ...(r.remark !== null ? { remark: r.remark } : {}),
    preparedBy: r.prepared_by, preparedAt: r.prepared_at,
    ...(r.approved_by !== null ? { approvedBy: r.approved_by, approvedAt: r.approved_at! } : {}),
    ...(r.published_by !== null ? { publishedBy: r.published_by, publishedAt: r.published_at! } : {}),
    ...(r.pdf_sha256 !== null ? { pdfSha256: r.pdf_sha256 } : {}),
    ...(r.json_sha256 !== null ? { jsonSha256: r.json_sha256 } : {}),
  };
}
