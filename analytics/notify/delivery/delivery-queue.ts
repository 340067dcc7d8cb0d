/**
 * The delivery record and queue: every message to every recipient on every channel is a row in the
 * state database (`notify_deliveries`: queued → sent | delivered | failed, with the channel's last
 * answer), so the history shows what reached whom, and a message waiting for a retry survives a
 * restart. Retries back off exponentially (a Retry-After from the far end is honoured up to the
 * ceiling). A channel whose attempts keep failing is reported down once (`onChannelDown`), and up
 * again on its next success. Event-time driven: `runDue(now)` sends what is due; nothing sleeps.
 */
import type { Database } from 'better-sqlite3';
import type { Channel, DeliveryResult, NotifyMessage, Recipient } from '../channels/channel.ts';

export type DeliveryState = 'queued' | 'sent' | 'delivered' | 'failed';

export interface DeliveryRecord {
  id: number;
  messageId: string;
  alarmId: string | null;
  recipientId: string;
  channel: string;
  state: DeliveryState;
  attempts: number;
  queuedAt: number;
  updatedAt: number;
  nextAttemptAt: number | null;
  status: number | null;
  answer: string | null;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Wait before the 2nd attempt; doubles each time up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, backoffMs: 30_000, maxBackoffMs: 15 * 60_000 };

export interface ChannelHealthEvent { channel: string; at: number; consecutiveFailures: number; lastAnswer: string }

export interface DeliveryQueueOptions {
  channels: ReadonlyMap<string, Channel>;
  retry?: Partial<RetryPolicy>;
  /** Failed attempts in a row (over any messages) after which a channel counts as down. Default 3. */
  channelDownAfter?: number;
  onChannelDown?: (e: ChannelHealthEvent) => void;
  onChannelUp?: (e: { channel: string; at: number }) => void;
}

interface Row {
  id: number; message_id: string; alarm_id: string | null; recipient_id: string; channel: string; state: DeliveryState; attempts: number;
  queued_at: number; updated_at: number; next_attempt_at: number | null; status: number | null; answer: string | null;
  message_json: string; recipient_json: string;
}

export class DeliveryQueue {
  private readonly retry: RetryPolicy;
  private readonly downAfter: number;
  private readonly failuresInARow = new Map<string, number>();
  private readonly down = new Set<string>();
  private readonly inFlight = new Set<number>();
  private readonly stmt;

  constructor(private readonly db: Database, private readonly opts: DeliveryQueueOptions) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.downAfter = opts.channelDownAfter ?? 3;
    db.exec(`CREATE TABLE IF NOT EXISTS notify_deliveries (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      message_id TEXT NOT NULL, alarm_id TEXT, recipient_id TEXT NOT NULL, channel TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('queued','sent','delivered','failed')),
      attempts INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      next_attempt_at INTEGER, status INTEGER, answer TEXT,
      message_json TEXT NOT NULL, recipient_json TEXT NOT NULL,
      UNIQUE (message_id, channel)
    );
    CREATE INDEX IF NOT EXISTS notify_deliveries_due ON notify_deliveries (next_attempt_at) WHERE state = 'queued';
    CREATE INDEX IF NOT EXISTS notify_deliveries_alarm ON notify_deliveries (alarm_id);`);
    this.stmt = {
      insert: db.prepare(`INSERT OR IGNORE INTO notify_deliveries (message_id, alarm_id, recipient_id, channel, state, queued_at, updated_at, next_attempt_at, message_json, recipient_json)
        VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)`),
      due: db.prepare(`SELECT * FROM notify_deliveries WHERE state = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id`),
      nextDue: db.prepare(`SELECT MIN(next_attempt_at) AS t FROM notify_deliveries WHERE state = 'queued'`),
      update: db.prepare(`UPDATE notify_deliveries SET state = ?, attempts = ?, updated_at = ?, next_attempt_at = ?, status = ?, answer = ? WHERE id = ?`),
      byAlarm: db.prepare(`SELECT * FROM notify_deliveries WHERE alarm_id = ? ORDER BY id`),
    };
  }

  /** Queue a message for a recipient on a channel, due now. The same message id on the same channel is queued once. */
  enqueue(message: NotifyMessage, recipient: Recipient, channel: string, now: number): void {
    if (!this.opts.channels.has(channel)) throw new Error(`no channel named ${channel}`);
    this.stmt.insert.run(message.id, message.alarmId ?? null, recipient.id, channel, now, now, now, JSON.stringify(message), JSON.stringify(recipient));
  }

  /** When the next queued delivery is due (for the caller's timer), or undefined when none is queued. */
  nextDueAt(): number | undefined {
    return (this.stmt.nextDue.get() as { t: number | null }).t ?? undefined;
  }

  /** Attempt every delivery due at `now`: in order per channel, the channels side by side. Resolves when all attempts are recorded. */
  async runDue(now: number): Promise<void> {
    const perChannel = new Map<string, Row[]>();
    for (const row of this.stmt.due.all(now) as Row[]) {
      if (this.inFlight.has(row.id)) continue; // an overlapping run is already sending it
      this.inFlight.add(row.id);
      perChannel.set(row.channel, [...(perChannel.get(row.channel) ?? []), row]);
    }
    await Promise.all([...perChannel].map(async ([name, list]) => {
      for (const row of list) {
        try { await this.attempt(row, this.opts.channels.get(name), now); } finally { this.inFlight.delete(row.id); }
      }
    }));
  }

  private async attempt(row: Row, channel: Channel | undefined, now: number): Promise<void> {
    const result: DeliveryResult = channel
      ? await channel.send(JSON.parse(row.message_json) as NotifyMessage, JSON.parse(row.recipient_json) as Recipient)
        .catch((e: unknown) => ({ ok: false, retryable: true, answer: `channel threw: ${(e as Error).message}` }))
      : { ok: false, retryable: false, answer: `channel ${row.channel} is no longer configured` };
    const attempts = row.attempts + 1;
    if (result.ok) {
      this.stmt.update.run(result.state ?? 'delivered', attempts, now, null, result.status ?? null, result.answer, row.id);
      this.noteSuccess(row.channel, now);
      return;
    }
    const giveUp = !result.retryable || attempts >= this.retry.maxAttempts;
    const wait = Math.min(this.retry.maxBackoffMs, result.retryAfterMs ?? this.retry.backoffMs * 2 ** (attempts - 1));
    this.stmt.update.run(giveUp ? 'failed' : 'queued', attempts, now, giveUp ? null : now + wait, result.status ?? null, result.answer, row.id);
    this.noteFailure(row.channel, now, result.answer);
  }

  private noteSuccess(channel: string, at: number): void {
    this.failuresInARow.set(channel, 0);
    if (this.down.delete(channel)) this.opts.onChannelUp?.({ channel, at });
  }

  private noteFailure(channel: string, at: number, lastAnswer: string): void {
    const n = (this.failuresInARow.get(channel) ?? 0) + 1;
    this.failuresInARow.set(channel, n);
    if (n >= this.downAfter && !this.down.has(channel)) {
      this.down.add(channel);
      this.opts.onChannelDown?.({ channel, at, consecutiveFailures: n, lastAnswer });
    }
  }

  /** Channels currently counted as down. */
  downChannels(): string[] {
    return [...this.down];
  }

  /** Every delivery of an alarm's messages, oldest first (the alarm's history). */
  history(alarmId: string): DeliveryRecord[] {
    return (this.stmt.byAlarm.all(alarmId) as Row[]).map((r) => ({
      id: r.id, messageId: r.message_id, alarmId: r.alarm_id, recipientId: r.recipient_id, channel: r.channel, state: r.state,
      attempts: r.attempts, queuedAt: r.queued_at, updatedAt: r.updated_at, nextAttemptAt: r.next_attempt_at, status: r.status, answer: r.answer,
    }));
  }
}
