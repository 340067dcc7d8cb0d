/**
 * Customer service's workspace (issue #14.2): the meter anomalies with their customer and case, the
 * meter's readings as evidence, and the page of one customer (account): consumption from the meter
 * readings, anomalies, the outages and low-pressure periods that reached them with their minutes
 * (analytics/outages/customer-minutes.ts, partial areas respected), the notices they were sent.
 * A customer is an account of the topology's meters (`customer`); an account may have several meters.
 */
import type { MeterConfig } from '../../core/config/schema.ts';
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { customerIncidentMinutes, minutesByKind } from '../../analytics/outages/customer-minutes.ts';
import { METER_ANOMALY_TYPES, type ConsumptionRow, type CustomerPage, type CustomerRef, type MeterAnomaly } from '../contract/index.ts';
import type { CustomerCaseStore, CustomerCase } from './state/customer-cases.ts';
import type { CustomerNoticeService } from './customer-notices.ts';
import { ApiError, requireAnalytics, type DashboardContext } from './context.ts';

const DAY = 86_400_000;
/** The customer page's default period, and the longest one asked at once (raw readings are read). */
export const DEFAULT_PAGE_DAYS = 90;
export const MAX_PAGE_DAYS = 400;
/** A register lower than the one before by more than this is a backwards step, not use. */
const BACKWARDS_TOLERANCE_M3 = 0.001;

export const isMeterAnomaly = (type: string) => (METER_ANOMALY_TYPES as readonly string[]).includes(type);

export function customerRefOf(ctx: Pick<DashboardContext, 'topology'>, m: MeterConfig): CustomerRef {
  const dma = m.dma ?? '';
  return {
    account: m.customer, meter: m.id, address: m.address ?? '', dma, dmaName: ctx.topology.dmas.get(dma)?.name ?? dma,
    ...(m.phone ? { phone: m.phone } : {}),
  };
}

/**
 * Use per day of the site's calendar (readings daily or more often: from the day's last reading to
 * the previous day's last) or per reading interval (sparser readings). A reading lower than the
 * register before is held apart, as the meter detector does: when the next one is back above the
 * register it was a misread and the use runs from the register to it (one longer interval); when two
 * more readings go on from the lower value the register was reset or replaced: that interval's use is
 * unknown (`null`) and the lower value is the register from then on.
 */
export function consumptionOf(readings: readonly (readonly [number, number])[], timezone: string): { step: 'day' | 'reading'; rows: ConsumptionRow[] } {
  const gaps = readings.slice(1).map(([ts], i) => ts - readings[i][0]).sort((a, b) => a - b);
  const step = gaps.length && gaps[Math.floor(gaps.length / 2)] <= DAY ? 'day' : 'reading';
  let points = readings;
  if (step === 'day') {
    const dayOf = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    const lastOfDay = new Map<string, readonly [number, number]>();
    for (const r of readings) lastOfDay.set(dayOf.format(r[0]), r);
    points = [...lastOfDay.values()];
  }
  const rows: ConsumptionRow[] = [];
  const use = (from: number, to: number, m3: number | null) =>
    rows.push({ from, to, m3, m3PerDay: m3 === null || to === from ? null : round3((m3 * DAY) / (to - from)) });
  let register = points[0];
  let low: (readonly [number, number])[] = [];
  for (const p of points.slice(1)) {
    if (p[1] >= register[1] - BACKWARDS_TOLERANCE_M3) {
      use(register[0], p[0], Math.max(0, round3(p[1] - register[1])));
      register = p; low = [];
    } else if (low.length && p[1] >= low[low.length - 1][1] - BACKWARDS_TOLERANCE_M3) {
      low.push(p);
      if (low.length < 3) continue;
      use(register[0], low[0][0], null);
      for (let i = 1; i < low.length; i++) use(low[i - 1][0], low[i][0], Math.max(0, round3(low[i][1] - low[i - 1][1])));
      register = low[low.length - 1]; low = [];
    } else {
      low = [p];
    }
  }
  return { step, rows };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export class CustomerWorkspace {
  constructor(
    private readonly ctx: DashboardContext,
    private readonly cases: CustomerCaseStore,
    private readonly notices: CustomerNoticeService,
  ) {}

  /** Meter anomalies, newest first: `to_handle` (case not closed), `closed`, or `all`; `meters` limits to some meters. */
  anomalies(status: 'to_handle' | 'closed' | 'all', meters?: ReadonlySet<string>): MeterAnomaly[] {
    const alarms = requireAnalytics(this.ctx).alarms;
    const byId = new Map<string, AlarmRecord>();
    for (const type of METER_ANOMALY_TYPES) for (const a of alarms.list({ type })) byId.set(a.id, a);
    // the open ones as the alarm manager holds them now
    for (const a of alarms.openAlarms()) if (isMeterAnomaly(a.type)) byId.set(a.id, a);
    const list = [...byId.values()].filter((a) => a.sensor && (!meters || meters.has(a.sensor)));
    const cases = this.cases.byAlarms(list.map((a) => a.id));
    return list.map((a) => this.row(a, cases.get(a.id)))
      .filter((r) => status === 'all' || (status === 'closed') === (r.state === 'closed'))
      .sort((x, y) => y.alarm.raisedAt - x.alarm.raisedAt || y.alarm.id.localeCompare(x.alarm.id));
  }

  anomaly(alarmId: string): MeterAnomaly {
    const alarm = requireAnalytics(this.ctx).alarms.get(alarmId);
    if (!alarm || !isMeterAnomaly(alarm.type)) throw new ApiError('not_found', `id: no meter anomaly ${alarmId}`, 'params.id');
    return this.row(alarm, this.cases.get(alarmId));
  }

  /** The meter's register from two weeks before the anomaly to two days after it cleared (or now). */
  async evidence(a: MeterAnomaly): Promise<{ readings: [number, number][]; window: { from: number; to: number } }> {
    const from = a.alarm.conditionSince - 14 * DAY;
    const to = Math.max(a.alarm.clearedAt ?? this.ctx.now(), a.alarm.conditionSince) + 2 * DAY;
    return { readings: await this.readings(a.customer.meter, from, to), window: { from, to } };
  }

  async page(account: string, from: number, to: number): Promise<CustomerPage> {
    const meters = [...this.ctx.topology.meters.values()].filter((m) => m.customer === account);
    if (!meters.length) throw new ApiError('not_found', `account: no customer ${account}`, 'params.account');
    const ids = meters.map((m) => m.id);
    const series = [];
    let totalM3 = 0;
    let step: 'day' | 'reading' = 'day';
    for (const m of meters) {
      // one reading before the period, so that its first day or interval has a start
      const readings = (await this.readings(m.id, from - 35 * DAY, to));
      const before = readings.filter(([ts]) => ts < from).at(-1);
      const c = consumptionOf([...(before ? [before] : []), ...readings.filter(([ts]) => ts >= from)], this.ctx.config.site.timezone);
      if (c.step === 'reading') step = 'reading';
      series.push({ meter: m.id, rows: c.rows });
      totalM3 += c.rows.reduce((s, r) => s + (r.m3 ?? 0), 0);
    }
    const book = this.ctx.register().book;
    const now = this.ctx.now();
    const dmas = new Set(meters.map((m) => m.dma));
    const reached = customerIncidentMinutes(meters, book.list(from, to).filter((i) => dmas.has(i.dma)), from, to, now);
    return {
      account,
      meters: meters.map((m) => ({ ...customerRefOf(this.ctx, m), active: m.active, large: m.large })),
      from, to,
      consumption: { step, series, totalM3: round3(totalM3) },
      anomalies: this.anomalies('all', new Set(ids)),
      incidents: reached.map((r) => ({ incident: r.incident, meters: r.meters, from: r.from, to: r.to, minutes: r.minutes, placed: r.placed })),
      minutes: minutesByKind(reached),
      notices: this.notices.sentToMeters(ids).map((n) => {
        const d = n.deliveries[0];
        return {
          id: n.id, kind: n.kind, ...(n.plannedOutageId ? { plannedOutageId: n.plannedOutageId } : {}), ...(n.incidentId ? { incidentId: n.incidentId } : {}),
          createdAt: n.createdAt, ...(n.sentAt !== undefined ? { sentAt: n.sentAt } : {}),
          sms: { 'zh-CN': n.texts['zh-CN'].sms, en: n.texts.en.sms },
          ...(d ? { delivery: { meter: d.meter, state: d.state, updatedAt: d.updatedAt } } : {}),
        };
      }),
    };
  }

  private row(alarm: AlarmRecord, c: CustomerCase | undefined): MeterAnomaly {
    const meter = this.ctx.topology.meters.get(alarm.sensor ?? '');
    const customer = meter ? customerRefOf(this.ctx, meter)
      : { account: String(alarm.evidence?.customer ?? ''), meter: alarm.sensor ?? '', address: String(alarm.evidence?.address ?? ''), dma: alarm.dma ?? '', dmaName: alarm.dma ?? '' };
    return { alarm, customer, state: c?.state ?? 'open', ...(c ? { case: c } : {}) };
  }

  private async readings(meter: string, from: number, to: number): Promise<[number, number][]> {
    const series = await this.ctx.store.query({ measurement: 'meter', sensors: [meter], from, to });
    return (series.get(meter) ?? []).filter((v) => v.quality !== 'bad').map((v) => [v.ts, v.value]);
  }
}
