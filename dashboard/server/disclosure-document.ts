/**
 * A quarterly disclosure as the public sees it: an HTML page and a printable PDF, in Chinese with
 * English, rendered once at publication and stored (state/disclosures.ts), never again.
 *
 * The PDF is drawn server-side with pdfkit and an embedded (subset) CJK font, not printed by a
 * browser: the server then needs no chromium (tens of MB and a process per document) to publish,
 * and the file's text layer holds the figures, so it can be searched and checked. The font is the
 * config's `disclosure.fontPath` (default WenQuanYi Micro Hei, the Debian package fonts-wqy-microhei
 * that the Dockerfile installs); a collection (.ttc) needs its face named (`disclosure.fontFace`).
 */
import { createHash } from 'node:crypto';
import PDFDocument from 'pdfkit';
import { DEFAULT_DISCLOSURE_FONT, type DisclosureConfig } from '../../core/config/schema.ts';
import { CORRECTION_ZH } from '../../analytics/kpi/format.ts';
import type { LeakageAssessment } from '../../analytics/kpi/types.ts';
import { CAUSE_ZH } from './notice.ts';
import type { DisclosureFigures } from './disclosure-figures.ts';
import type { Disclosure, PublishedDocument } from './state/disclosures.ts';
import { localizeReportNote } from '../../core/messages/report-notes.ts';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function num(v: number | null | undefined, digits: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return (Number(v.toFixed(digits)) || 0).toFixed(digits);
}

function gradeZh(l: LeakageAssessment): string {
  if (l.grade === null) return '未评定 not graded';
  return l.grade === 'ungraded' ? '未达二级 above grade 2' : l.grade === 1 ? '一级 grade 1' : '二级 grade 2';
}

/** The ledger's built-in channels (others are the config's ids). */
const CHANNEL_NAMES: Record<string, string> = { hotline_12345: '12345 热线 hotline', own_line: '服务热线 own line' };

/** The disclosure as label/value lines: the one list the HTML page and the PDF are both drawn from. */
export function disclosureLines(d: Pick<Disclosure, 'quarter' | 'remark'> & { figures: DisclosureFigures }): { heading: string; rows: [string, string][] }[] {
  const f = d.figures;
  const l = f.leakage;
  const causes = f.excludedCauses.map((c) => `${CAUSE_ZH[c] ?? c} (${c})`).join('、') || '无 none';
  const sections: { heading: string; rows: [string, string][] }[] = [
    {
      heading: '停水 Outages',
      rows: [
        ['计划停水 Planned outages', `${f.plannedOutages.count} 次 · ${num(f.plannedOutages.hours, 1)} h · ${num(f.plannedOutages.customerHours, 0)} 户·小时 customer-hours`],
        ['突发停水 Sudden outages', `${f.suddenOutages.count} 次 · ${num(f.suddenOutages.hours, 1)} h · ${num(f.suddenOutages.customerHours, 0)} 户·小时 customer-hours`],
        ['用户平均停水时间 Average outage time per customer', `${num(f.averageOutageMinutesPerCustomer, 1)} min`],
        ['不计原因 Causes left out', causes],
        ['全部原因 All causes counted', `${num(f.averageOutageMinutesAllCauses, 1)} min · 供水户数 customers served ${f.customersServed}`],
      ],
    },
    {
      heading: '漏损率 Leakage rate (CJJ 92-2016)',
      rows: [
        ['综合漏损率 Basic rate R_WL', `${num(l.basicRatePct, 2)} %`],
        ...l.corrections.map((c): [string, string] => [`${c.key} ${CORRECTION_ZH[c.key]}`,
          c.pct === null ? `缺 missing: ${c.missing}` : `${num(c.pct, 2)} % (${c.unit === 'share' ? num(c.input, 3) : `${num(c.input, 2)} ${c.unit}`}; ${c.source})`]),
        ['总修正值 Total correction R_n', `${num(l.totalCorrectionPct, 2)} %`],
        ['漏损率 Corrected rate R_BL', `${num(l.correctedRatePct, 2)} % · ${gradeZh(l)}`],
      ],
    },
    {
      heading: '服务 Service',
      rows: [
        [`管网末梢压力合格率 Pressure compliance (≥ ${f.pressureCompliance.thresholdMpa} MPa)`,
          f.pressureCompliance.share === null ? '—' : `${num(f.pressureCompliance.share * 100, 2)} % (要求 norm ≥ ${num(f.pressureCompliance.norm * 100, 0)} %)`],
        ['投诉 Complaints received', f.complaints === null ? '—'
          : `${f.complaints.total} (已办结 closed ${f.complaints.closed} · 未办结 open ${f.complaints.unresolved}) · ${Object.entries(f.complaints.byChannel).map(([k, v]) => `${CHANNEL_NAMES[k] ?? k} ${v}`).join(' · ')}`],
      ],
    },
    {
      heading: '数据覆盖 Data coverage',
      rows: [
        ['进水流量 Inflow data', `${num(f.coverage.inflow * 100, 1)} % of the quarter`],
        ['水表 Meters read', `${f.coverage.metersUsed} / ${f.coverage.meters}`],
        ['压力样本 Pressure samples', `${f.coverage.pressureSamples} (${f.coverage.pressureSensors} sensors)`],
        // Bilingual like every other row: the Chinese note from the catalog, then the stored English.
        ...f.notes.map((n): [string, string] => ['说明 Note', bilingual(localizeReportNote(n, 'zh-CN'), n)]),
      ],
    },
  ];
  if (d.remark) sections.push({ heading: '备注 Remark', rows: [['', d.remark]] });
  return sections;
}

/** "中文 English", once when a note has no Chinese in the catalog. */
const bilingual = (zh: string, en: string) => (zh === en ? en : `${zh} ${en}`);

const fmt = (ts: number, zone: string) => new Intl.DateTimeFormat('zh-CN', { timeZone: zone, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }).format(ts);

function title(site: string, quarter: string): string {
  return `${site} · 供水服务季度公示 ${quarter}`;
}

/** The published page (a whole HTML document; served as stored). */
export function disclosureHtml(d: Pick<Disclosure, 'quarter' | 'remark'> & { figures: DisclosureFigures }, site: string, publishedAt: number): string {
  const f = d.figures;
  const zone = f.period.timezone;
  const body = disclosureLines(d).map((s) => `<h2>${esc(s.heading)}</h2><table>${s.rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`).join('\n');
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title(site, d.quarter))} Quarterly disclosure</title>
<style>body{font:15px system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;padding:1.5em;max-width:60em;color:#123}
h1{font-size:1.5em}table{border-collapse:collapse;width:100%;margin:.3em 0 1.5em}td,th{border-bottom:1px solid #ccd;padding:.4em;text-align:left;vertical-align:top}
th{width:45%;font-weight:normal;color:#345}small{color:#567}</style></head><body>
<h1 data-quarter="${esc(d.quarter)}">${esc(title(site, d.quarter))} <small>Quarterly disclosure</small></h1>
<p>统计期间 Period: ${esc(fmt(f.period.from, zone))} – ${esc(fmt(f.period.to, zone))} (${esc(zone)}) · 发布时间 Published: ${esc(fmt(publishedAt, zone))}</p>
${body}
<p><small><a href="${esc(d.quarter)}.pdf">PDF</a> · <a href="../outages">停水公告 Outages and earlier quarters</a></small></p>
</body></html>
`;
}

/** The printable PDF: A4, the same lines as the page, the quarter in its metadata. */
export async function disclosurePdf(d: Pick<Disclosure, 'quarter' | 'remark'> & { figures: DisclosureFigures }, site: string, publishedAt: number, font: DisclosureConfig): Promise<Buffer> {
  const f = d.figures;
  const zone = f.period.timezone;
  const doc = new PDFDocument({
    size: 'A4', margin: 50, compress: true,
    // ASCII title: a reader's search and the tests find the quarter in the metadata as written
    info: { Title: `Quarterly water supply disclosure ${d.quarter}`, Subject: title(site, d.quarter), Author: site, Producer: 'aquawatch', CreationDate: new Date(publishedAt) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => { doc.on('end', () => resolve(Buffer.concat(chunks))); doc.on('error', reject); });
  doc.registerFont('cjk', font.fontPath, fontFace(font));
  doc.font('cjk');
  doc.fontSize(16).text(title(site, d.quarter));
  doc.fontSize(10).fillColor('#333')
    .text(`Quarterly disclosure ${d.quarter} · 统计期间 Period: ${fmt(f.period.from, zone)} – ${fmt(f.period.to, zone)} (${zone})`)
    .text(`发布时间 Published: ${fmt(publishedAt, zone)}`).moveDown();
  for (const s of disclosureLines(d)) {
    doc.fillColor('#000').fontSize(12).text(s.heading).moveDown(0.2);
    for (const [k, v] of s.rows) doc.fontSize(9.5).fillColor('#345').text(k ? `${k}: ` : '', { continued: true }).fillColor('#000').text(v);
    doc.moveDown(0.6);
  }
  doc.end();
  return done;
}

/** The face to draw with: the configured one, the default font's for the default file, none for a single-face file. */
function fontFace(font: DisclosureConfig): string | undefined {
  return font.fontFace ?? (font.fontPath === DEFAULT_DISCLOSURE_FONT.path ? DEFAULT_DISCLOSURE_FONT.face : undefined);
}

/** Everything publication stores: the figures' JSON, the page, the PDF and their hashes. */
export async function renderPublication(d: Pick<Disclosure, 'quarter' | 'remark'> & { figures: DisclosureFigures }, site: string, publishedAt: number, font: DisclosureConfig): Promise<PublishedDocument> {
  const json = JSON.stringify({ quarter: d.quarter, remark: d.remark ?? null, publishedAt, figures: d.figures });
  const pdf = await disclosurePdf(d, site, publishedAt, font);
  const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
  return { json, html: disclosureHtml(d, site, publishedAt), pdf, pdfSha256: sha(pdf), jsonSha256: sha(json), publishedAt };
}
