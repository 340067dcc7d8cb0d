/**
 * Acknowledge an MQTT message only after its readings are durable in the outbox (shared by the
 * MQTT and Sparkplug sources).
 *
 * How it works with mqtt.js 5:
 * - mqtt.js hands packets one at a time to `client.handleMessage(packet, callback)` and takes the
 *   next packet off the socket only after `callback`. For QoS 1 it sends the PUBACK inside that
 *   callback unless it is called with an error. Waiting there for each submit would allow one
 *   message per outbox commit (~20 messages/s with a 50 ms group commit). So we call back at once
 *   with ACK_DEFERRED (an error value mqtt.js only uses to skip its PUBACK; it logs nothing and
 *   reads on), gather the readings of the messages that arrive meanwhile into one batch, submit
 *   the batch, and send the PUBACKs ourselves once the submit resolved.
 * - PUBACKs go out in the order the messages came in, as MQTT 3.1.1 (4.6) requires, whatever order
 *   submits resolve in: a FIFO of pending acks, drained from its head.
 * - Flow control: while more than `maxUnsettledReadings` readings await their submit, or more than
 *   the outbox has room for (`room`), the callback is held, so mqtt.js stops reading the socket and
 *   TCP pushes back on the broker. Reading only what the outbox can take keeps a broker's backlog
 *   with the broker: reading it all would have the outbox refuse all but its first batch, the
 *   connection dropped and the whole backlog sent again, once per outbox-full.
 *   Held for room, it is checked again every ROOM_CHECK_MS as the store writer drains the outbox.
 * - Acks are per connection. When the connection drops, pending acks are forgotten: the broker
 *   redelivers those messages on the next connection (persistent session), and readings that were
 *   stored meanwhile come again as duplicates, which the pipeline and the store absorb.
 *
 * When submit is refused (BackpressureError: outbox full; or any other failure), the messages of
 * that batch are not acknowledged. We then drop the connection at once and reconnect after a delay
 * (1 s, doubling to 30 s) rather than keep the messages un-acked on a live connection, because:
 * MQTT brokers redeliver un-acked QoS 1 messages only on a new connection, so un-acked messages
 * on a live connection would never come back; the broker's persistent session, not our memory,
 * holds what arrives while the outbox is full; and in a shared subscription, the broker can hand
 * the load to another instance meanwhile. QoS 0 readings refused this way are lost (QoS 0 promises
 * nothing) and counted. With `room`, the pause ends early once the outbox has room again, so a
 * source backed off to 30 s does not sit out an outbox the store writer has emptied.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { RawReading } from '../../../../core/model/reading.ts';
import { BackpressureError } from '../../../pipeline/contract.ts';
import { monotonicMs } from '../../../../core/time/monotonic.ts';

/** What a source makes of one message: the readings to submit, possibly none. Should not throw. */
export type MessageDecoder = (packet: IPublishPacket) => RawReading[];

export interface AckAfterDurableOptions {
  client: MqttClient;
  decode: MessageDecoder;
  /**
   * Keep a message whose decoder threw (a bug) in the dead letters, before it is acknowledged.
   * When this throws too (disk full), the message is not acknowledged and the broker redelivers it.
   */
  deadLetter: (packet: IPublishPacket, err: Error) => void;
  submit: (readings: RawReading[]) => Promise<unknown>;
  log: Logger;
  /** Readings per submit at most. */
  maxBatchReadings?: number;
  /** Stop reading the socket while this many readings await their submit. */
  maxUnsettledReadings?: number;
  /** Delay before reconnecting after a refused submit; doubles per refusal in a row up to pauseMaxMs. */
  pauseMinMs?: number;
  pauseMaxMs?: number;
  /** Runs before the connection is dropped for a pause (Sparkplug announces STATE offline). */
  beforePause?: () => Promise<void>;
  /** Readings the outbox can still take (SourceContext.outboxRoom). */
  room?: () => number;
}

/** How often a socket held for outbox room, or a pause, looks at the room again. */
const ROOM_CHECK_MS = 20;

interface PendingAck {
  messageId: number;
  /** The connection the message came on; an ack is valid only there. */
  connection: number;
  durable: boolean;
}

interface Batch {
  readings: RawReading[];
  acks: PendingAck[];
  /** Set when a message of the batch could be neither decoded nor dead-lettered: nothing of it is acknowledged. */
  failed?: Error;
}

/**
 * The error value passed to mqtt.js' handleMessage callback to skip its automatic PUBACK
 * (see client.js/handlers/publish.js: `if (err) return done(err)`, and `done` just reads on).
 */
const ACK_DEFERRED = new Error('PUBACK deferred until the readings are durable');

export interface AckStats {
  messages: number;
  acked: number;
  /** Submits refused (outbox full or failing). */
  refusedSubmits: number;
  /** Connections dropped because of a refused submit. */
  pauses: number;
  /** QoS 0 readings lost to a refused submit. */
  droppedQos0Readings: number;
  /** Readings handed to the pipeline. */
  submittedReadings: number;
}

export class AckAfterDurable {
  readonly stats: AckStats = { messages: 0, acked: 0, refusedSubmits: 0, pauses: 0, droppedQos0Readings: 0, submittedReadings: 0 };
  private connection = 0;
  private ackQueue: PendingAck[] = [];
  private ackHead = 0;
  private open?: Batch;
  private flushScheduled = false;
  private unsettled = 0;
  private held?: () => void;
  private readonly inflight = new Set<Promise<void>>();
  private pausing = false;
  private pauseTimer?: NodeJS.Timeout;
  private roomTimer?: NodeJS.Timeout;
  private refusalsInARow = 0;
  private stopped = false;
  private readonly maxBatch: number;
  private readonly maxUnsettled: number;

  constructor(private readonly o: AckAfterDurableOptions) {
    this.maxBatch = o.maxBatchReadings ?? 5000;
    this.maxUnsettled = o.maxUnsettledReadings ?? 100_000;
    o.client.handleMessage = (packet, callback) => this.onMessage(packet, callback);
    o.client.on('close', () => this.onConnectionClosed());
  }

  /** True while the connection is dropped because the pipeline refused readings. */
  get paused(): boolean { return this.pausing; }
  get pendingAcks(): number { return this.ackQueue.length - this.ackHead; }

  private onMessage(packet: IPublishPacket, callback: (err?: Error) => void): void {
    this.stats.messages++;
    const batch = (this.open ??= { readings: [], acks: [] });
    let readings: RawReading[] = [];
    try {
      readings = this.o.decode(packet);
    } catch (e) {
      // A decoder bug must not stall the connection, nor lose the message: it is acknowledged once
      // its raw payload is in the dead letters.
      this.o.log.error({ err: (e as Error).message, topic: packet.topic }, 'message decoder failed; payload kept in the dead letters');
      try {
        this.o.deadLetter(packet, e as Error);
      } catch (dl) {
        batch.failed = new Error(`message on ${packet.topic} could be neither decoded nor dead-lettered: ${(dl as Error).message}`);
      }
    }
    for (const r of readings) batch.readings.push(r);
    this.unsettled += readings.length;
    if (packet.qos > 0 && packet.messageId !== undefined) {
      const ack: PendingAck = { messageId: packet.messageId, connection: this.connection, durable: false };
      this.ackQueue.push(ack);
      batch.acks.push(ack);
    }
    if (batch.readings.length >= this.maxBatch) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      // setImmediate runs after mqtt.js has parsed what the socket delivered so far, so one batch
      // holds all messages of one read.
      setImmediate(() => { this.flushScheduled = false; this.flush(); });
    }
    const proceed = packet.qos > 0 ? () => callback(ACK_DEFERRED) : () => callback();
    if (this.unsettled >= this.readLimit()) {
      this.held = proceed;
      this.watchRoom();
    } else proceed();
  }

  /** Unsettled readings at which reading stops: maxUnsettledReadings, or less if the outbox has less room. */
  private readLimit(): number {
    return this.o.room ? Math.min(this.maxUnsettled, this.o.room()) : this.maxUnsettled;
  }

  /** While held for outbox room, look again as the store writer drains it. */
  private watchRoom(): void {
    if (!this.o.room || this.roomTimer || this.stopped) return;
    this.roomTimer = setTimeout(() => {
      this.roomTimer = undefined;
      this.releaseHeld();
      if (this.held) this.watchRoom();
    }, ROOM_CHECK_MS);
  }

  /** Submit the open batch now. */
  flush(): void {
    const batch = this.open;
    this.open = undefined;
    if (!batch) return;
    const n = batch.readings.length;
    if (batch.failed) {
      this.unsettled -= n;
      this.refused(batch.failed, batch);
      this.releaseHeld();
      return;
    }
    if (n === 0) {
      for (const a of batch.acks) a.durable = true;
      this.drainAcks();
      return;
    }
    this.stats.submittedReadings += n;
    const done = this.o.submit(batch.readings).then(
      () => {
        this.refusalsInARow = 0;
        for (const a of batch.acks) a.durable = true;
        this.drainAcks();
      },
      (err: unknown) => this.refused(err as Error, batch),
    ).finally(() => {
      this.unsettled -= n;
      this.inflight.delete(done);
      this.releaseHeld();
    });
    this.inflight.add(done);
  }

  private releaseHeld(): void {
    if (this.held && this.unsettled < this.readLimit()) {
      const proceed = this.held;
      this.held = undefined;
      proceed();
    }
  }

  private drainAcks(): void {
    const q = this.ackQueue;
    while (this.ackHead < q.length && q[this.ackHead].durable) {
      const a = q[this.ackHead++];
      if (a.connection === this.connection && this.o.client.connected) {
        // mqtt.js has no public call for a PUBACK; _sendPacket is what its own handler uses.
        (this.o.client as unknown as { _sendPacket(p: object, cb?: () => void): void })
          ._sendPacket({ cmd: 'puback', messageId: a.messageId });
        this.stats.acked++;
      }
    }
    if (this.ackHead > 1024 && this.ackHead * 2 > q.length) {
      this.ackQueue = q.slice(this.ackHead);
      this.ackHead = 0;
    }
  }

  private onConnectionClosed(): void {
    // Acks of this connection can no longer be sent; the broker redelivers those messages.
    this.connection++;
    this.ackQueue = [];
    this.ackHead = 0;
  }

  private refused(err: Error, batch: Batch): void {
    this.stats.refusedSubmits++;
    const backpressure = err instanceof BackpressureError;
    if (batch.acks.length === 0) {
      this.stats.droppedQos0Readings += batch.readings.length;
      this.o.log.warn({ err: err.message, readings: batch.readings.length }, 'QoS 0 readings refused by the pipeline and lost');
      return;
    }
    if (batch.acks[0].connection !== this.connection || this.pausing || this.stopped) return;
    this.pausing = true;
    this.stats.pauses++;
    this.refusalsInARow++;
    const min = this.o.pauseMinMs ?? 1000;
    const delay = Math.min(this.o.pauseMaxMs ?? 30_000, min * 2 ** (this.refusalsInARow - 1));
    this.o.log.warn({ err: err.message, backpressure, reconnectInMs: delay },
      'pipeline refused readings: not acknowledging; dropping the connection so the broker keeps and redelivers them');
    void (async () => {
      try { await this.o.beforePause?.(); } catch { /* best effort */ }
      // Forced: no DISCONNECT packet and no waiting; the un-acked messages stay with the broker.
      this.o.client.end(true, () => {
        if (this.stopped) return;
        // Measured on the monotonic clock: a backward step of the wall clock must not lengthen the pause (F17).
        const pausedAt = monotonicMs();
        // Reconnect after the delay, or as soon as the outbox has room again (after pauseMinMs).
        const resumeWhenDue = () => {
          const paused = monotonicMs() - pausedAt;
          const due = paused >= delay || (this.o.room !== undefined && paused >= min && this.o.room() > 0);
          if (!due) { this.pauseTimer = setTimeout(resumeWhenDue, this.o.room ? ROOM_CHECK_MS : delay); return; }
          this.pausing = false;
          if (!this.stopped) this.o.client.reconnect();
        };
        this.pauseTimer = setTimeout(resumeWhenDue, this.o.room ? Math.min(min, delay) : delay);
      });
    })();
  }

  /** Submit what is open and wait (up to timeoutMs) for in-flight submits, sending their acks. */
  async drain(timeoutMs = 5000): Promise<void> {
    this.flush();
    if (this.inflight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
  }

  /** No more reconnects from a pause; call before ending the client. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.pauseTimer);
    clearTimeout(this.roomTimer);
    this.held?.();
    this.held = undefined;
  }
}
