/**
 * One store synced with one JetStream stream, run by the leader's worker.
 *
 * - **Push:** the local log is the outbox. Records after the pushed seq that did not come from
 *   the stream are published in order to `<prefix>.<device>`, each with the message id
 *   `<device>-<seq>` (the server drops a repeat within its duplicate window) and the first of
 *   every batch with an expected last subject sequence (beyond the window, a second copy of a
 *   batch is refused). After a reconnect the pushed seq is read back from the stream.
 * - **Pull:** an ordered consumer from the cursor's stream seq + 1. Each record pulled is
 *   committed with the new cursor in the same local record.
 * - **Conflicts:** per key, the write later in the stream wins. A pulled record skips the keys
 *   this device wrote and has not seen come back yet (they land later in the stream).
 */
import { headers as natsHeaders, wsconnect, type NatsConnection } from '@nats-io/nats-core';
import { jetstream, JetStreamApiCodes, JetStreamApiError, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { StoreError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { isReserved } from '../keys.js';
import type { EncodedChange, EncodedOp, SyncInfo, SyncOptions, SyncSnapshotInfo, SyncState } from '../protocol.js';
import { decodeValue } from '../format/value.js';
import { assertKey } from '../keys.js';
import { downloadSnapshot, findSnapshot, snapshotBucket, uploadSnapshot, type SnapshotMeta } from './snapshots.js';
import { cursorKey, cursorOp, decodeCursor, fromStream, newDeviceId, type SyncCursor } from './cursor.js';
import { decodeIncoming, encodeOutgoing, PART_HEADER, Reassembler, type IncomingRecord } from './message.js';
import { PendingWrites } from './pending.js';

/** Header carrying the local seq of the record a message holds. */
export const SEQ_HEADER = 'Walden-Seq';
/** Records published per batch (one expected-sequence check, then pipelined). */
const PUSH_BATCH = 256;
/** First reconnect delay; it doubles up to {@link MAX_BACKOFF_MS}. */
const FIRST_BACKOFF_MS = 250;
/** How long one connection attempt may take unless the options say otherwise. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** A connection that lasted this long resets the backoff. */
const STABLE_SESSION_MS = 10_000;
/** Longest wait between two connection attempts while offline. */
const MAX_BACKOFF_MS = 10_000;
/** How long a cursor moved only by own records waits to be committed. */
const CURSOR_SAVE_DELAY_MS = 250;
/** How often the outbox checkpoint (the retention pin) is saved at most. */
const CHECKPOINT_EVERY_MS = 1000;
/** How long a publish waits for the stream's acknowledgement. */
const PUBLISH_TIMEOUT_MS = 5000;
/** How long the consumer may bring nothing while the stream holds more before the session is made again. */
const PULL_STALL_MS = 5000;
/** Messages held behind an incomplete split record before it is given up on. */
const MAX_HELD_MESSAGES = 8192;

/** What the syncer needs from its worker. */
export interface SyncPort {
  /** Commit on the leader's engine what `compute` returns at commit time (and send the frames to followers). */
  commitComputed(compute: () => EncodedOp[][]): Promise<number[]>;
  /** Save the outbox checkpoint: sync needs the log after `sequence`. */
  saveCheckpoint(stream: string, sequence: number, offsets: Record<string, number>): Promise<void>;
  /** The saved outbox checkpoint's offsets, if any. */
  loadCheckpoint(stream: string): Promise<Record<string, number> | undefined>;
  /** Freeze the state now (synchronously) and write it as an export artifact. */
  exportArtifact(): { seq: number; blob: Promise<Blob> };
  /** Check an artifact and read its snapshot's entries. @throws StoreError `STORE_INVALID_ARTIFACT` */
  readArtifact(blob: Blob): Promise<{ seq: number; entries: { key: string; value: Uint8Array; expiresAt: number }[] }>;
}

/** Attempts of `snapshot()` at finding a moment with no local write on its way to the stream. */
const SNAPSHOT_ATTEMPTS = 5;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The error code for a failure, when it is one sync stops on (no retry can fix it). */
function fatal(error: unknown): StoreError | undefined {
  if (error instanceof StoreError && error.code !== 'STORE_SYNC_OFFLINE') return error;
  const e = error as { name?: string; message?: string; code?: string } | null;
  const text = `${e?.name ?? ''} ${e?.message ?? ''} ${e?.code ?? ''}`;
  if (/authori[sz]ation|authentication|permissions? violation/i.test(text)) {
    return new StoreError('STORE_SYNC_AUTH', `the sync server refused the credentials or the subject (${e?.message ?? 'authorization'})`);
  }
  return undefined;
}

/** A connection attempt or a running sync failed in a way a reconnect may fix. */
function offline(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError('STORE_SYNC_OFFLINE', `sync lost its server: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

/** Keep the ops a device may publish: its own writes, without Walden's reserved entries. */
function publishable(ops: readonly EncodedOp[]): EncodedOp[] {
  return ops.filter((op) => !isReserved(op.key));
}

/** One stream's sync. Create with {@link Syncer.start}; it runs until {@link Syncer.close}. */
export class Syncer {
  readonly #engine: Engine;
  readonly #port: SyncPort;
  readonly #options: SyncOptions;
  readonly #stream: string;
  readonly #prefix: string;
  /** Where pull stands (ahead of the stored cursor while only own records came back). */
  #cursor: SyncCursor;
  /** The `pulled` of the cursor last committed. */
  #durablePulled = 0;
  #cursorTimer: ReturnType<typeof setTimeout> | undefined;
  #state: SyncState = 'connecting';
  #lastError: StoreError | undefined;
  /** The last local seq examined by push and acknowledged by the stream where it had to be sent. */
  #pushed = 0;
  /** Local records that came from this device and are not acknowledged yet. */
  #outbox = 0;
  readonly #pending = new PendingWrites();
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  #released = false;
  #connection: NatsConnection | undefined;
  /** Bumped on every change of what {@link Syncer.info} says; waiters wake on it. */
  #version = 0;
  readonly #waiters = new Set<() => void>();
  #lastCheckpoint = 0;
  #checkpointTimer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #sleep: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | undefined;
  /** Counters for `info()`. */
  #published = 0;
  #applied = 0;
  #snapshotsApplied = 0;

  private constructor(engine: Engine, port: SyncPort, options: SyncOptions, cursor: SyncCursor) {
    this.#engine = engine;
    this.#port = port;
    this.#options = options;
    this.#stream = options.stream;
    this.#prefix = options.subjectPrefix ?? `walden.${options.stream}`;
    this.#cursor = cursor;
    this.#durablePulled = cursor.pulled;
  }

  /** Read where the store stands with `options.stream` (a new device gets an id), then sync in the background. */
  static async start(engine: Engine, port: SyncPort, options: SyncOptions): Promise<Syncer> {
    const saved = decodeCursor(engine.get(cursorKey(options.stream)));
    const cursor = saved ?? { device: newDeviceId(), pulled: 0, ownSeen: 0 };
    const syncer = new Syncer(engine, port, options, cursor);
    // A new device's id is stored before anything is published under it: the next leader (or
    // the next run) must publish as the same device.
    if (!saved) await port.commitComputed(() => [[cursorOp(options.stream, cursor)]]);
    await syncer.#rebuild((await port.loadCheckpoint(options.stream))?.pushed ?? 0);
    syncer.#running = syncer.#run();
    // The first attempt decides: credentials the server refuses fail the call; an unreachable
    // server does not (the app works offline, and sync goes on trying).
    await syncer.#until(() => syncer.#state !== 'connecting', (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) + 1000);
    if (syncer.#state === 'closed' && syncer.#lastError) {
      await syncer.close();
      throw syncer.#lastError;
    }
    return syncer;
  }

  /**
   * Find this device's writes the stream has not brought back (from the log after the cursor's
   * `ownSeen`), and count the outbox after `pushed`; then follow every commit.
   */
  async #rebuild(pushed: number): Promise<void> {
    const buffered: EncodedChange[] = [];
    let rebuilding = true;
    const onCommit = (records: EncodedChange[]) => (rebuilding ? buffered.push(...records) : this.#noteLocal(records));
    this.#unsubscribe = this.#engine.onCommit(onCommit);
    const upTo = this.#engine.info().seq;
    this.#pushed = Math.min(Math.max(pushed, 0), upTo);
    let since = Math.min(this.#cursor.ownSeen, this.#pushed);
    while (since < upTo) {
      const page = await this.#engine.readLog(since, 1024);
      if (!page) throw new StoreError('STORE_SYNC_HISTORY_LOST', `the local log after seq ${since} is gone (more than the history budget was written while offline); sync cannot tell what this device has not published`);
      this.#noteLocal(page.changes.filter((c) => c.seq <= upTo));
      since = Math.min(page.next, upTo);
    }
    rebuilding = false;
    this.#noteLocal(buffered.filter((c) => c.seq > upTo));
  }

  /** Local commits: this device's own writes become pending (and outbox, after the pushed seq). */
  #noteLocal(records: readonly EncodedChange[]): void {
    for (const record of records) {
      if (fromStream(record.ops)) continue;
      const ops = publishable(record.ops);
      if (ops.length === 0) continue;
      if (record.seq > this.#cursor.ownSeen) this.#pending.note(record.seq, ops.map((op) => op.key));
      if (record.seq > this.#pushed) this.#outbox++;
    }
    // Every commit wakes push, even one with nothing to publish: push moves past it.
    if (records.length > 0) this.#changed();
  }

  /** What sync is doing. */
  get state(): SyncState {
    return this.#state;
  }

  /** Counters and cursors. */
  info(): SyncInfo {
    return {
      stream: this.#stream,
      state: this.#state,
      device: this.#cursor.device,
      pushedSeq: this.#pushed,
      pulledStreamSeq: this.#cursor.pulled,
      pendingRecords: this.#outbox,
      unconfirmedKeys: this.#pending.size,
      published: this.#published,
      applied: this.#applied,
      snapshotsApplied: this.#snapshotsApplied,
      version: this.#version,
      ...(this.#lastError ? { lastError: { code: this.#lastError.code, message: this.#lastError.message } } : {}),
    };
  }

  /** Resolve with {@link Syncer.info} once it differs from `version`, or after `waitMs`. */
  async watch(version: number, waitMs: number): Promise<SyncInfo> {
    if (version === this.#version && !this.#closed) await this.#until(() => version !== this.#version, waitMs);
    return this.info();
  }

  /** Resolve once every local record committed before the call is acknowledged by the stream. */
  async flush(): Promise<void> {
    const target = this.#engine.info().seq;
    await this.#until(() => this.#pushed >= target || this.#closed);
    this.#throwIfStopped();
  }

  /** Resolve once everything the stream held at the call is applied here. */
  async pulled(): Promise<void> {
    let last: number | undefined;
    while (last === undefined) {
      this.#throwIfStopped();
      const connection = this.#connection;
      if (connection && this.#state === 'online') {
        try {
          last = (await (await jetstreamManager(connection)).streams.info(this.#stream)).state.last_seq;
          break;
        } catch {
          // Lost the server meanwhile: wait for the next connection.
        }
      }
      await this.#until(() => this.#closed || (this.#state === 'online' && this.#connection !== connection));
    }
    await this.#until(() => this.#cursor.pulled >= last! || this.#closed);
    this.#throwIfStopped();
  }

  #throwIfStopped(): void {
    if (this.#state === 'closed') throw this.#lastError ?? new StoreError('STORE_CLOSED', `sync of ${this.#stream} is closed`);
  }

  /** Stop syncing and close the connection. Local data stays; the next `sync()` goes on from the cursor. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#setState('closed');
      this.#sleep?.resolve();
      await this.#connection?.close().catch(() => {});
    }
    await this.#running?.catch(() => {});
    await this.#release();
  }

  /** Stop following commits and save where sync stands (once, whether closed or stopped by an error). */
  async #release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#cursorTimer);
    await this.#saveCursor().catch(() => {});
    this.#unsubscribe?.();
    clearTimeout(this.#checkpointTimer);
    await this.#saveCheckpoint().catch(() => {});
    this.#changed();
  }

  #setState(state: SyncState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#changed();
  }

  #changed(): void {
    this.#version++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Wait until `done()` holds, re-checking on every change, or until `waitMs` passed. */
  async #until(done: () => boolean, waitMs = Number.POSITIVE_INFINITY): Promise<void> {
    const deadline = performance.now() + waitMs;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(left) ? setTimeout(() => (this.#waiters.delete(wake), resolve()), left) : undefined;
        const wake = () => (clearTimeout(timer), resolve());
        this.#waiters.add(wake);
      });
    }
  }

  /** Connect, sync until the connection fails, back off, again, until closed or stopped by an error no retry fixes. */
  async #run(): Promise<void> {
    let backoff = FIRST_BACKOFF_MS;
    while (!this.#closed) {
      this.#setState('connecting');
      let onlineSince: number | undefined;
      try {
        await this.#session(() => (onlineSince = performance.now()));
      } catch (error) {
        // Only a connection that lasted resets the backoff: one that fails right after it is
        // made (a server that accepts and then refuses) must not retry quickly forever.
        if (onlineSince !== undefined && performance.now() - onlineSince > STABLE_SESSION_MS) backoff = FIRST_BACKOFF_MS;
        if (this.#closed) return;
        const stop = fatal(error);
        if (stop) {
          this.#lastError = stop;
          this.#closed = true;
          this.#setState('closed');
          await this.#connection?.close().catch(() => {});
          await this.#release();
          return;
        }
        this.#lastError = offline(error);
      }
      if (this.#closed) return;
      this.#setState('offline');
      await this.#pause(backoff * (0.75 + Math.random() / 2));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#sleep = { timer: setTimeout(resolve, ms), resolve };
    }).finally(() => {
      if (this.#sleep) clearTimeout(this.#sleep.timer);
      this.#sleep = undefined;
    });
  }

  /** One connection: set up, then push and pull side by side until either fails. */
  async #session(connected: () => void): Promise<void> {
    const { servers, user, pass, token } = this.#options;
    const connection = await wsconnect({
      servers,
      ...(user !== undefined ? { user, pass } : {}),
      ...(token !== undefined ? { token } : {}),
      reconnect: false,
      timeout: this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      name: `walden ${this.#cursor.device}`,
    });
    this.#connection = connection;
    try {
      const jsm = await jetstreamManager(connection);
      const js = jetstream(connection);
      await this.#ensureStream(jsm);
      const lastOwn = await this.#readLastOwn(jsm);
      this.#pushed = Math.max(this.#pushed, Math.min(lastOwn.localSeq, this.#engine.info().seq));
      this.#recountOutbox();
      this.#lastError = undefined;
      this.#setState('online');
      connected();
      const closed = connection.closed().then((error) => {
        throw error ?? new StoreError('STORE_SYNC_OFFLINE', 'sync connection closed');
      });
      const stop = new AbortController();
      try {
        await Promise.race([this.#push(js, lastOwn.streamSeq, connection.info?.max_payload ?? 1024 * 1024, stop.signal), this.#pull(connection, js, jsm, stop.signal), closed]);
      } finally {
        stop.abort();
      }
    } finally {
      this.#connection = undefined;
      await connection.close().catch(() => {});
    }
  }

  /** Create the stream when it does not exist (with `replicas` copies), or check it takes this store's subjects. */
  async #ensureStream(jsm: JetStreamManager): Promise<void> {
    try {
      await jsm.streams.info(this.#stream);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
      await jsm.streams.add({ name: this.#stream, subjects: [`${this.#prefix}.>`], num_replicas: this.#options.replicas ?? 1 });
    }
  }

  /** The last message this device published that the stream holds: its stream seq (0: none) and the local seq it carries. */
  async #readLastOwn(jsm: JetStreamManager): Promise<{ streamSeq: number; localSeq: number }> {
    // null when there is none (the client answers the server's "no message found" so).
    const message = await jsm.streams.getMessage(this.#stream, { last_by_subj: this.#subject() });
    if (!message) return { streamSeq: 0, localSeq: 0 };
    const localSeq = Number(message.header.get(SEQ_HEADER));
    return { streamSeq: message.seq, localSeq: Number.isSafeInteger(localSeq) && localSeq > 0 ? localSeq : 0 };
  }

  #subject(): string {
    return `${this.#prefix}.${this.#cursor.device}`;
  }

  /** Count the local records after the pushed seq again (after the pushed seq moved on a reconnect). */
  #recountOutbox(): void {
    // The log is read again by push; until then, the outbox count is an upper bound kept by #noteLocal.
    this.#outbox = Math.max(0, Math.min(this.#outbox, this.#engine.info().seq - this.#pushed));
    this.#changed();
  }

  /** Publish the outbox, in order, until stopped. */
  async #push(js: JetStreamClient, lastSubjectSeq: number, maxPayload: number, signal: AbortSignal): Promise<never> {
    const subject = this.#subject();
    let expected = lastSubjectSeq;
    for (;;) {
      if (signal.aborted) throw new StoreError('STORE_SYNC_OFFLINE', 'sync session ended');
      const page = await this.#engine.readLog(this.#pushed, PUSH_BATCH);
      if (!page) throw new StoreError('STORE_SYNC_HISTORY_LOST', `the local log after seq ${this.#pushed} is gone before it was published`);
      if (page.next === this.#pushed) {
        await this.#until(() => this.#engine.info().seq > this.#pushed || signal.aborted);
        continue;
      }
      const messages = page.changes.flatMap((record) => {
        if (fromStream(record.ops)) return [];
        const ops = publishable(record.ops);
        return ops.length === 0 ? [] : encodeOutgoing(this.#cursor.device, record.seq, ops, maxPayload).map((m) => ({ ...m, seq: record.seq }));
      });
      // Published on one connection, so the server stores them in this order; the first one
      // checks that nobody (an earlier run of this device) published on this subject since.
      const acks = messages.map((message, i) => {
        const h = natsHeaders();
        h.set(SEQ_HEADER, String(message.seq));
        if (message.part) h.set(PART_HEADER, `${message.part.index}/${message.part.count}`);
        return js.publish(subject, message.body, { msgID: message.msgId, headers: h, timeout: PUBLISH_TIMEOUT_MS, ...(i === 0 ? { expect: { lastSubjectSequence: expected } } : {}) });
      });
      const results = await Promise.all(acks);
      if (results.length > 0) expected = results[results.length - 1]!.seq;
      this.#published += results.filter((r) => !r.duplicate).length;
      const sent = new Set(messages.map((m) => m.seq)).size;
      this.#pushed = page.next;
      this.#outbox = Math.max(0, this.#outbox - sent);
      this.#changed();
      this.#scheduleCheckpoint();
    }
  }

  /** Apply the stream from the cursor on, in order, until stopped. */
  async #pull(connection: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, signal: AbortSignal): Promise<never> {
    const info = await jsm.streams.info(this.#stream);
    const { first_seq: first, last_seq: last } = info.state;
    const pulled = this.#cursor.pulled;
    // The stream no longer holds what comes after the cursor (purged, limits, recreated).
    const lost = pulled > 0 ? first > pulled + 1 || last < pulled : first > 1;
    if (pulled === 0 || lost) {
      // A new device starts from the bucket's snapshot; one that lost history resets to it.
      const meta = await findSnapshot(connection, this.#bucket());
      const usable = meta !== undefined && meta.streamCreated === info.created && meta.pulled >= first - 1 && meta.pulled <= last && meta.pulled > (lost ? -1 : pulled);
      if (usable) await this.#resetTo(connection, jsm);
      else if (lost) {
        throw new StoreError('STORE_SYNC_HISTORY_LOST', `the stream ${this.#stream} no longer holds the records after seq ${pulled} (it holds ${first}…${last}) and its bucket ${this.#bucket()} has no snapshot that covers them`);
      }
    }
    const start = this.#cursor.pulled + 1;
    // The stream holds only this store's subjects (a filter would need nats-server 2.10).
    const consumer = await js.consumers.get(this.#stream, start > 1 ? { deliver_policy: 'by_start_sequence', opt_start_seq: start } : {});
    const messages: ConsumerMessages = await consumer.consume({ max_messages: 1024 });
    signal.addEventListener('abort', () => void messages.close());
    const reassembler = new Reassembler();
    let batch: { streamSeq: number; record?: IncomingRecord }[] = [];
    let expectedSeq = start;
    let failure: unknown;
    /** The commit in flight; what arrives meanwhile goes into the next one (a group commit). */
    let applying: Promise<void> | undefined;
    // A consumer can stall for good when the node leading the stream dies (seen on a three-node
    // cluster): when nothing came for a while but the stream holds more, make the session again.
    let lastArrival = performance.now();
    const watchdog = setInterval(() => {
      if (performance.now() - lastArrival < PULL_STALL_MS) return;
      jsm.streams.info(this.#stream).then(
        (now) => {
          if (now.state.last_seq < expectedSeq || performance.now() - lastArrival < PULL_STALL_MS) return;
          failure ??= new StoreError('STORE_SYNC_OFFLINE', `the stream consumer stalled after seq ${expectedSeq - 1} (the stream holds up to ${now.state.last_seq}); reconnecting`);
          void messages.close();
        },
        () => {},
      );
    }, PULL_STALL_MS / 2);
    const ready = () => batch.length > 0 && reassembler.oldestOpen() === undefined;
    const kick = () => {
      if (applying || failure !== undefined || !ready()) return;
      const taken = batch;
      batch = [];
      applying = this.#apply(taken)
        .catch((error: unknown) => {
          failure ??= error;
          void messages.close();
        })
        .finally(() => {
          applying = undefined;
          kick();
        });
    };
    try {
      for await (const message of messages as AsyncIterable<JsMsg>) {
        lastArrival = performance.now();
        if (message.seq !== expectedSeq) {
          failure ??= new StoreError('STORE_SYNC_HISTORY_LOST', `the stream ${this.#stream} skipped from seq ${expectedSeq - 1} to ${message.seq} (records were removed)`);
          break;
        }
        expectedSeq++;
        const incoming = decodeIncoming(message.subject, this.#prefix, message.headers?.get(PART_HEADER) || undefined, message.data);
        const whole = incoming.kind === 'part' ? reassembler.add(incoming, message.seq) : incoming;
        if (whole?.kind === 'invalid') {
          failure ??= new StoreError('STORE_SYNC_INVALID_MESSAGE', `stream ${this.#stream} seq ${message.seq} (${message.subject}): ${whole.why}; sync stopped and applied nothing of it`);
          break;
        }
        batch.push(whole?.kind === 'record' ? { streamSeq: message.seq, record: whole.record } : { streamSeq: message.seq });
        // While a split record is incomplete, what follows waits with it (the cursor cannot pass
        // its first part); a device that died mid-record and never came back is given up on.
        if (reassembler.oldestOpen() !== undefined && batch.length >= MAX_HELD_MESSAGES) reassembler.abandon();
        kick();
      }
    } finally {
      clearInterval(watchdog);
    }
    while (applying) await applying;
    kick();
    while (applying) await applying;
    throw failure ?? new StoreError('STORE_SYNC_OFFLINE', 'the stream consumer stopped');
  }

  /**
   * Commit pulled messages: each record from another device (without the keys this device
   * still has unconfirmed writes to) with the cursor at its message, all in one commit group.
   * This device's own records come back as confirmations.
   */
  async #apply(batch: readonly { streamSeq: number; record?: IncomingRecord }[]): Promise<void> {
    let applied = 0;
    const compute = (): EncodedOp[][] => {
      const writes: EncodedOp[][] = [];
      const cursor = { ...this.#cursor };
      for (const { streamSeq, record } of batch) {
        cursor.pulled = streamSeq;
        if (!record) continue;
        if (record.device === cursor.device) {
          cursor.ownSeen = Math.max(cursor.ownSeen, record.seq);
          this.#pending.confirm(record.seq);
          continue;
        }
        const ops = record.ops.filter((op) => !this.#pending.has(op.key));
        if (ops.length > 0) writes.push([...ops, cursorOp(this.#stream, cursor)]);
      }
      applied = writes.length;
      this.#cursor = cursor;
      // The last record carries the final cursor (the messages after it changed nothing here).
      const last = writes[writes.length - 1];
      if (last) {
        last[last.length - 1] = cursorOp(this.#stream, cursor);
        this.#durablePulled = cursor.pulled;
      }
      return writes;
    };
    await this.#port.commitComputed(compute);
    this.#applied += applied;
    // Only this device's own records came back: the cursor is saved a little later, with the
    // next record applied or on its own (pulling them again after a crash changes nothing).
    if (this.#durablePulled < this.#cursor.pulled) this.#scheduleCursorSave();
    this.#changed();
    this.#scheduleCheckpoint();
  }

  #bucket(): string {
    return snapshotBucket(this.#stream, this.#options.snapshotBucket);
  }

  /**
   * Upload the store's state to the bucket, at a moment when every local write came back from
   * the stream (so the state is exactly the stream's up to the cursor): a new device starts from it.
   */
  async snapshot(): Promise<SyncSnapshotInfo> {
    for (let attempt = 1; ; attempt++) {
      await this.flush();
      await this.pulled();
      const connection = this.#connection;
      if (!connection || this.#state !== 'online') continue;
      if (this.#pending.size === 0) {
        // The committed cursor and the frozen state, read in one synchronous step.
        const cursor = decodeCursor(this.#engine.get(cursorKey(this.#stream)));
        const exported = this.#port.exportArtifact();
        const blob = await exported.blob;
        const info = await (await jetstreamManager(connection)).streams.info(this.#stream);
        const meta: SnapshotMeta = { pulled: cursor?.pulled ?? 0, streamCreated: info.created, seq: exported.seq, bytes: blob.size };
        await uploadSnapshot(connection, this.#bucket(), this.#options.replicas ?? 1, blob, meta);
        return { pulledStreamSeq: meta.pulled, seq: meta.seq, bytes: meta.bytes };
      }
      if (attempt >= SNAPSHOT_ATTEMPTS) throw new StoreError('STORE_SYNC_OFFLINE', `sync of ${this.#stream}: local writes kept coming; a snapshot needs a moment when every one came back from the stream`);
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }

  /**
   * Bring the store to the bucket's snapshot in one commit: its entries put, the keys it lacks
   * deleted, except the keys this device wrote and the stream has not brought back (they land
   * later in the stream and win); the cursor moves to the snapshot's stream seq.
   */
  async #resetTo(connection: NatsConnection, jsm: JetStreamManager): Promise<void> {
    const { meta, blob } = await downloadSnapshot(connection, this.#bucket());
    const artifact = await this.#port.readArtifact(blob);
    if (artifact.seq !== meta.seq) throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: the snapshot holds seq ${artifact.seq}; its description says ${meta.seq}`);
    for (const entry of artifact.entries) {
      // Walden's own entries of the other device (its cursor, its request ledger) are left out.
      if (isReserved(entry.key)) continue;
      try {
        assertKey(entry.key);
        decodeValue(entry.value);
      } catch (error) {
        throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: the snapshot's entry ${JSON.stringify(entry.key.slice(0, 100))} is refused (${(error as Error).message}); sync stopped and changed nothing`);
      }
    }
    const ownSeen = await this.#ownSeenBy(jsm, meta.pulled);
    await this.#port.commitComputed(() => {
      const cursor = { ...this.#cursor, pulled: meta.pulled, ownSeen: Math.max(this.#cursor.ownSeen, ownSeen) };
      this.#pending.confirm(cursor.ownSeen);
      const now = Date.now();
      const ops: EncodedOp[] = [];
      const inSnapshot = new Set<string>();
      for (const { key, value, expiresAt } of artifact.entries) {
        if (isReserved(key) || (expiresAt !== 0 && expiresAt <= now)) continue;
        inSnapshot.add(key);
        if (this.#pending.has(key)) continue;
        const current = this.#engine.get(key);
        if (current && sameBytes(current, value)) continue;
        ops.push(expiresAt ? { type: 'put', key, value, expiresAt } : { type: 'put', key, value });
      }
      for (const [key] of this.#engine.scan({}, Number.POSITIVE_INFINITY).entries) {
        if (!isReserved(key) && !inSnapshot.has(key) && !this.#pending.has(key)) ops.push({ type: 'del', key });
      }
      ops.push(cursorOp(this.#stream, cursor));
      this.#cursor = cursor;
      this.#durablePulled = cursor.pulled;
      return [ops];
    });
    this.#snapshotsApplied++;
    this.#changed();
  }

  /** The last local seq of this device's records at or before stream seq `streamSeq` (own records are in local seq order on its subject). */
  async #ownSeenBy(jsm: JetStreamManager, streamSeq: number): Promise<number> {
    // The server's message get takes `next_by_subj` (nats-server 2.9 and later); the client's type lists it for direct gets only.
    const query = { seq: streamSeq + 1, next_by_subj: this.#subject() } as unknown as { seq: number };
    const next = await jsm.streams.getMessage(this.#stream, query);
    if (next) {
      const localSeq = Number(next.header.get(SEQ_HEADER));
      return Number.isSafeInteger(localSeq) && localSeq > 0 ? localSeq - 1 : 0;
    }
    return (await this.#readLastOwn(jsm)).localSeq;
  }

  #scheduleCursorSave(): void {
    if (this.#cursorTimer !== undefined) return;
    this.#cursorTimer = setTimeout(() => {
      this.#cursorTimer = undefined;
      if (this.#closed) return;
      this.#saveCursor().catch((error: unknown) => console.error('walden: saving the sync cursor failed', (error as Error).message));
    }, CURSOR_SAVE_DELAY_MS);
  }

  /** Commit the cursor on its own, if the last applied record does not carry it yet. */
  async #saveCursor(): Promise<void> {
    await this.#port.commitComputed(() => {
      if (this.#durablePulled >= this.#cursor.pulled) return [];
      this.#durablePulled = this.#cursor.pulled;
      return [[cursorOp(this.#stream, this.#cursor)]];
    });
  }

  #scheduleCheckpoint(): void {
    if (this.#checkpointTimer !== undefined) return;
    const wait = Math.max(0, this.#lastCheckpoint + CHECKPOINT_EVERY_MS - Date.now());
    this.#checkpointTimer = setTimeout(() => {
      this.#checkpointTimer = undefined;
      this.#saveCheckpoint().catch((error: unknown) => console.error('walden: saving the sync checkpoint failed', error));
    }, wait);
  }

  /** Pin the log sync still needs (after the lower of the pushed seq and the own records seen back). */
  async #saveCheckpoint(): Promise<void> {
    this.#lastCheckpoint = Date.now();
    await this.#port.saveCheckpoint(this.#stream, Math.min(this.#pushed, this.#cursor.ownSeen), { pushed: this.#pushed, pulled: this.#cursor.pulled });
  }
}
