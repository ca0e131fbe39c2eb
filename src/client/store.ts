/**
 * `Store`, the page-side facade over the worker's {@link EngineApi}: it checks arguments,
 * encodes values, and sends the writes made in one tick as one message (one commit group).
 */
import type { Remote } from 'comlink';
import { closedError } from '../errors.js';
import type { CommitOutcome, Durability, EngineApi, ScanRange, StoreInfo, SyncOptions, TabRole, ValueOp } from '../protocol.js';
import type { Sync } from './sync.js';
import { assertKey, assertScanRange } from '../keys.js';
import { assertStorable } from './storable.js';
import { Checkpoints } from './checkpoints.js';
import { runConsumer, type ConsumeOptions, type Consumer } from './consume.js';
import { feed, publicFeed, watchRange, type Change, type WatchOptions } from './feed.js';
import type { ExportManifest } from '../format/artifact.js';
import { streamOf } from './streams.js';

/** When a put's value expires: after `ttlMs`, or at `expiresAt` (a Date or ms since the epoch). */
export interface ExpiryOptions {
  ttlMs?: number;
  expiresAt?: number | Date;
}

/** One operation of {@link Store.batch}. */
export type BatchOp = ({ type: 'put'; key: string; value: unknown } & ExpiryOptions) | { type: 'del'; key: string };

/** The expiry time in ms since the epoch, or undefined for none. */
function expiryOf(options: ExpiryOptions | undefined, what: string): number | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what} options must be an object`);
  const { ttlMs, expiresAt } = options;
  if (ttlMs !== undefined && expiresAt !== undefined) throw new TypeError(`${what}: give ttlMs or expiresAt, not both`);
  if (ttlMs !== undefined) {
    if (typeof ttlMs !== 'number' || !(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new TypeError(`${what}: ttlMs must be a positive number`);
    return Date.now() + ttlMs;
  }
  if (expiresAt !== undefined) {
    const at = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt;
    if (typeof at !== 'number' || !Number.isFinite(at) || at <= 0) throw new TypeError(`${what}: expiresAt must be a valid Date or a positive number`);
    return at;
  }
  return undefined;
}

/** Entries per scan round trip. */
export const SCAN_PAGE_ENTRIES = 512;

interface PendingWrite {
  ops: ValueOp[];
  resolve: (seq: number) => void;
  reject: (error: unknown) => void;
}

/**
 * An open store. Get one from `openStore`. The same API works in every tab: one tab's worker
 * leads (owns the files), the others forward to it; {@link Store.role} says which this is, and
 * a `rolechange` event fires when it changes. With `persist: true` at open, a `persist` event
 * (a `CustomEvent` with `detail.persisted`) brings the browser's answer when it comes.
 */
export class Store extends EventTarget {
  readonly #remote: Remote<EngineApi>;
  #role: TabRole = 'follower';
  readonly #onClose: () => void;
  #pending: PendingWrite[] = [];
  readonly #onAck: ((ops: ValueOp[], seq: number) => void) | undefined;
  #closed = false;

  /** Named checkpoint states of this store's consumers, in IndexedDB. */
  readonly checkpoints: Checkpoints;

  /** @internal Use `openStore`. */
  constructor(
    /** The store's name. */
    readonly name: string,
    /** How writes are acknowledged. */
    readonly durability: Durability,
    remote: Remote<EngineApi>,
    onClose: () => void,
    maxCheckpointsPerStream?: number,
    onAck?: (ops: ValueOp[], seq: number) => void,
  ) {
    super();
    this.#onAck = onAck;
    this.#remote = remote;
    this.#onClose = onClose;
    this.checkpoints = new Checkpoints(name, maxCheckpointsPerStream);
  }

  /** `'leader'` when this tab's worker owns the files, `'follower'` when it forwards to the leader. */
  get role(): TabRole {
    return this.#role;
  }

  /** @internal The worker reported its role. */
  _setRole(role: TabRole): void {
    if (role === this.#role) return;
    this.#role = role;
    this.dispatchEvent(new Event('rolechange'));
  }

  /**
   * Store `value` under `key` and resolve once the record is durable (by the leader, when this
   * tab is a follower). With `ttlMs` or
   * `expiresAt` the key is invisible from that moment and dropped at the next compaction or open.
   *
   * @returns The record's sequence number.
   * @throws TypeError for a bad key or a value that cannot be written as bytes (nothing is
   *   written); the promise rejects with a TypeError for a value over 64 MiB encoded.
   * @throws {@link StoreError} `STORE_QUOTA_EXCEEDED`, `STORE_IO_ERROR`, `STORE_CLOSED`.
   */
  put(key: string, value: unknown, options?: ExpiryOptions): Promise<number> {
    assertKey(key);
    assertStorable(value);
    const expiresAt = expiryOf(options, 'put');
    return this.#enqueue([expiresAt ? { type: 'put', key, value, expiresAt } : { type: 'put', key, value }]);
  }

  /**
   * Delete `key` (also when absent: it is still one record) and resolve once durable.
   *
   * @returns The record's sequence number.
   */
  delete(key: string): Promise<number> {
    assertKey(key);
    return this.#enqueue([{ type: 'del', key }]);
  }

  /**
   * Apply puts and deletes atomically, as one record: after any crash, all or none are visible.
   *
   * @returns The batch's single sequence number.
   * @throws TypeError for an empty batch or any bad operation (nothing is written); the promise
   *   rejects with a TypeError when the values total over 128 MiB encoded.
   */
  batch(ops: readonly BatchOp[]): Promise<number> {
    if (!Array.isArray(ops)) throw new TypeError('batch takes an array of operations');
    if (ops.length === 0) throw new TypeError('batch must not be empty');
    const checked = ops.map((op, i): ValueOp => {
      if (typeof op !== 'object' || op === null) throw new TypeError(`batch[${i}] must be an object`);
      assertKey(op.key, `batch[${i}].key`);
      if (op.type === 'del') return { type: 'del', key: op.key };
      if (op.type !== 'put') throw new TypeError(`batch[${i}].type must be 'put' or 'del'`);
      try {
        assertStorable(op.value);
      } catch (error) {
        throw new TypeError(`batch[${i}]: ${(error as Error).message}`);
      }
      const expiresAt = expiryOf(op, `batch[${i}]`);
      return expiresAt ? { type: 'put', key: op.key, value: op.value, expiresAt } : { type: 'put', key: op.key, value: op.value };
    });
    return this.#enqueue(checked);
  }

  /** The value stored under `key`, or undefined. */
  async get(key: string): Promise<unknown> {
    assertKey(key);
    this.#sendPending();
    return this.#call(() => this.#remote.get(key));
  }

  /** The values of `keys` in order (undefined where absent), in one round trip. */
  async getMany(keys: readonly string[]): Promise<unknown[]> {
    if (!Array.isArray(keys)) throw new TypeError('getMany takes an array of keys');
    keys.forEach((key, i) => assertKey(key, `keys[${i}]`));
    this.#sendPending();
    return this.#call(() => this.#remote.getMany([...keys]));
  }

  /**
   * Iterate `[key, value]` pairs in key order (JavaScript string order), or reversed.
   * `prefix` and the bounds intersect; `limit` counts in iteration order. Fetched in pages.
   */
  async *scan(range: ScanRange = {}): AsyncGenerator<[string, unknown]> {
    assertScanRange(range);
    this.#sendPending();
    let remaining = range.limit ?? Number.POSITIVE_INFINITY;
    let cursor: ScanRange = { ...range };
    while (remaining > 0) {
      const request: ScanRange = { ...cursor, limit: Math.min(remaining, SCAN_PAGE_ENTRIES) };
      const { entries } = await this.#call(() => this.#remote.scan(request, SCAN_PAGE_ENTRIES));
      for (const [key, value] of entries) yield [key, value];
      remaining -= entries.length;
      const last = entries[entries.length - 1];
      if (!last || entries.length < Math.min(remaining + entries.length, SCAN_PAGE_ENTRIES)) return;
      // Continue after the last key seen; the other bounds stay.
      cursor = range.reverse ? { ...cursor, lt: last[0], lte: undefined } : { ...cursor, gt: last[0], gte: undefined };
    }
  }

  /**
   * The entries of `range` — each `[key, value, writtenSeq]`, the seq that wrote the value — and
   * the seq whose state they are, read in one round trip: the result holds exactly the records
   * up to `seq`, so `watch({ since: seq })` continues it with no change missed or doubled (what
   * `walden/react` keeps its live results with). For ranges that fit in memory; stream large
   * ones with {@link Store.scan}.
   */
  async scanAt(range: ScanRange = {}): Promise<{ entries: [key: string, value: unknown, writtenSeq: number][]; seq: number }> {
    assertScanRange(range);
    this.#sendPending();
    const page = await this.#call(() => this.#remote.scan({ ...range }, range.limit ?? Number.MAX_SAFE_INTEGER));
    return { entries: page.entries, seq: page.seq };
  }

  /**
   * Committed records in seq order, with no gap and no duplicate: those after `since` (default:
   * from this call on), then live ones. A batch is one change; `prefix`/`gte`/`lt` filter the ops
   * and records with none are skipped. If the history after `since` is gone, a `reset` comes
   * first, then the full state at its seq as one change per key. Leaving the loop unsubscribes;
   * a consumer that stops reading holds at most one page.
   */
  watch(options: WatchOptions = {}): AsyncGenerator<Change> {
    const range = watchRange(options);
    this.#sendPending();
    const start = options.since ?? this.info().then((info) => info.seq);
    return publicFeed(feed(this.#remote, start, range, () => this.#closed));
  }

  /**
   * Run `handler` over this store's changes from the latest checkpoint of `stream`, checkpointing
   * every `every` changes or `everyMs` ms (with `snapshot()`'s state), so that after a reload or a
   * crash it resumes with each change handled once on top of the restored state.
   */
  consume(stream: string, handler: (change: Change) => void | Promise<void>, options: ConsumeOptions = {}): Consumer {
    if (typeof stream !== 'string' || stream.length === 0) throw new TypeError('consume needs a stream name');
    const range = watchRange(options);
    return runConsumer(stream, handler, options, this.checkpoints, (since, isStopped) => feed(this.#remote, since, range, () => this.#closed, isStopped), async () => {
      if (!this.#closed) await this.#remote.wake();
    });
  }

  /**
   * Export the store as one verified artifact (a tar: the snapshot, the checkpoints, and last a
   * manifest with every file's size and SHA-256), as a stream read at the reader's pace.
   * Writes made before the call are in it; writes go on meanwhile.
   */
  exportStream(): ReadableStream<Uint8Array> {
    return this.#exportArtifact().stream;
  }

  /** {@link Store.exportStream} as a Blob. */
  async export(): Promise<Blob> {
    return (await this.exportWithManifest()).blob;
  }

  /** @internal The artifact and its manifest (for uploads that store the manifest beside it). */
  async exportWithManifest(): Promise<{ blob: Blob; manifest: ExportManifest }> {
    const { stream, manifest } = this.#exportArtifact();
    const blob = await new Response(stream).blob();
    return { blob, manifest: await manifest };
  }

  #exportArtifact(): { stream: ReadableStream<Uint8Array>; manifest: Promise<ExportManifest> } {
    if (this.#closed) throw closedError(this.name);
    this.#sendPending();
    let resolve!: (m: ExportManifest) => void;
    const manifest = new Promise<ExportManifest>((r) => (resolve = r));
    const remote = this.#remote;
    const { name, checkpoints } = this;
    // The export code (tar, SHA-256) loads only when a page exports: it stays out of the page entry.
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const [{ artifactChunks }, begin] = await Promise.all([import('../format/artifact-writer.js'), remote.exportBegin()]);
      const source = { begin, chunk: (view: number, maxBytes: number) => remote.exportChunk(view, maxBytes) };
      const allCheckpoints = async () => (await Promise.all((await checkpoints.streams()).map((stream) => checkpoints.list(stream)))).flat();
      yield* artifactChunks(source, name, allCheckpoints, resolve);
    }
    return { stream: streamOf(chunks()), manifest };
  }

  /**
   * Sync this store with a NATS JetStream stream (README, "Sync across devices"): local writes
   * are published, other devices' writes applied, per key the later one in the stream wins.
   * The sync runs in the leader tab's worker, and moves with leadership. Credentials are kept
   * in memory only.
   *
   * @throws TypeError for bad options; {@link StoreError} `STORE_SYNC_AUTH` when the server refuses the credentials.
   */
  async sync(options: SyncOptions): Promise<Sync> {
    this.#sendPending();
    if (typeof options !== 'object' || options === null) throw new TypeError('sync options must be an object');
    const { startSync } = await import('./sync.js');
    return this.#call(() => startSync(this.#remote, { ...options }));
  }

  /** Write a snapshot now (writes continue meanwhile) and retire what it makes redundant. */
  compact(): Promise<void> {
    this.#sendPending();
    return this.#call(() => this.#remote.compact());
  }

  /**
   * The store's counters, the last recovery report, whether the origin's storage is persistent,
   * and `navigator.storage.estimate()`.
   */
  async info(): Promise<StoreInfo & { persisted: boolean | undefined; storage: { usage: number | undefined; quota: number | undefined } }> {
    this.#sendPending();
    const [info, estimate, persisted] = await Promise.all([
      this.#call(() => this.#remote.info()),
      globalThis.navigator?.storage?.estimate?.().catch(() => undefined),
      // `persisted()` answers at once, without a prompt (only `persist()` may wait for a person).
      globalThis.navigator?.storage?.persisted?.().catch(() => undefined),
    ]);
    return { ...info, persisted, storage: { usage: estimate?.usage, quota: estimate?.quota } };
  }

  /** Wait for pending writes, release the files and the lock, and stop the worker (if Walden started it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#sendPending();
    this.#closed = true;
    try {
      await this.#remote.close();
    } finally {
      await this.checkpoints.close();
      this.#onClose();
    }
  }

  #enqueue(ops: ValueOp[]): Promise<number> {
    if (this.#closed) return Promise.reject(closedError(this.name));
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) queueMicrotask(() => this.#sendPending());
      this.#pending.push({ ops, resolve, reject });
    });
  }

  /** Send the writes of this tick as one commit group (before any read, so reads see them). */
  #sendPending(): void {
    if (this.#pending.length === 0) return;
    const group = this.#pending;
    this.#pending = [];
    // The values travel by structured clone; the worker encodes them (and reads Blobs).
    this.#remote.commit(group.map((w) => w.ops)).then(
      (outcomes: CommitOutcome[]) =>
        group.forEach((w, i) => {
          const outcome = outcomes[i]!;
          if (typeof outcome !== 'number') return w.reject(new TypeError(outcome.refused));
          this.#onAck?.(w.ops, outcome);
          w.resolve(outcome);
        }),
      (error: unknown) => group.forEach((w) => w.reject(error)),
    );
  }

  #call<T>(call: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(closedError(this.name));
    return call();
  }
}
