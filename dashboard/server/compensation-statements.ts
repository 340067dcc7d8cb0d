/**
 * Compensation statements from the platform's records (issue #14.3): the customer's meters from the
 * topology, the incidents in force from the incident book (corrections, partial areas and merges
 * applied; merged incidents count through the one they were merged into), the notice time of a
 * planned outage from the register, and the config's `compensation:` rules; the computation is
 * analytics/kpi/compensation.ts. A statement of an area is one per customer with a meter in it.
 * Exports: CSV (one row per customer and incident, cells formula-neutralised) and a printable HTML page.
 */
import {
  affectsCustomer, compensationStatement, type CompensationIncident, type CompensationLine, type CompensationRules, type CompensationTotals,
} from '../../analytics/kpi/compensation.ts';
import type { IncidentBook } from '../../analytics/outages/incident-book.ts';
import type { PlannedOutage } from '../../analytics/outages/types.ts';
import type { MeterConfig } from '../../core/config/schema.ts';
import { csvCell } from '../../core/csv-cell.ts';
import { CAUSE_ZH } from './notice.ts';

/**
 * How far before the period incidents are read: an interruption that began before the period has
 * spent its unpaid minimum there. A week covers any minimum the config allows in practice.
 */
const LOOK_BACK_MS = 7 * 86_400_000;

export interface CustomerStatement {
  customer: string;
  address?: string;
  meters: { id: string; dma?: string; address?: string }[];
  from: number;
  to: number;
  /** Open incidents are counted up to here. */
  asOf: number;
  currency: string;
  lines: CompensationLine[];
  totals: CompensationTotals;
}

export interface AreaStatement {
  dma: string;
  from: number;
  to: number;
  asOf: number;
  currency: string;
  /** Every customer with a meter in the area, affected or not. */
  statements: CustomerStatement[];
  totals: { customers: number; affectedCustomers: number; amount: number };
}

export interface StatementSources {
  meters: Iterable<MeterConfig>;
  book: IncidentBook;
  planned(id: string): PlannedOutage | undefined;
  rules: CompensationRules;
}

export interface StatementPeriod { from: number; to: number; asOf: number }

/** The incidents of [from − look-back, to) as the statement reads them. */
function incidentsOf(src: StatementSources, p: StatementPeriod) {
  return src.book.list(p.from - LOOK_BACK_MS, p.to).map((r) => {
    const plan = r.plannedOutageId ? src.planned(r.plannedOutageId) : undefined;
    const inc: CompensationIncident = {
      id: r.id, dma: r.dma, kind: r.kind, start: r.start, ...(r.end !== undefined ? { end: r.end } : {}), cause: r.cause, planned: r.planned,
      ...(plan ? { noticeLeadMs: plan.start - plan.notifiedAt } : {}),
      ...(r.affectedPart ? { partial: 'polygon' in r.affectedPart ? 'polygon' as const : 'meters' as const } : {}),
    };
    return { record: r, inc };
  });
}

function statementFor(customer: string, meters: MeterConfig[], incidents: ReturnType<typeof incidentsOf>, src: StatementSources, p: StatementPeriod): CustomerStatement {
  const mine = incidents.filter(({ record }) => affectsCustomer(record, meters)).map(({ inc }) => inc);
  const { lines, totals } = compensationStatement(mine, { ...p, rules: src.rules });
  const address = meters.find((m) => m.address)?.address;
  return {
    customer, ...(address ? { address } : {}),
    meters: meters.map((m) => ({ id: m.id, ...(m.dma ? { dma: m.dma } : {}), ...(m.address ? { address: m.address } : {}) })),
    from: p.from, to: p.to, asOf: p.asOf, currency: src.rules.currency, lines, totals,
  };
}

/** The statement of one customer (account), or undefined when no meter has that account. */
export function customerStatement(src: StatementSources, customer: string, p: StatementPeriod): CustomerStatement | undefined {
  const meters = [...src.meters].filter((m) => m.customer === customer);
  if (!meters.length) return undefined;
  return statementFor(customer, meters, incidentsOf(src, p), src, p);
}

/** The statements of every customer with a meter in `dma`. */
export function areaStatement(src: StatementSources, dma: string, p: StatementPeriod): AreaStatement {
  // a customer's statement covers all their meters, in this area or not (grouped once: an area may have many thousands)
  const metersOf = new Map<string, MeterConfig[]>();
  for (const m of src.meters) {
    const list = metersOf.get(m.customer);
    if (list) list.push(m);
    else metersOf.set(m.customer, [m]);
  }
  const customers = [...metersOf].filter(([, ms]) => ms.some((m) => m.dma === dma)).map(([c]) => c).sort();
  const incidents = incidentsOf(src, p);
  const statements = customers.map((c) => statementFor(c, metersOf.get(c)!, incidents, src, p));
  const amount = Math.round(statements.reduce((a, s) => a + s.totals.amount, 0) * 100) / 100;
  return {
    dma, from: p.from, to: p.to, asOf: p.asOf, currency: src.rules.currency, statements,
    totals: { customers: statements.length, affectedCustomers: statements.filter((s) => s.lines.length > 0).length, amount },
  };
}

const CSV_HEADER = ['customer', 'address', 'incident', 'area', 'kind', 'start_utc', 'end_utc', 'cause', 'planned', 'partial_area', 'basis',
  'rate_per_hour', 'minutes_in_period', 'excluded', 'minimum_minutes', 'overlap_minutes', 'paid_minutes', 'amount', 'currency'];

const iso = (t: number | undefined) => (t === undefined ? '' : new Date(t).toISOString());
const min1 = (v: number) => Math.round(v * 10) / 10;

/** One row per customer and incident, then one total row per customer; formula cells neutralised. */
export function statementsCsv(statements: readonly CustomerStatement[]): string {
  const rows: (string | number | boolean)[][] = [CSV_HEADER];
  for (const s of statements) {
    for (const l of s.lines) {
      rows.push([s.customer, s.address ?? '', l.incidentId, l.dma, l.kind, iso(l.start), iso(l.end), l.cause, l.planned, l.partial ?? '', l.basis,
        l.ratePerHour, min1(l.minutes), l.excluded, min1(l.minimumMinutes), min1(l.overlapMinutes), min1(l.paidMinutes), l.amount.toFixed(2), s.currency]);
    }
    rows.push([s.customer, s.address ?? '', 'TOTAL', '', '', iso(s.from), iso(s.to), '', '', '', '', '', min1(s.totals.affectedMinutes), '',
      '', '', min1(s.totals.paidOutageMinutes + s.totals.paidLowPressureMinutes), s.totals.amount.toFixed(2), s.currency]);
  }
  return `${rows.map((r) => r.map((v) => csvCell(v)).join(',')).join('\r\n')}\r\n`;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));

const BASIS = { outage: '停水 outage', low_pressure: '供水不足 low pressure', planned_notice: '提前通知的计划停水 planned, told ≥ notice' };

/** A printable page (bilingual, as the utility's printed notices are) of one or more statements. */
export function statementsHtml(statements: readonly CustomerStatement[], o: { site: string; timezone: string; title: string }): string {
  const fmt = (t: number | undefined) => (t === undefined ? '—' : new Intl.DateTimeFormat('zh-CN', {
    timeZone: o.timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(t));
  const num = (v: number) => min1(v).toLocaleString('en');
  const one = (s: CustomerStatement) => `
<section class="statement" data-customer="${esc(s.customer)}">
<h2>${esc(s.customer)}${s.address ? ` · ${esc(s.address)}` : ''}</h2>
<p>统计期 Period: ${fmt(s.from)} – ${fmt(s.to)} (${esc(o.timezone)}) · 表 Meters: ${s.meters.map((m) => esc(m.id)).join(', ')}</p>
<table><thead><tr><th>事件 Incident</th><th>区域 Area</th><th>类型 Basis</th><th>开始 Start</th><th>结束 End</th><th>原因 Cause</th>
<th>期内分钟 Minutes</th><th>不补偿 Not paid</th><th>补偿分钟 Paid min</th><th>单价/小时 Rate/h</th><th>金额 Amount</th></tr></thead><tbody>
${s.lines.map((l) => `<tr${l.excluded ? ' class="excluded"' : ''}><td>${esc(l.incidentId)}${l.partial ? ' (部分区域 partial)' : ''}</td><td>${esc(l.dma)}</td><td>${BASIS[l.basis]}</td>
<td>${fmt(l.start)}</td><td>${fmt(l.end)}</td><td>${esc(CAUSE_ZH[l.cause] ?? l.cause)} (${esc(l.cause)})</td><td class="num">${num(l.minutes)}</td>
<td>${notPaid(l)}</td><td class="num">${num(l.paidMinutes)}</td><td class="num">${l.ratePerHour.toFixed(2)}</td><td class="num">${l.amount.toFixed(2)}</td></tr>`).join('\n')
  || '<tr><td colspan="11">本期无停水或供水不足 No outage or low pressure in the period</td></tr>'}
</tbody><tfoot><tr><td colspan="6">合计 Total (${esc(s.currency)})</td><td class="num">${num(s.totals.affectedMinutes)}</td><td>${num(s.totals.excludedMinutes)} 分钟不予补偿 min excluded</td>
<td class="num">${num(s.totals.paidOutageMinutes + s.totals.paidLowPressureMinutes)}</td><td></td><td class="num total">${s.totals.amount.toFixed(2)}</td></tr></tfoot></table>
</section>`;
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<style>body{font:13px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%;margin:.5em 0 2em}th,td{border:1px solid #999;padding:3px 6px;text-align:left}
.num{text-align:right}.excluded{color:#777}section{page-break-inside:avoid}@media print{button{display:none}}</style></head>
<body><h1>${esc(o.site)} · 补偿结算单 Compensation statement</h1><p>${esc(o.title)}</p>
${statements.map(one).join('\n')}</body></html>`;
}

/** Why a line's minutes are not all paid, in both languages. */
function notPaid(l: CompensationLine): string {
  if (l.excluded) return `原因不予补偿 excluded cause`;
  const parts: string[] = [];
  if (l.minimumMinutes > 0) parts.push(`${min1(l.minimumMinutes)} 分钟起算前 min before compensation starts`);
  if (l.overlapMinutes > 0) parts.push(`${min1(l.overlapMinutes)} 分钟已计入其他事件 min counted under another incident`);
  return parts.join('; ') || '—';
}
