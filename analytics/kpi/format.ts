/**
 * The KPI report as JSON, CSV and a printable HTML page.
 *
 * CSV is one long table, one row per figure: `section,area,item,metric,value,unit` (a spreadsheet
 * pivots it; a script filters it), so every section fits one file.
 * HTML is a one-page quarterly report in Chinese with English labels: the figures the seeds require
 * a utility to publish (planned outages, sudden outages, average outage time per customer, leakage
 * rate), then the tables behind them. Print it from the browser (A4).
 */
import { timeZone } from '../../core/time/zoned.ts';
import { LEAKAGE_NATIONAL_AIM_PCT, type KpiReport, type LeakageGrade } from './types.ts';
import { csvCell } from '../../core/csv-cell.ts';

/** ISO 8601 with the zone's offset, e.g. 2026-07-01T00:00:00+08:00. */
export function localIso(ts: number, zone: string): string {
  const off = timeZone(zone).offsetAt(ts);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off) / 60_000;
  return `${new Date(ts + off).toISOString().slice(0, 19)}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The report as JSON, with local ISO times added next to the instants. */
export function toJson(r: KpiReport): string {
  const z = r.period.timezone;
  return JSON.stringify({
    ...r,
    period: { ...r.period, fromLocal: localIso(r.period.from, z), toLocal: localIso(r.period.to, z) },
    asOfLocal: localIso(r.asOf, z),
    outages: {
      ...r.outages,
      incidents: r.outages.incidents.map((i) => ({ ...i, startLocal: localIso(i.start, z), endLocal: i.end === undefined ? null : localIso(i.end, z) })),
    },
  }, null, 2);
}

export const CSV_HEADER = ['section', 'area', 'item', 'metric', 'value', 'unit'] as const;

type Cell = string | number | boolean | null | undefined;

const csvField = (v: Cell): string => csvCell(v);

export function toCsv(r: KpiReport): string {
  const z = r.period.timezone;
  const rows: Cell[][] = [];
  const add = (section: string, area: string, item: string, metric: string, value: Cell, unit = '') => rows.push([section, area, item, metric, value, unit]);

  add('period', '', '', 'label', r.period.label);
  add('period', '', '', 'from', localIso(r.period.from, z));
  add('period', '', '', 'to', localIso(r.period.to, z));
  add('period', '', '', 'timezone', z);
  add('period', '', '', 'as_of', localIso(r.asOf, z));

  const o = r.outages;
  for (const [item, s] of [['planned', o.planned], ['unplanned', o.unplanned], ['all', o.all]] as const) {
    add('outages', '', item, 'count', s.count);
    add('outages', '', item, 'total_duration', s.totalMinutes, 'min');
    add('outages', '', item, 'mean_duration', s.meanMinutes, 'min');
    add('outages', '', item, 'areas', s.areas.join(' '));
    add('outages', '', item, 'customers_affected', s.customersAffected);
    add('outages', '', item, 'customer_minutes', s.customerMinutes, 'customer·min');
  }
  for (const c of o.byCause) {
    add('outages_by_cause', '', c.cause, 'count', c.count);
    add('outages_by_cause', '', c.cause, 'total_duration', c.totalMinutes, 'min');
    add('outages_by_cause', '', c.cause, 'mean_duration', c.meanMinutes, 'min');
    add('outages_by_cause', '', c.cause, 'areas', c.areas.join(' '));
    add('outages_by_cause', '', c.cause, 'customer_minutes', c.customerMinutes, 'customer·min');
    add('outages_by_cause', '', c.cause, 'excluded_from_saidi', c.excluded);
  }
  add('reliability', '', '', 'customers_served', o.customersServed);
  add('reliability', '', '', 'customer_minutes_lost', o.customerMinutesLost, 'customer·min');
  add('reliability', '', '', 'excluded_causes', o.excludedCauses.join(' '));
  add('reliability', '', '', 'saidi', o.saidiMinutes, 'min/customer');
  add('reliability', '', '', 'saidi_all_causes', o.saidiMinutesAllCauses, 'min/customer');
  add('reliability', '', '', 'saifi', o.saifi, 'interruptions/customer');
  add('reliability', '', '', 'saifi_all_causes', o.saifiAllCauses, 'interruptions/customer');
  for (const a of o.byArea) {
    add('outage_minutes', a.dma, '', 'customers', a.customers);
    add('outage_minutes', a.dma, '', 'incidents', a.incidents);
    add('outage_minutes', a.dma, '', 'outage_minutes', a.outageMinutes, 'min');
    add('outage_minutes', a.dma, '', 'outage_minutes_counted', a.outageMinutesCounted, 'min');
    add('outage_minutes', a.dma, '', 'customer_minutes', a.customerMinutes, 'customer·min');
  }
  for (const i of o.incidents) {
    add('incidents', i.dma, i.id, 'start', localIso(i.start, z));
    add('incidents', i.dma, i.id, 'end', i.end === undefined ? '' : localIso(i.end, z));
    add('incidents', i.dma, i.id, 'minutes_in_period', i.minutes, 'min');
    add('incidents', i.dma, i.id, 'customers_affected', i.customersAffected);
    add('incidents', i.dma, i.id, 'planned', i.planned);
    add('incidents', i.dma, i.id, 'cause', i.cause);
    add('incidents', i.dma, i.id, 'excluded_from_saidi', i.excluded);
  }

  const p = r.pressure;
  add('pressure', '', '', 'basis', p.basis);
  add('pressure', '', '', 'threshold', p.thresholdMpa, 'MPa');
  add('pressure', '', '', 'samples', p.samples);
  add('pressure', '', '', 'compliant', p.compliant);
  add('pressure', '', '', 'compliance', p.share === null ? null : p.share * 100, '%');
  add('pressure', '', '', 'norm', p.norm * 100, '%');
  add('pressure', '', '', 'meets_norm', p.meetsNorm);
  for (const s of p.sensors) {
    add('pressure_sensor', s.dma, s.sensor, 'samples', s.samples);
    add('pressure_sensor', s.dma, s.sensor, 'compliance', s.share === null ? null : s.share * 100, '%');
    add('pressure_sensor', s.dma, s.sensor, 'min', s.minMpa, 'MPa');
    add('pressure_sensor', s.dma, s.sensor, 'bad_quality', s.badQuality);
  }

  for (const b of [...r.waterBalance.dmas, r.waterBalance.total]) {
    add('water_balance', b.dma, '', 'customers', b.customers);
    add('water_balance', b.dma, '', 'input_measured', b.input.measuredM3, 'm3');
    add('water_balance', b.dma, '', 'input_coverage', b.input.coverage * 100, '%');
    add('water_balance', b.dma, '', 'system_input', b.systemInputM3, 'm3');
    add('water_balance', b.dma, '', 'billed_metered', b.billedM3, 'm3');
    add('water_balance', b.dma, '', 'non_revenue', b.nonRevenueM3, 'm3');
    add('water_balance', b.dma, '', 'leakage_rate', b.leakageRatePct, '%');
    add('water_balance', b.dma, '', 'meters', b.meters);
    add('water_balance', b.dma, '', 'meters_used', b.metersUsed);
    add('water_balance', b.dma, '', 'complete', b.complete);
  }

  const l = r.leakage;
  add('leakage', '', '', 'basic_rate', l.basicRatePct, '%');
  for (const c of l.corrections) {
    add('leakage', '', c.key, 'input', c.input, c.unit);
    add('leakage', '', c.key, 'correction', c.pct, '%');
    add('leakage', '', c.key, 'source', c.source ?? `missing: ${c.missing}`);
  }
  add('leakage', '', '', 'annualised_input', l.annualisedInputM3, 'm3');
  add('leakage', '', '', 'total_correction', l.totalCorrectionPct, '%');
  add('leakage', '', '', 'corrected_rate', l.correctedRatePct, '%');
  add('leakage', '', '', 'grade', l.grade);
  add('leakage', '', '', 'meets_national_aim', l.meetsNationalAim);

  for (const t of r.nightFlow) {
    add('night_flow', t.dma, '', 'nights', t.nights.length);
    add('night_flow', t.dma, '', 'first', t.firstM3h, 'm3/h');
    add('night_flow', t.dma, '', 'last', t.lastM3h, 'm3/h');
    add('night_flow', t.dma, '', 'mean', t.meanM3h, 'm3/h');
    add('night_flow', t.dma, '', 'slope', t.slopeM3hPer30d, 'm3/h per 30 d');
    add('night_flow', t.dma, '', 'mean_leakage', t.meanLeakageM3h, 'm3/h');
    for (const n of t.nights) {
      add('night_flow_night', t.dma, localIso(n.ts, z), 'night_flow', n.nightFlowM3h, 'm3/h');
      add('night_flow_night', t.dma, localIso(n.ts, z), 'leakage_estimate', n.leakageM3h, 'm3/h');
    }
  }
  for (const n of r.notes) add('notes', '', '', 'note', n);
  return `${[CSV_HEADER as readonly Cell[], ...rows].map((row) => row.map(csvField).join(',')).join('\n')}\n`;
}

// --- HTML --------------------------------------------------------------------------------------------

function esc(v: Cell): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function num(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  // a tiny negative balance (-0.0004 m³) reads 0, not -0
  const rounded = Number(v.toFixed(digits)) || 0;
  return rounded.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function gradeText(g: LeakageGrade | null): string {
  if (g === null) return '—';
  return g === 'ungraded' ? '未达二级 / above grade 2' : g === 1 ? '一级 / grade 1' : '二级 / grade 2';
}

const CAUSE_ZH: Record<string, string> = {
  maintenance: '设备检修', retrofit: '改造施工', repair: '抢修', burst: '爆管', pump_trip: '水泵跳闸',
  power_failure: '市政停电', raw_water_shortage: '原水减少', water_quality: '水质', third_party_damage: '第三方破坏', other: '其他', unknown: '未明',
};

/** CJJ 92-2016's names of the corrections. */
export const CORRECTION_ZH: Record<'R1' | 'R2' | 'R3' | 'R4', string> = {
  R1: '居民抄表到户水量 household metering', R2: '单位供水量管长 pipe length per supply',
  R3: '年平均出厂压力 outlet pressure', R4: '最大冻土深度 frozen soil',
};

function table(head: string[], rows: string[][], cls = ''): string {
  if (!rows.length) return '<p class="empty">无 / none</p>';
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function toHtml(r: KpiReport, options: { siteName?: string; generatedAt?: number } = {}): string {
  const z = r.period.timezone;
  const o = r.outages;
  const p = r.pressure;
  const total = r.waterBalance.total;
  const d = (ts: number) => esc(localIso(ts, z).slice(0, 16).replace('T', ' '));
  const h = (minutes: number) => num(minutes / 60, 1);
  const quarterly = /Q[1-4]$/.test(r.period.label);
  const title = quarterly ? '供水服务季度报告 <span class="en">Quarterly water supply report</span>' : '供水服务报告 <span class="en">Water supply report</span>';
  const excluded = o.excludedCauses.map((c) => `${esc(CAUSE_ZH[c] ?? c)} (${esc(c)})`).join('、') || '无 / none';
  const headline = [
    ['计划停水', 'Planned outages', `${o.planned.count}`, `次 · ${h(o.planned.totalMinutes)} h`],
    ['突发停水', 'Sudden (unplanned) outages', `${o.unplanned.count}`, `次 · ${h(o.unplanned.totalMinutes)} h`],
    ['用户平均停水时间', 'Average outage time per customer', num(o.saidiMinutes, 1), 'min'],
    ['漏损率', 'Leakage rate (CJJ 92-2016, corrected)', num(r.leakage.correctedRatePct, 2),
      `% · ${gradeText(r.leakage.grade)} · 综合 basic ${num(r.leakage.basicRatePct, 2)} %`],
  ].map(([zh, en, value, unit]) => `<div class="kpi"><div class="zh">${zh}</div><div class="en">${en}</div><div class="value">${esc(value)}</div><div class="unit">${unit}</div></div>`).join('');

  const causeRows = o.byCause.map((c) => [`${esc(CAUSE_ZH[c.cause] ?? c.cause)} <span class="en">${esc(c.cause)}</span>`, `${c.count}`,
    h(c.totalMinutes), num(c.meanMinutes, 0), esc(c.areas.join(', ')), num(c.customerMinutes, 0), c.excluded ? '是 / yes' : '否 / no']);
  const incidentRows = o.incidents.map((i) => [esc(i.dma), d(i.start), i.end === undefined ? '持续中 / ongoing' : d(i.end), num(i.minutes, 0),
    `${i.customersAffected}`, i.planned ? '计划 / planned' : '突发 / sudden', esc(CAUSE_ZH[i.cause] ?? i.cause)]);
  const balanceRows = [...r.waterBalance.dmas, total].map((b) => [
    b.dma === 'total' ? '<b>合计 / total</b>' : esc(b.dma), num(b.systemInputM3, 0), `${num(b.input.coverage * 100, 1)}%`, num(b.billedM3, 0),
    num(b.nonRevenueM3, 0), num(b.leakageRatePct, 2), `${b.metersUsed}/${b.meters}`]);
  const correctionRows = r.leakage.corrections.map((c) => [`${c.key} ${CORRECTION_ZH[c.key]}`,
    c.input === null ? '—' : `${num(c.input, c.unit === 'share' ? 3 : 2)} ${c.unit === 'share' ? '' : esc(c.unit)}`,
    num(c.pct, 2), esc(c.source ?? `缺 missing: ${c.missing}`)]);
  const pressureRows = p.sensors.map((s) => [esc(s.sensor), esc(s.dma), `${s.samples}`, s.share === null ? '—' : `${num(s.share * 100, 2)}%`, num(s.minMpa, 3)]);
  const nightRows = r.nightFlow.filter((t) => t.nights.length).map((t) => [esc(t.dma), `${t.nights.length}`, num(t.firstM3h, 2), num(t.lastM3h, 2),
    num(t.meanM3h, 2), num(t.slopeM3hPer30d, 2), num(t.meanLeakageM3h, 2)]);

  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>${esc(options.siteName ?? '')} ${title.replace(/<[^>]+>/g, '')} ${esc(r.period.label)}</title>
<style>
  @page { size: A4; margin: 12mm; }
  body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; font-size: 9.5pt; color: #111; margin: 0 auto; max-width: 190mm; }
  h1 { font-size: 15pt; margin: 0 0 2mm; } h1 .en, h2 .en, .en { color: #555; font-weight: normal; font-size: 0.85em; }
  h2 { font-size: 11pt; margin: 4mm 0 1.5mm; border-bottom: 1px solid #999; }
  .meta { color: #444; margin-bottom: 3mm; }
  .kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 2mm; }
  .kpi { border: 1px solid #333; padding: 2mm; text-align: center; }
  .kpi .zh { font-weight: bold; } .kpi .en { font-size: 8pt; } .kpi .value { font-size: 16pt; font-weight: bold; margin-top: 1mm; } .kpi .unit { font-size: 8pt; }
  table { border-collapse: collapse; width: 100%; font-size: 8.5pt; } th, td { border: 1px solid #bbb; padding: 0.6mm 1.2mm; text-align: right; }
  th:first-child, td:first-child { text-align: left; } th { background: #eee; }
  .secondary { display: grid; grid-template-columns: 1fr 1fr; gap: 3mm; } .empty { color: #777; }
  .notes { font-size: 8pt; color: #444; }
  @media print { body { max-width: none; } }
</style>
</head>
<body>
<h1>${esc(options.siteName ?? '')} ${title} ${esc(r.period.label)}</h1>
<div class="meta">统计期间 Period: ${d(r.period.from)} 至 ${d(r.period.to)} (${esc(z)})${options.generatedAt ? ` · 生成 Generated: ${d(options.generatedAt)}` : ''}</div>
<section class="kpis">${headline}</section>
<div class="meta">用户平均停水时间 = Σ(停水户数 × 停水分钟) ÷ 供水户数 (SAIDI), 不计 excluding: ${excluded}.
 全部原因 All causes: ${num(o.saidiMinutesAllCauses, 1)} min · 用户平均停水次数 Interruptions per customer (SAIFI): ${num(o.saifi, 3)}
 (全部 all: ${num(o.saifiAllCauses, 3)}) · 停水损失户·分钟 Customer-minutes lost: ${num(o.customerMinutesLost, 0)} · 供水户数 Customers served: ${o.customersServed}</div>
<div class="meta">管网末梢压力合格率 Network-end pressure compliance (≥ ${p.thresholdMpa} MPa): <b>${p.share === null ? '—' : `${num(p.share * 100, 2)}%`}</b>
 (要求 norm ≥ ${num(p.norm * 100, 0)}%: ${p.meetsNorm === null ? '—' : p.meetsNorm ? '达标 / met' : '未达标 / not met'}) ·
 漏损率国家目标 National leakage aim ≤ ${LEAKAGE_NATIONAL_AIM_PCT}%: ${r.leakage.meetsNationalAim === null ? '—' : r.leakage.meetsNationalAim ? '达到 / met' : '未达到 / not met'}</div>
<h2>漏损率修正 <span class="en">Leakage rate corrections (CJJ 92-2016: 漏损率 R<sub>BL</sub> = 综合漏损率 R<sub>WL</sub> − R<sub>n</sub>)</span></h2>
${table(['修正 Correction', '输入 Input', '修正值 %', '来源 Source'], correctionRows)}
<div class="meta">综合漏损率 Basic R<sub>WL</sub>: ${num(r.leakage.basicRatePct, 2)} % · 总修正值 R<sub>n</sub>: ${num(r.leakage.totalCorrectionPct, 2)} % ·
 漏损率 Corrected R<sub>BL</sub>: <b>${num(r.leakage.correctedRatePct, 2)} %</b> (${gradeText(r.leakage.grade)})</div>
<h2>停水统计 <span class="en">Outages by cause</span></h2>
${table(['原因 Cause', '次数 Count', '时长 h', '平均 min', '区域 Areas', '户·分钟 Cust·min', '不计入 Excluded'], causeRows)}
<h2>停水事件 <span class="en">Outage incidents</span></h2>
${table(['区域 Area', '开始 Start', '结束 End', '分钟 Min', '户数 Customers', '类型 Type', '原因 Cause'], incidentRows)}
<h2>水量平衡 <span class="en">Water balance per DMA</span></h2>
${table(['区域 DMA', '供水量 Input m³', '数据覆盖 Coverage', '注册用户用水量 Billed m³', '产销差 NRW m³', '综合漏损率 Basic %', '水表 Meters'], balanceRows)}
<div class="secondary">
<div><h2>末梢压力 <span class="en">Pressure by sensor</span></h2>
${table(['测点 Sensor', '区域 DMA', '样本 Samples', '合格率 Share', '最低 Min MPa'], pressureRows)}</div>
<div><h2>夜间最小流量 <span class="en">Night-flow trend, m³/h</span></h2>
${table(['区域 DMA', '夜数 Nights', '首 First', '末 Last', '均 Mean', '斜率 /30d', '漏损 Leak'], nightRows)}</div>
</div>
${r.notes.length ? `<div class="notes"><b>说明 Notes:</b> ${r.notes.map(esc).join('; ')}</div>` : ''}
</body>
</html>
`;
}
