/**
 * Customer notices of outages (停水通知, #13.7, the seeds' 24 h rule): a notice is drafted from a
 * planned outage (or from a sudden outage under repair, with its expected restoration), approved by
 * a dispatcher, then sent by SMS on the channel of `notify.customerNotices` to every active customer
 * of the affected areas that has a phone number, with one delivery row per customer (queued → sent |
 * failed, with the channel's answer). The first SMS the carrier accepts is the time the customers
 * were told: a planned outage's `notifiedAt` becomes it, so the short-notice flag and the
 * `planned_outage_short_notice` alarm count the 24 h from the real sending, not from data entry.
 * Sending again reaches only the customers not reached yet (failed ones); SMS still queued when the
 * server stopped are sent when it starts again. Times are the wall clock:
 * people act and SMS go out now, also while the analytics' event time is still catching up.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { MeterConfig } from '../../core/config/schema.ts';
import type { ChannelConfig, NotifyConfig } from '../../core/config/notify.ts';
import type { IncidentRecord, PlannedOutage } from '../../analytics/outages/types.ts';
import type { Channel, Language, NotifyMessage, Recipient } from '../../analytics/notify/channels/channel.ts';
import { createChannel } from '../../analytics/notify/channels/index.ts';
import { ApiError, type DashboardContext } from './context.ts';
import { CAUSE_ZH, outageNotice, zhTime } from './notice.ts';

export type NoticeKind = 'planned' | 'sudden';
export type NoticeDeliveryState = 'queued' | 'sent' | 'failed';

export interface NoticeDelivery {
  meter: string;
  customer: string;
  phone: string;
  state: NoticeDeliveryState;
  attempts: number;
  updatedAt: number;
  answer?: string;
}

export interface NoticeText { sms: string; web: string }

export interface CustomerNotice {
  id: string;
  kind: NoticeKind;
  plannedOutageId?: string;
  incidentId?: string;
  dmas: string[];
  texts: { 'zh-CN': NoticeText; en: NoticeText };
  createdAt: number;
  createdBy: string;
  approvedAt?: number;
  approvedBy?: string;
  sentAt?: number;
  sentBy?: string;
  withoutPhone: number;
  deliveries: NoticeDelivery[];
}

const TABLES = `
  CREATE TABLE IF NOT EXISTS customer_notices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    planned_outage_id TEXT,
    incident_id TEXT,
    dmas TEXT NOT NULL,           -- JSON array
    texts TEXT NOT NULL,          -- JSON { zh-CN, en }
    sms_params TEXT NOT NULL,     -- JSON { zh-CN: {...}, en: {...} }
    created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
    approved_at INTEGER, approved_by TEXT,
    send_requested_by TEXT,
    sent_at INTEGER, sent_by TEXT
  );
  CREATE TABLE IF NOT EXISTS customer_notice_deliveries (
    notice_id TEXT NOT NULL, meter TEXT NOT NULL, customer TEXT NOT NULL, phone TEXT NOT NULL, language TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','sent','failed')), attempts INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL, answer TEXT,
    PRIMARY KEY (notice_id, meter)
  );
`;

interface NoticeRow {
  id: string; kind: NoticeKind; planned_outage_id: string | null; incident_id: string | null; dmas: string; texts: string; sms_params: string;
  created_at: number; created_by: string; approved_at: number | null; approved_by: string | null; send_requested_by: string | null;
  sent_at: number | null; sent_by: string | null;
}
interface DeliveryRow { notice_id: string; meter: string; customer: string; phone: string; language: Language; state: NoticeDeliveryState; attempts: number; updated_at: number; answer: string | null }

type SmsParams = Record<string, string>;

const CAUSE_EN: Record<string, string> = {
  maintenance: 'network maintenance', retrofit: 'network renewal', repair: 'pipe repair', burst: 'burst main repair', pump_trip: 'pumping station stop',
  power_failure: 'power failure', raw_water_shortage: 'raw water shortage', water_quality: 'water treatment', third_party_damage: 'third-party damage',
  other: 'other works', unknown: 'other works',
};

function enTime(ts: number, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ts);
}

interface TextInput { siteName: string; timezone: string; areaName: (dma: string) => string; now: number }

/** A planned outage's notice texts and SMS parameters in both languages. */
export function plannedNoticeTexts(o: PlannedOutage, opts: TextInput): { texts: CustomerNotice['texts']; params: Record<Language, SmsParams> } {
  const zh = outageNotice({ ...o, notifiedAt: opts.now }, opts);
  const areas = o.dmas.map(opts.areaName).join(', ');
  const cause = CAUSE_EN[o.cause] ?? o.cause;
  const [start, end] = [enTime(o.start, opts.timezone), enTime(o.end, opts.timezone)];
  const enSms = `[${opts.siteName}] Water supply to ${areas} stops from ${start} to ${end} for ${cause}. Please store water.`;
  const enWeb = [
    'Planned water outage', 'Dear customer,',
    `For ${cause}${o.reason.trim() ? ` (${o.reason.trim()})` : ''}, water supply to ${areas} will stop from ${start} to ${end}.`,
    'Please store water in advance. Water may look cloudy when supply returns: let it run for a moment before use.',
    'We apologise for the inconvenience.', opts.siteName,
  ].join('\n');
  return {
    texts: { 'zh-CN': { sms: zh.sms, web: zh.web }, en: { sms: enSms, web: enWeb } },
    params: {
      'zh-CN': { site: opts.siteName, area: o.dmas.map(opts.areaName).join('、'), start: zhTime(o.start, opts.timezone), end: zhTime(o.end, opts.timezone), restore: zhTime(o.end, opts.timezone), cause: CAUSE_ZH[o.cause] ?? o.cause },
      en: { site: opts.siteName, area: areas, start, end, restore: end, cause },
    },
  };
}

/** A sudden outage's notice during the repair: since when, and when supply is expected back. */
export function suddenNoticeTexts(inc: IncidentRecord, opts: TextInput): { texts: CustomerNotice['texts']; params: Record<Language, SmsParams> } {
  if (inc.expectedRestoration === undefined) throw new ApiError('conflict', `incidentId: incident ${inc.id} has no expected restoration time; enter it first`, 'body.incidentId');
  const area = opts.areaName(inc.dma);
  const [zhCause, enCause] = [CAUSE_ZH[inc.cause] ?? inc.cause, CAUSE_EN[inc.cause] ?? inc.cause];
  const [zhSince, zhRestore] = [zhTime(inc.start, opts.timezone), zhTime(inc.expectedRestoration, opts.timezone)];
  const [enSince, enRestore] = [enTime(inc.start, opts.timezone), enTime(inc.expectedRestoration, opts.timezone)];
  return {
    texts: {
      'zh-CN': {
        sms: `【${opts.siteName}】因${zhCause}，${area}自${zhSince.replace(' ', '')}起停水，正在抢修，预计${zhRestore.replace(' ', '')}恢复供水。`,
        web: ['停水通知', '尊敬的用户：', `因${zhCause}，${area}自${zhSince}起停止供水，我公司正在全力抢修，预计${zhRestore}恢复供水。`,
          '恢复供水初期水质可能出现浑浊，请先放水片刻再使用。由此给您带来的不便，敬请谅解。', opts.siteName].join('\n'),
      },
      en: {
        sms: `[${opts.siteName}] Water supply to ${area} stopped at ${enSince} (${enCause}). Repairs under way; expected back by ${enRestore}.`,
        web: ['Water outage', 'Dear customer,', `Because of ${enCause}, water supply to ${area} stopped at ${enSince}. Our crews are repairing it; supply is expected back by ${enRestore}.`,
          'Water may look cloudy when supply returns: let it run for a moment before use. We apologise for the inconvenience.', opts.siteName].join('\n'),
      },
    },
    params: {
      'zh-CN': { site: opts.siteName, area, start: zhSince, end: zhRestore, restore: zhRestore, cause: zhCause },
      en: { site: opts.siteName, area, start: enSince, end: enRestore, restore: enRestore, cause: enCause },
    },
  };
}

export class CustomerNoticeService {
  private readonly db: Database.Database;
  private channel?: { config: ChannelConfig; channel: Channel };
  /** Sending runs after the answer; one run per notice at a time. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly ctx: DashboardContext, private readonly env: Record<string, string | undefined> = process.env) {
    this.db = ctx.db;
    this.db.exec(TABLES);
    // SMS still queued when the server stopped go out now
    if (ctx.config.notify?.customerNotices) {
      const pending = this.db.prepare(`SELECT DISTINCT notice_id FROM customer_notice_deliveries WHERE state = 'queued'`).all() as { notice_id: string }[];
      for (const { notice_id } of pending) this.startDelivery(notice_id);
    }
  }

  list(filter: { plannedOutageId?: string; incidentId?: string }): CustomerNotice[] {
    const rows = this.db.prepare(`SELECT * FROM customer_notices WHERE (@p IS NULL OR planned_outage_id = @p) AND (@i IS NULL OR incident_id = @i)
      ORDER BY created_at, id`).all({ p: filter.plannedOutageId ?? null, i: filter.incidentId ?? null }) as NoticeRow[];
    return rows.map((r) => this.toNotice(r));
  }

  /** Sent notices meant for any of these meters (recipients of their areas or part), with only those meters' SMS (the customer page). */
  sentToMeters(meterIds: readonly string[]): CustomerNotice[] {
    const ids = new Set(meterIds);
    const rows = this.db.prepare('SELECT * FROM customer_notices WHERE sent_at IS NOT NULL ORDER BY sent_at, id').all() as NoticeRow[];
    return rows.filter((r) => this.recipients(r).some((m) => ids.has(m.id)))
      .map((r) => { const n = this.toNotice(r); return { ...n, deliveries: n.deliveries.filter((d) => ids.has(d.meter)) }; });
  }

  get(id: string): CustomerNotice {
    return this.toNotice(this.row(id));
  }

  create(subject: { plannedOutageId?: string; incidentId?: string }, by: string): CustomerNotice {
    if (!subject.plannedOutageId === !subject.incidentId) throw new ApiError('validation', 'body: name either plannedOutageId or incidentId', 'body');
    const now = Date.now();
    const opts: TextInput = {
      siteName: this.ctx.config.site.name, timezone: this.ctx.config.site.timezone, now,
      areaName: (dma) => this.ctx.topology.dmas.get(dma)?.name ?? dma,
    };
    const register = this.ctx.register();
    let kind: NoticeKind, dmas: string[], made: ReturnType<typeof plannedNoticeTexts>;
    if (subject.plannedOutageId) {
      const o = register.getPlanned(subject.plannedOutageId);
      if (!o) throw new ApiError('not_found', `plannedOutageId: no planned outage ${subject.plannedOutageId}`, 'body.plannedOutageId');
      [kind, dmas, made] = ['planned', o.dmas, plannedNoticeTexts(o, opts)];
    } else {
      const inc = register.book.get(subject.incidentId!);
      if (!inc) throw new ApiError('not_found', `incidentId: no incident ${subject.incidentId}`, 'body.incidentId');
      if (inc.end !== undefined) throw new ApiError('conflict', `incidentId: incident ${inc.id} is over; a notice is for an outage under repair`, 'body.incidentId');
      [kind, dmas, made] = ['sudden', [inc.dma], suddenNoticeTexts(inc, opts)];
    }
    const id = `notice-${now}-${randomBytes(3).toString('hex')}`;
    this.db.prepare(`INSERT INTO customer_notices (id, kind, planned_outage_id, incident_id, dmas, texts, sms_params, created_at, created_by)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(id, kind, subject.plannedOutageId ?? null, subject.incidentId ?? null,
      JSON.stringify(dmas), JSON.stringify(made.texts), JSON.stringify(made.params), now, by);
    return this.get(id);
  }

  approve(id: string, by: string): CustomerNotice {
    const row = this.row(id);
    if (row.approved_at !== null) throw new ApiError('conflict', `id: notice ${id} was approved by ${row.approved_by}`, 'params.id');
    this.checkOutageApproved(row);
    this.db.prepare('UPDATE customer_notices SET approved_at = ?, approved_by = ? WHERE id = ?').run(Date.now(), by, id);
    return this.get(id);
  }

  /** Queues the SMS to every customer not reached yet and starts sending; the answer shows them queued. */
  send(id: string, by: string): CustomerNotice {
    const row = this.row(id);
    if (row.approved_at === null) throw new ApiError('conflict', `id: notice ${id} is not approved yet`, 'params.id');
    this.checkOutageApproved(row);
    this.smsChannel(); // refuse now, not in the background, when no channel is configured
    const now = Date.now();
    const upsert = this.db.prepare(`INSERT INTO customer_notice_deliveries (notice_id, meter, customer, phone, language, state, updated_at)
      VALUES (?, ?, ?, ?, ?, 'queued', ?) ON CONFLICT (notice_id, meter) DO UPDATE SET state = 'queued', updated_at = excluded.updated_at WHERE state = 'failed'`);
    this.db.transaction(() => {
      for (const m of this.recipients(row)) if (m.phone) upsert.run(id, m.id, m.customer, m.phone, m.language ?? 'zh-CN', now);
      this.db.prepare('UPDATE customer_notices SET send_requested_by = ? WHERE id = ?').run(by, id);
    })();
    this.startDelivery(id);
    return this.get(id);
  }

  private startDelivery(id: string): void {
    if (this.running.has(id)) return;
    const run = this.deliver(id).catch((e: unknown) => this.ctx.log.error({ notice: id, err: String(e) }, 'customer notice sending stopped'))
      .finally(() => this.running.delete(id));
    this.running.set(id, run);
  }

  /** Resolves when no notice is being sent (shutdown). */
  async idle(): Promise<void> {
    await Promise.all(this.running.values());
  }

  private async deliver(id: string): Promise<void> {
    const { config, channel } = this.smsChannel();
    const notice = this.row(id);
    const params = JSON.parse(notice.sms_params) as Record<Language, SmsParams>;
    const base = notice.kind === 'planned' ? this.noticeConfig().plannedTemplate : this.noticeConfig().suddenTemplate;
    const templates = config.type === 'sms-aliyun' || config.type === 'sms-tencent' ? config.templates : {};
    const texts = JSON.parse(notice.texts) as CustomerNotice['texts'];
    for (;;) {
      const d = this.db.prepare(`SELECT * FROM customer_notice_deliveries WHERE notice_id = ? AND state = 'queued' ORDER BY meter LIMIT 1`).get(id) as DeliveryRow | undefined;
      if (!d) return;
      const template = d.language === 'en' && templates[`${base}_en`] ? `${base}_en` : base;
      const message: NotifyMessage = {
        id: `customer-notice/${id}/${d.meter}`, title: texts[d.language].sms, text: texts[d.language].sms,
        sms: { template, params: params[d.language] },
      };
      const to: Recipient = { id: d.meter, name: d.customer, phone: d.phone, language: d.language };
      const result = await channel.send(message, to).catch((e: unknown) => ({ ok: false, answer: `channel threw: ${(e as Error).message}` }));
      const now = Date.now();
      this.db.prepare(`UPDATE customer_notice_deliveries SET state = ?, attempts = attempts + 1, updated_at = ?, answer = ? WHERE notice_id = ? AND meter = ?`)
        .run(result.ok ? 'sent' : 'failed', now, result.answer, id, d.meter);
      if (result.ok) this.markSent(id, now);
    }
  }

  /** The first SMS accepted: the customers are told now. A planned outage's notice time follows. */
  private markSent(id: string, at: number): void {
    const row = this.row(id);
    if (row.sent_at !== null) return;
    this.db.prepare('UPDATE customer_notices SET sent_at = ?, sent_by = ? WHERE id = ?').run(at, row.send_requested_by, id);
    if (row.planned_outage_id) {
      const register = this.ctx.register();
      const outage = register.getPlanned(row.planned_outage_id);
      // told after the start (a late notice) counts as told at the start: no notice at all
      if (outage) register.updatePlanned(outage.id, { notifiedAt: Math.min(at, outage.start) });
    }
  }

  private noticeConfig(): NonNullable<NotifyConfig['customerNotices']> {
    const c = this.ctx.config.notify?.customerNotices;
    if (!c) throw new ApiError('unavailable', 'no SMS channel is configured for customer notices (notify.customerNotices)');
    return c;
  }

  private smsChannel(): { config: ChannelConfig; channel: Channel } {
    const name = this.noticeConfig().channel;
    if (this.channel?.config.name !== name) {
      const config = this.ctx.config.notify!.channels.find((c) => c.name === name)!;
      this.channel = { config, channel: createChannel(config, this.env) };
    }
    return this.channel;
  }

  /** Active customers of the notice's areas (a sudden outage's affected part when people picked its meters or drew around them). */
  private recipients(row: NoticeRow): MeterConfig[] {
    const dmas = new Set(JSON.parse(row.dmas) as string[]);
    const part = row.incident_id ? this.ctx.register().book.get(row.incident_id)?.affectedPart : undefined;
    const picked = part && 'meters' in part ? new Set(part.meters) : undefined;
    return [...this.ctx.topology.meters.values()].filter((m) => m.active && m.dma !== undefined && dmas.has(m.dma) && (!picked || picked.has(m.id)));
  }

  /** A planned outage is announced to customers only once a dispatcher approved it (review F18). */
  private checkOutageApproved(row: NoticeRow): void {
    const outage = row.planned_outage_id ? this.ctx.register().getPlanned(row.planned_outage_id) : undefined;
    if (outage?.status === 'pending') {
      throw new ApiError('conflict', `id: planned outage ${outage.id} waits for a dispatcher's approval; its notice goes out only once it is approved`, 'params.id');
    }
  }

  private row(id: string): NoticeRow {
    const row = this.db.prepare('SELECT * FROM customer_notices WHERE id = ?').get(id) as NoticeRow | undefined;
    if (!row) throw new ApiError('not_found', `id: no notice ${id}`, 'params.id');
    return row;
  }

  private toNotice(r: NoticeRow): CustomerNotice {
    const deliveries = (this.db.prepare('SELECT * FROM customer_notice_deliveries WHERE notice_id = ? ORDER BY meter').all(r.id) as DeliveryRow[])
      .map((d): NoticeDelivery => ({ meter: d.meter, customer: d.customer, phone: d.phone, state: d.state, attempts: d.attempts, updatedAt: d.updated_at, ...(d.answer !== null ? { answer: d.answer } : {}) }));
    return {
      id: r.id, kind: r.kind,
      ...(r.planned_outage_id !== null ? { plannedOutageId: r.planned_outage_id } : {}),
      ...(r.incident_id !== null ? { incidentId: r.incident_id } : {}),
      dmas: JSON.parse(r.dmas) as string[], texts: JSON.parse(r.texts) as CustomerNotice['texts'],
      createdAt: r.created_at, createdBy: r.created_by,
      ...(r.approved_at !== null ? { approvedAt: r.approved_at, approvedBy: r.approved_by! } : {}),
      ...(r.sent_at !== null ? { sentAt: r.sent_at, sentBy: r.sent_by ?? '' } : {}),
      withoutPhone: this.recipients(r).filter((m) => !m.phone).length,
      deliveries,
    };
  }
}
