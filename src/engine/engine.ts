/**
 * The storage engine: group commit into the WAL, point reads and ordered scans through the
 * in-memory index, and compaction into snapshots. Pure TypeScript over {@link Directory} and
 * {@link Catalog}; no DOM, OPFS or IndexedDB types.
 */
import { closedError, StoreError, toStoreError } from '../errors.js';
import { crc32c } from '../format/crc32c.js';
import { encodeRecords, type EncodedValue } from '../format/wal.js';
import { FencedOut } from './fence.js';
import { keyInRange } from '../keys.js';
import type { ChangePage, CompactionPoint, Durability, EncodedChange, EncodedOp, RecoveryReport, RequestTag, ResetPage, ScanPage, ScanRange, StoreInfo } from '../protocol.js';
import type { SnapshotEncoder } from '../format/snapshot.js';
import { readAt, type Catalog, type Directory } from './ports.js';
import type { Source, ValueLocation } from './location.js';
import { snapshotName } from '../format/names.js';
import { iterateRange } from './range.js';
import { appliedSeqs, encodeLedger, LEDGER_TTL_MS, ledgerKey, readLedger, recordRequest, type LedgerRow } from './ledger.js';
import { readRecords } from './history.js';
import { repoint, SCAN_RUN_BYTES, writeSnapshot, type SnapshotSource } from './snapshot-writer.js';
import { recover, type OpenSnapshot } from './recovery.js';
import { scrubSnapshot } from './snapshot-check.js';
import { closeQuietly, FrozenViews, type ViewReader } from './views.js';
import { retireBefore } from './retention.js';
import type { KeyIndex } from './keyindex.js';
import type { BTree } from './btree.js';
import { createSegment, openDormantSegment, type DormantSegment, type Segment } from './segment.js';

/**
 * Automatic compaction, by default: once about this many bytes of the log since the last
 * snapshot are dead (overwritten or deleted values: space a snapshot would give back).
 */
export const DEFAULT_COMPACT_THRESHOLD_BYTES = 32 * 1024 * 1024;
/** …or once this many operations were logged since the last snapshot (what an open replays). */
export const COMPACT_AFTER_OPS = 250_000;
/** …or once the log since the last snapshot is this large, however live it is. */
export const COMPACT_MAX_LOG_BYTES = 128 * 1024 * 1024;
/** In relaxed mode, the longest a written record waits for its `flush()`. */
export const RELAXED_FLUSH_DELAY_MS = 50;
/** WAL segments grow in steps of this size (zero-filled), which makes flushes cheaper. */
export const DEFAULT_PREALLOCATE_BYTES = 1024 * 1024;
/**
 * Building the B-tree after an open hands the thread back to calls after this long: the first
 * ones come right after the open, and a call that arrives during a slice waits for its end (with
 * 2 ms slices, the first get after a reload waited 2.5–3 ms of its 4).
 */
const BUILD_SLICE_MS = 0.5;
/** Snapshot writing hands the thread back to incoming calls after this long. */
export const COMPACTION_SLICE_MS = 8;
/** Default bytes of WAL history kept for change feeds beyond the previous generation. */
export const DEFAULT_HISTORY_BYTES = 64 * 1024 * 1024;
/** `close({ compact: true })` compacts a log of at least this many bytes since the last snapshot. */
export const CLOSE_COMPACT_MIN_BYTES = 1024 * 1024;
/** …skipping at most this many bytes between two values (a log record's op headers). */
export const SCAN_RUN_GAP_BYTES = 256;


/** How an {@link Engine} behaves; everything but durability has a default. */
export interface EngineOptions {
  durability: Durability;
  /**
   * Compact automatically once the log since the last snapshot is this many bytes. Unset: the
   * default policy, {@link DEFAULT_COMPACT_THRESHOLD_BYTES} of dead bytes, {@link COMPACT_AFTER_OPS}
   * operations or {@link COMPACT_MAX_LOG_BYTES} of log, whichever comes first.
   */
  compactThresholdBytes?: number;
  /** Bytes of log history kept for `watch({ since })` beyond what recovery needs (default 64 MiB). */
  historyBytes?: number;
  preallocateBytes?: number;
  relaxedFlushDelayMs?: number;
  /** Length of one compaction time slice (default {@link COMPACTION_SLICE_MS}); 0 yields after every key. */
  sliceMs?: number;
  /** Let other work run; compaction calls it between time slices. Defaults to a macrotask. */
  yieldToEvents?: () => Promise<void>;
  /** The clock for expiry, in ms since the epoch (default `Date.now`). */
  now?: () => number;
  /** Free bytes of storage left, if the platform can tell; compaction checks it before starting. */
  headroom?: () => Promise<number | undefined>;
  /** Test-only: called between compaction steps; throwing stops the compaction where it is, as a crash would. */
  atCompactionPoint?: (point: CompactionPoint) => void;
  /** Called with errors of automatic compactions and of the checks after open (they have no caller to reject). */
  onBackgroundError?: (error: unknown) => void;
  /**
   * Called when the snapshot the store opened from fails its whole-file checksum, checked after
   * the open. Its catalog row is dropped first, so opening again recovers from the previous
   * generation; the host reopens.
   */
  onSnapshotDamaged?: (error: StoreError, damage: { file: string; reason: string }) => void;
  /**
   * Throws (a {@link FencedOut}) once a newer leader owns the files. Called after every flush
   * and before anything is acknowledged, and before each compaction step that changes files or
   * the catalog; after it throws, this engine writes nothing more.
   */
  fence?: () => void;
  /**
   * Open as a leader that took over from one that may still be running (its lock was stolen):
   * the log continues in a new segment named with this epoch, so that nothing the old leader
   * still writes lands where this one writes (recovery ignores what it wrote after the seal).
   */
  takeoverEpoch?: number;
  /** Test-only: called in each commit just before its `write()` and just after its flush (before the fence). */
  testingPause?: (point: 'before-write' | 'after-write') => void;
}

/** Records written (and in strict mode flushed) but not yet visible: what {@link Engine} publishes once durable. */
interface Appended {
  writes: readonly (readonly EncodedOp[])[];
  first: number;
  segment: Segment;
  at: number;
  values: EncodedValue[];
}

/** Options with no default value: hooks, and the policy switches whose absence means the default policy. */
type NoDefault = 'onBackgroundError' | 'onSnapshotDamaged' | 'headroom' | 'atCompactionPoint' | 'fence' | 'takeoverEpoch' | 'testingPause' | 'compactThresholdBytes';

let yieldChannel: MessageChannel | undefined;
const yielded: (() => void)[] = [];

/** A port as Node's `worker_threads` has it (`ref`/`unref`; browsers have neither). */
function nodePort(port: MessagePort): { ref?: () => void; unref?: () => void } {
  return port as unknown as { ref?: () => void; unref?: () => void };
}

/**
 * Let other work run, then go on: a task posted through a MessageChannel. A nested
 * `setTimeout(0)` would do too, but browsers clamp it to 4 ms, which left a third of a
 * compaction's time idle between its 8 ms slices.
 */
function macrotask(): Promise<void> {
  if (typeof MessageChannel !== 'function') return new Promise((resolve) => setTimeout(resolve, 0));
  // In Node, a port keeps the process alive while it is ref'd: only while work waits on it, so an
  // idle store lets the process exit and a compaction in `close()` is not cut off by that exit.
  if (!yieldChannel) {
    yieldChannel = new MessageChannel();
    yieldChannel.port1.onmessage = () => {
      yielded.shift()?.();
      if (yielded.length === 0) nodePort(yieldChannel!.port1).unref?.();
    };
  }
  return new Promise((resolve) => {
    if (yielded.length === 0) nodePort(yieldChannel!.port1).ref?.();
    yielded.push(resolve);
    yieldChannel!.port2.postMessage(null);
  });
}

/** The engine of one open store. Create it with {@link Engine.open}. */
export class Engine {
  readonly #dir: Directory;
  readonly #catalog: Catalog;
  readonly #store: string;
  readonly #options: Required<Omit<EngineOptions, NoDefault>> & Pick<EngineOptions, NoDefault>;
  /** The last seq known to be flushed (equal to `#seq` in strict mode). */
  #durableSeq = 0;
  #index: KeyIndex;
  #seq: number;
  #base: OpenSnapshot | undefined;
  #segments: Segment[];
  /** Older segments kept on disk but not opened yet (opened when history is read). */
  #dormant: DormantSegment[];
  /** Called after every commit: change-feed readers waiting for new records. */
  readonly #waiters = new Set<() => void>();
  /** Called with the records of every commit ({@link Engine.onCommit}). */
  readonly #commitListeners = new Set<(records: EncodedChange[]) => void>();
  /** Frozen views handed to change-feed readers that were reset, and to exports; they pin the files they use. */
  readonly #views = new FrozenViews();
  /** The request ledger's rows as last written or read, per ledger key, with the seq of the record that holds them (see {@link Engine.#ledgerRows}). */
  readonly #ledgerRowsBySeq = new Map<string, { seq: number; rows: readonly LedgerRow[] }>();
  /** How views read values. */
  readonly #viewReader: ViewReader = { read: (location, key) => this.#read(location, key), expired: (location, now) => this.#expired(location, now) };
  readonly #report: RecoveryReport;
  readonly #openMs: number;
  #closed = false;
  #broken: StoreError | undefined;
  #barrier: Promise<void> | undefined;
  #compaction: Promise<void> | undefined;
  /** Operations logged since the base snapshot was taken at open, counting the replayed ones (for the compaction policy). */
  #opsLogged = 0;
  /** {@link #opsLogged} and the number of keys when the base snapshot was frozen. */
  #snapshotMark: { ops: number; keys: number };
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #dirty = false;

  private constructor(dir: Directory, catalog: Catalog, store: string, options: EngineOptions, state: Awaited<ReturnType<typeof recover>>, openMs: number) {
    this.#dir = dir;
    this.#catalog = catalog;
    this.#store = store;
    this.#options = {
      historyBytes: DEFAULT_HISTORY_BYTES,
      preallocateBytes: DEFAULT_PREALLOCATE_BYTES,
      relaxedFlushDelayMs: RELAXED_FLUSH_DELAY_MS,
      sliceMs: COMPACTION_SLICE_MS,
      now: Date.now,
      yieldToEvents: macrotask,
      ...options,
    };
    this.#index = state.index;
    this.#seq = state.seq;
    this.#base = state.base;
    this.#segments = state.segments;
    this.#dormant = state.dormant;
    this.#report = state.report;
    this.#openMs = openMs;
    this.#durableSeq = state.seq;
    this.#opsLogged = state.sinceBase.ops;
    this.#snapshotMark = { ops: 0, keys: state.sinceBase.keysAtBase };
  }

  /**
   * Recover the store from `dir` and `catalog`, and get it ready for writes.
   *
   * @throws {@link StoreError} `STORE_CORRUPTION` or `STORE_UNSUPPORTED` from recovery.
   */
  static async open(dir: Directory, catalog: Catalog, store: string, options: EngineOptions): Promise<Engine> {
    const started = performance.now();
    // Read while recovery plans: only its clean-up needs it.
    const floor = catalog.checkpointFloor(store);
    floor.catch(() => {});
    const state = await recover(dir, catalog, store, { keepFromSeq: async (previous) => Math.min(previous, (await floor) ?? previous), now: (options.now ?? Date.now)() });
    const last = state.segments[state.segments.length - 1];
    if (options.takeoverEpoch !== undefined) state.segments.push(await createSegment(dir, state.seq + 1, options.takeoverEpoch));
    else if (!last) state.segments.push(await createSegment(dir, state.seq + 1));
    const engine = new Engine(dir, catalog, store, options, state, performance.now() - started);
    engine.#checkAfterOpen(state.unverifiedFileCrc);
    return engine;
  }

  /** Promise of the work that follows an open (building the B-tree, checking the snapshot); settles, never rejects. */
  afterOpen: Promise<void> = Promise.resolve();

  /**
   * After the open has answered: build the B-tree in time slices, then check the base snapshot's
   * whole-file checksum (reads were safe meanwhile: every value is checked against its own CRC).
   */
  #checkAfterOpen(fileCrc: number | undefined): void {
    const base = this.#base;
    const { sliceMs, yieldToEvents } = this.#options;
    this.afterOpen = (async () => {
      await yieldToEvents();
      await this.#index.buildInBackground(Math.max(0.25, Math.min(sliceMs, BUILD_SLICE_MS)), yieldToEvents, () => this.#closed);
      if (!base || fileCrc === undefined) return;
      const intact = await scrubSnapshot(base.file, fileCrc, yieldToEvents, () => this.#closed || this.#base !== base);
      if (intact === false) await this.#snapshotDamaged(base);
    })().catch((error: unknown) => {
      // Closed meanwhile: the files went away under the check, which has nothing to report.
      if (!this.#closed) this.#options.onBackgroundError?.(error);
    });
  }

  /** The base snapshot failed its whole-file check: drop its catalog row so a reopen falls back a generation. */
  async #snapshotDamaged(base: OpenSnapshot): Promise<void> {
    const row = (await this.#catalog.list(this.#store)).find((r) => r.file === base.name);
    if (row) await this.#catalog.delete(this.#store, row.seq);
    const damage = { file: base.name, reason: 'file fails its checksum (found after the open)' };
    this.#report.damagedFiles.push(damage);
    const error = new StoreError('STORE_CORRUPTION', `${base.name} fails its whole-file checksum; its catalog row was dropped, and opening the store again recovers from the previous generation`);
    if (this.#options.onSnapshotDamaged) this.#options.onSnapshotDamaged(error, damage);
    else this.#options.onBackgroundError?.(error);
  }

  /**
   * Append one record per element of `writes` with one `write()` and (strict) one `flush()`.
   *
   * With a `request` tag (a commit forwarded by another tab), a request the ledger already holds
   * is not applied again: its original seqs are returned. See `ledger.ts`.
   *
   * @returns The seqs, in order, once durable as the store's durability defines.
   * @throws {@link StoreError} `STORE_QUOTA_EXCEEDED` or `STORE_IO_ERROR`; nothing is committed then.
   */
  async commit(writes: readonly (readonly EncodedOp[])[], request?: RequestTag): Promise<number[]> {
    while (this.#barrier) await this.#barrier;
    return this.#commitNow(request ? this.#withLedger(writes, request) : writes, request);
  }

  /**
   * Where the directory makes flushes durable later (IndexedDB): hold every other commit and
   * the compaction's freeze until this one's flush is durable, then publish it; a failed flush
   * undoes the append, as a failed `flush()` does.
   */
  async #commitSettled(appended: Appended): Promise<number[]> {
    let release!: () => void;
    this.#barrier = new Promise((resolve) => (release = resolve));
    try {
      await this.#dir.settled!();
    } catch (error) {
      this.#rollback(appended.segment, appended.at, error);
      if (error instanceof FencedOut) {
        this.#broken = error as unknown as StoreError;
        throw error;
      }
      throw toStoreError(error, 'commit');
    } finally {
      this.#barrier = undefined;
      release();
    }
    return this.#publish(appended);
  }

  /**
   * Commit what `compute` returns, computing it at the moment of the commit: no other commit
   * comes between what `compute` saw (the index, the {@link Engine.onCommit} listeners' state)
   * and its records. Sync applies remote records with it, so a local write made meanwhile is
   * never overwritten by an older remote one.
   */
  async commitComputed(compute: () => readonly (readonly EncodedOp[])[]): Promise<number[]> {
    while (this.#barrier) await this.#barrier;
    return this.#commitNow(compute());
  }

  /**
   * Call `listener` with the records of every commit, synchronously, once they are committed
   * and before the next commit (Walden's reserved entries included). Returns the unsubscribe.
   */
  onCommit(listener: (records: EncodedChange[]) => void): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  /** `writes` with the ledger entry for `request` added to the last record, or the seqs of its earlier application. */
  #withLedger(writes: readonly (readonly EncodedOp[])[], request: RequestTag): readonly (readonly EncodedOp[])[] | number[] {
    if (writes.length === 0) return writes;
    const key = ledgerKey(request.client);
    const location = this.#index.get(key);
    const rows = location && !this.#expired(location) ? this.#ledgerRows(key, location) : [];
    const seqs = appliedSeqs(rows, request.n);
    if (seqs) return seqs;
    const next = recordRequest(rows, request.n, this.#seq + 1, writes.length);
    // The entry goes into the last record: its seq says which rows the index holds once it is published.
    this.#ledgerRowsBySeq.set(key, { seq: this.#seq + writes.length, rows: next });
    const entry: EncodedOp = { type: 'put', key, value: encodeLedger(next), expiresAt: this.#options.now() + LEDGER_TTL_MS };
    return [...writes.slice(0, -1), [...writes[writes.length - 1]!, entry]];
  }

  /**
   * The rows of the ledger entry at `location`: from memory when this engine wrote them (or read
   * them) at the seq the index holds, else read and decoded. One record writes a key once, so
   * the seq names the value; rows kept for a commit that failed name a seq the index never gets.
   */
  #ledgerRows(key: string, location: ValueLocation): readonly LedgerRow[] {
    const known = this.#ledgerRowsBySeq.get(key);
    if (known?.seq === location.seq) return known.rows;
    const rows = readLedger(this.#read(location, key));
    this.#ledgerRowsBySeq.set(key, { seq: location.seq, rows });
    return rows;
  }

  /** Append and publish `prepared` (with a settle between them where flushes are durable later). */
  #commitNow(prepared: readonly (readonly EncodedOp[])[] | number[], request?: RequestTag): number[] | Promise<number[]> {
    const appended = this.#append(prepared, request);
    if (Array.isArray(appended)) return appended;
    return this.#dir.settled && this.#options.durability === 'strict' ? this.#commitSettled(appended) : this.#publish(appended);
  }

  /** Write (and in strict mode flush) the records of `prepared`; the seqs of an earlier application of `request` instead. */
  #append(prepared: readonly (readonly EncodedOp[])[] | number[], request?: RequestTag): Appended | number[] {
    this.#checkWritable();
    if (request && prepared.length > 0 && typeof prepared[0] === 'number') return prepared as number[];
    const writes = prepared as readonly (readonly EncodedOp[])[];
    if (writes.length === 0) return [];
    const first = this.#seq + 1;
    const { bytes, values, recordOffsets } = encodeRecords(writes.map((ops, i) => ({ seq: first + i, ops })));
    const segment = this.#current();
    const at = segment.end;
    try {
      this.#options.testingPause?.('before-write');
      segment.append(bytes, this.#options.preallocateBytes, recordOffsets);
      // Strict: the callers are resolved only after this flush returns.
      if (this.#options.durability === 'strict') segment.file.flush();
      else this.#scheduleFlush();
    } catch (error) {
      this.#rollback(segment, at, error);
      throw toStoreError(error, 'commit');
    }
    return { writes, first, segment, at, values };
  }

  /** Make appended records visible: fence check, index, listeners, waiters; returns their seqs. */
  #publish({ writes, first, segment, at, values }: Appended): number[] {
    if (this.#options.durability === 'strict') this.#durableSeq = first + writes.length - 1;
    this.#options.testingPause?.('after-write');
    // - Before anything is acknowledged: a newer leader may own the files now (this thread was
    //   frozen). Then these records sit past the seal of a segment it no longer reads: they are
    //   not acknowledged, not indexed, and the callers' requests go to the new leader.
    this.#fence();
    // The record is durable; only now may readers see it.
    let v = 0;
    for (const ops of writes) {
      this.#opsLogged += ops.length;
      for (const op of ops) {
        const value = values[v++]!;
        if (op.type === 'put') {
          this.#index.set(op.key, { source: segment, offset: at + value.offset, length: value.length, crc: value.crc, seq: value.seq, expiresAt: op.expiresAt ?? 0 });
        } else {
          this.#index.delete(op.key);
        }
      }
    }
    this.#seq += writes.length;
    if (this.#commitListeners.size > 0) {
      const records = writes.map((ops, i) => ({ seq: first + i, ops: [...ops] }));
      for (const listener of this.#commitListeners) {
        try {
          listener(records);
        } catch (error) {
          // The records are committed: a listener's failure is its own.
          this.#options.onBackgroundError?.(error);
        }
      }
    }
    this.#wakeWaiters();
    this.#maybeCompact();
    return writes.map((_, i) => first + i);
  }

  #rollback(segment: Segment, at: number, cause: unknown): void {
    try {
      segment.rollback(at);
    } catch (error) {
      // The file may now hold a partial record we cannot remove: refuse writes until reopened.
      this.#broken = new StoreError('STORE_IO_ERROR', `could not undo a failed write (${(error as Error).message}); reopen the store`, { cause });
    }
  }

  /** The encoded value of `key`, or undefined. @throws {@link StoreError} `STORE_CORRUPTION` when it fails its checksum. */
  get(key: string): Uint8Array | undefined {
    this.#checkOpen();
    const location = this.#index.get(key);
    return location && !this.#expired(location) ? this.#read(location, key) : undefined;
  }

  #expired(location: ValueLocation, now = this.#options.now()): boolean {
    return location.expiresAt !== 0 && location.expiresAt <= now;
  }

  /** Encoded values of `keys`, in order. */
  getMany(keys: readonly string[]): (Uint8Array | undefined)[] {
    return keys.map((key) => this.get(key));
  }

  /** Up to `pageSize` entries of `range`, with values (neighbours in a file are read with one `read()`). */
  scan(range: ScanRange, pageSize: number): ScanPage {
    this.#checkOpen();
    const max = Math.min(pageSize, range.limit ?? Number.POSITIVE_INFINITY);
    const now = this.#options.now();
    if (max <= 0) return { entries: [], seq: this.#seq };
    const keys: string[] = [];
    const locations: ValueLocation[] = [];
    for (const [key, location] of iterateRange(this.#index.tree(), range, Number.POSITIVE_INFINITY)) {
      if (this.#expired(location, now)) continue;
      keys.push(key);
      locations.push(location);
      if (keys.length >= max) break;
    }
    // A reverse scan meets a snapshot's values in descending order: find the runs ascending.
    if (range.reverse) (keys.reverse(), locations.reverse());
    const values = this.#readRuns(keys, locations);
    const entries = keys.map((key, i): [string, Uint8Array, number] => [key, values[i]!, locations[i]!.seq]);
    return { entries: range.reverse ? entries.reverse() : entries, seq: this.#seq };
  }

  /**
   * The values at `locations`, each checked against its CRC. Values that lie in order in one
   * file with at most {@link SCAN_RUN_GAP_BYTES} between them (a snapshot's neighbours, or the
   * puts of one batch in the log) are read with one `read()` into one buffer, up to
   * {@link SCAN_RUN_BYTES}; each value is a view into it.
   */
  #readRuns(keys: readonly string[], locations: readonly ValueLocation[]): Uint8Array[] {
    const values: Uint8Array[] = [];
    for (let i = 0; i < locations.length; ) {
      const first = locations[i]!;
      let end = first.offset + first.length;
      let j = i + 1;
      for (; j < locations.length; j++) {
        const next = locations[j]!;
        if (next.source !== first.source || next.offset < end || next.offset - end > SCAN_RUN_GAP_BYTES || next.offset + next.length - first.offset > SCAN_RUN_BYTES) break;
        end = next.offset + next.length;
      }
      if (j === i + 1) values.push(this.#read(first, keys[i]!));
      else {
        const run = readAt(first.source.file, first.offset, end - first.offset);
        for (let k = i; k < j; k++) {
          const location = locations[k]!;
          const start = location.offset - first.offset;
          values.push(this.#checked(location, keys[k]!, run.subarray(start, Math.min(start + location.length, run.byteLength))));
        }
      }
      i = j;
    }
    return values;
  }

  #read(location: ValueLocation, key: string): Uint8Array {
    return this.#checked(location, key, readAt(location.source.file, location.offset, location.length));
  }

  /** `bytes`, read for `location`, if whole and matching its CRC; else `STORE_CORRUPTION`. */
  #checked(location: ValueLocation, key: string, bytes: Uint8Array): Uint8Array {
    if (bytes.byteLength !== location.length || crc32c(bytes) !== location.crc) {
      throw new StoreError('STORE_CORRUPTION', `${location.source.name} at offset ${location.offset}: the value of ${JSON.stringify(key)} fails its checksum`);
    }
    return bytes;
  }

  /** Counters and the recovery report. */
  info(): StoreInfo {
    this.#checkOpen();
    return {
      seq: this.#seq,
      durableSeq: this.#durableSeq,
      keys: this.#index.size - this.#index.reservedCount(),
      walBytes: this.#segments.reduce((sum, s) => sum + s.end, 0),
      snapshotSeq: this.#base?.seq ?? 0,
      durability: this.#options.durability,
      ...(this.#dir.backend ? { backend: this.#dir.backend } : {}),
      recovery: structuredClone(this.#report),
      openMs: this.#openMs,
    };
  }

  /**
   * Write a snapshot of the current state and retire the generation before the previous one.
   * Writes go on meanwhile; concurrent calls share one compaction.
   */
  compact(): Promise<void> {
    this.#checkWritable();
    const running = this.#compaction;
    // A compaction already running may have frozen the index before this call's writes: the
    // caller is promised a snapshot of everything committed so far, so queue one after it.
    const next = (running ? running.catch(() => {}) : Promise.resolve()).then(() => this.#compact()).catch((error: unknown) => {
      throw toStoreError(error, 'compaction');
    });
    const tracked = next.finally(() => {
      if (this.#compaction === tracked) this.#compaction = undefined;
    });
    this.#compaction = tracked;
    return tracked;
  }

  #maybeCompact(): void {
    if (this.#compaction || !this.#compactionDue()) return;
    this.compact().catch((error: unknown) => this.#options.onBackgroundError?.(error));
  }

  /**
   * Whether the log since the last snapshot asks for a compaction: with `compactThresholdBytes`
   * set, by its size; by default, by what a snapshot would buy — space (dead bytes), open time
   * (operations to replay) — with a cap on its size. A log of unique keys is as small as its
   * snapshot would be and replays as fast, so it is not copied for nothing.
   */
  #compactionDue(): boolean {
    const logBytes = this.#logBytesSinceSnapshot();
    if (this.#options.compactThresholdBytes !== undefined) return logBytes >= this.#options.compactThresholdBytes;
    const ops = this.#opsLogged - this.#snapshotMark.ops;
    if (ops >= COMPACT_AFTER_OPS || logBytes >= COMPACT_MAX_LOG_BYTES) return true;
    // Each op that did not add a key overwrote or deleted one: its share of the log is dead.
    const added = Math.max(0, this.#index.size - this.#snapshotMark.keys);
    const deadShare = ops > 0 ? Math.max(0, ops - added) / ops : 0;
    return logBytes * deadShare >= DEFAULT_COMPACT_THRESHOLD_BYTES;
  }

  #logBytesSinceSnapshot(): number {
    const since = this.#base?.seq ?? 0;
    return this.#segments.filter((s) => s.firstSeq > since).reduce((sum, s) => sum + s.end, 0);
  }

  async #compact(): Promise<void> {
    if (this.#closed || this.#seq === (this.#base?.seq ?? 0)) return;
    this.#checkWritable();
    this.#fence();
    // The new snapshot is at most the old one plus every value logged since: check there is room.
    const needed = (this.#base?.file.getSize() ?? 0) + this.#logBytesSinceSnapshot();
    const available = this.#options.headroom ? await this.#options.headroom() : undefined;
    if (available !== undefined && available < needed) {
      throw new StoreError('STORE_QUOTA_EXCEEDED', `compaction needs up to ${needed} bytes of free storage, and ${available} are left`);
    }
    // A commit waiting for its flush to be durable (IndexedDB) holds the barrier: let it finish.
    while (this.#barrier) await this.#barrier;
    // No await from here to the freeze: `seq` must be the last commit when the segment turns.
    const seq = this.#seq;
    if (this.#closed || seq === (this.#base?.seq ?? 0)) return;
    // 1. Freeze the index at `seq` and start a new segment at seq + 1; writes continue there.
    let releaseBarrier!: () => void;
    this.#barrier = new Promise((resolve) => (releaseBarrier = resolve));
    let frozen: BTree<string, ValueLocation>;
    const mark = { ops: this.#opsLogged, keys: this.#index.size };
    try {
      const previous = this.#current();
      previous.file.flush();
      this.#dirty = false;
      this.#durableSeq = this.#seq;
      // An interrupted compaction may already have started the segment at seq + 1: reuse it.
      if (previous.firstSeq !== seq + 1) this.#segments.push(await createSegment(this.#dir, seq + 1));
      frozen = this.#index.tree().clone();
    } finally {
      this.#barrier = undefined;
      releaseBarrier();
    }
    this.#options.atCompactionPoint?.('rotated');
    // 2-3. Write snap-<seq>.db from the frozen view in time slices, then flush it.
    const name = snapshotName(seq);
    const now = this.#options.now();
    const file = await this.#dir.open(name, { create: true });
    let encoder: SnapshotEncoder;
    try {
      encoder = await writeSnapshot(file, frozen, seq, now, this.#snapshotSource());
    } catch (error) {
      file.close();
      await this.#dir.remove(name).catch(() => {});
      throw toStoreError(error, 'compaction');
    }
    const snapshot: OpenSnapshot = { name, file, seq };
    this.#options.atCompactionPoint?.('snapshot-written');
    // 4. The catalog row is the commit point (a strict IndexedDB transaction in the browser).
    try {
      // The snapshot and the new segment must be durable before the row that points at them.
      await this.#dir.settled?.();
      this.#fence();
      await this.#catalog.put({ store: this.#store, seq, file: name, bytes: encoder.bytes, checksum: encoder.checksum, createdAt: Date.now() });
    } catch (error) {
      file.close();
      await this.#dir.remove(name).catch(() => {});
      throw toStoreError(error, 'compaction: catalog commit');
    }
    this.#options.atCompactionPoint?.('catalog-committed');
    // 5. Point unchanged keys at the snapshot, so older files are no longer read.
    await repoint(frozen, this.#index, snapshot, now, this.#snapshotSource());
    this.#options.atCompactionPoint?.('repointed');
    const previousBase = this.#base;
    this.#base = snapshot;
    this.#snapshotMark = mark;
    // The older segments stay open: they are the change feed's history until retired.
    if (previousBase) this.#views.closeWhenUnpinned(previousBase.file);
    // 6. Retire one generation late: keep the previous snapshot and the log since it.
    this.#fence();
    if (this.#views.size === 0) await this.#retire(previousBase?.seq ?? 0);
    this.#options.atCompactionPoint?.('retired');
  }

  #snapshotSource(): SnapshotSource {
    return {
      readRuns: (keys, locations) => this.#readRuns(keys, locations),
      expired: (location, now) => this.#expired(location, now),
      checkOpen: () => this.#checkOpen(),
      sliceMs: this.#options.sliceMs,
      yieldToEvents: this.#options.yieldToEvents,
    };
  }

  /** Retire what no generation needs: catalog rows and snapshots before `previousSeq`, and the log segments below the history floor. */
  async #retire(previousSeq: number): Promise<void> {
    const open = new Map(this.#segments.map((segment) => [segment.name, segment.end]));
    await retireBefore(this.#dir, this.#catalog, this.#store, previousSeq, this.#options.historyBytes, open, (name) => {
      const tracked = this.#segments.findIndex((segment) => segment.name === name);
      if (tracked >= 0) closeQuietly(this.#segments.splice(tracked, 1)[0]!.file);
      this.#dormant = this.#dormant.filter((dormant) => dormant.name !== name);
    });
  }

  /** Make every waiting {@link Engine.readChanges} return now. */
  wake(): void {
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Committed records after `since`, in seq order, with only the ops in `range`; records with no
   * matching op are skipped. Waits up to `waitMs` when there is nothing new yet.
   *
   * @returns `changes` and `next` (the last seq examined: continue from it), or `reset` when the
   *   history after `since` is no longer kept (or `since` is ahead of the store).
   */
  async readChanges(since: number, range: ScanRange, maxRecords: number, waitMs: number): Promise<ChangePage> {
    this.#checkOpen();
    if (since > this.#seq || since < 0) return this.#reset();
    if (since === this.#seq && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#waiters.delete(wake);
          resolve();
        }, waitMs);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.#waiters.add(wake);
      });
      this.#checkOpen();
    }
    if (since === this.#seq) return { kind: 'changes', changes: [], next: since };
    const segment = await this.#segmentHolding(since + 1);
    if (!segment) return this.#reset();
    return { kind: 'changes', ...readRecords(segment, since + 1, Math.min(this.#seq, segment.nextSeq - 1), (key) => keyInRange(key, range), maxRecords) };
  }

  /**
   * Committed records after `since` with every op, Walden's reserved entries included (sync reads
   * its outbox with it); at most `maxRecords`, all from one segment.
   *
   * @returns The records and `next` (continue from it), or undefined when the history after
   *   `since` is no longer kept.
   */
  async readLog(since: number, maxRecords: number): Promise<{ changes: EncodedChange[]; next: number } | undefined> {
    this.#checkOpen();
    if (since > this.#seq || since < 0) return undefined;
    if (since === this.#seq) return { changes: [], next: since };
    const segment = await this.#segmentHolding(since + 1);
    return segment && readRecords(segment, since + 1, Math.min(this.#seq, segment.nextSeq - 1), () => true, maxRecords);
  }

  /** The open segment that holds `seq`, opening a dormant one if needed; undefined if retired. */
  async #segmentHolding(seq: number): Promise<Segment | undefined> {
    const open = this.#segments.find((s) => s.firstSeq <= seq && seq < s.nextSeq);
    if (open) return open;
    const dormant = [...this.#dormant].reverse().find((d) => d.firstSeq <= seq);
    if (!dormant) return undefined;
    const segment = await openDormantSegment(this.#dir, dormant);
    this.#dormant = this.#dormant.filter((d) => d !== dormant);
    this.#segments.push(segment);
    this.#segments.sort((a, b) => a.firstSeq - b.firstSeq);
    return segment.firstSeq <= seq && seq < segment.nextSeq ? segment : undefined;
  }

  #reset(): ChangePage {
    return { kind: 'reset', seq: this.#seq, view: this.#freeze() };
  }

  /** Freeze the index in a view that pins the files it reads until released or idle. */
  #freeze(): number {
    return this.#views.freeze(this.#index.tree(), this.#seq);
  }

  /**
   * Start exporting the current state as one snapshot file, streamed by {@link Engine.exportChunk}.
   *
   * @returns The view to read, the seq it is taken at, and the exact size of the file.
   */
  exportBegin(): { view: number; seq: number; bytes: number } {
    this.#checkOpen();
    const view = this.#freeze();
    return { view, seq: this.#seq, bytes: this.#views.beginExport(view, this.#viewReader, this.#options.now()) };
  }

  /** The next bytes (about `maxBytes`) of an export; the last chunk has `done` and releases the view. */
  exportChunk(id: number, maxBytes: number): { bytes: Uint8Array; done: boolean } {
    this.#checkOpen();
    return this.#views.exportChunk(id, this.#viewReader, maxBytes);
  }

  /**
   * One page of the frozen state behind a `reset`: keys in `range` after `afterKey`, with values.
   * The last page (`done`) releases the view.
   */
  readResetView(view: number, afterKey: string | undefined, range: ScanRange, pageSize: number): ResetPage {
    this.#checkOpen();
    const frozen = this.#views.get(view);
    const entries: [string, Uint8Array][] = [];
    const pageRange = afterKey === undefined ? range : { ...range, gt: afterKey, gte: undefined };
    const now = this.#options.now();
    for (const [key, location] of iterateRange(frozen.index, pageRange, Number.POSITIVE_INFINITY)) {
      if (this.#expired(location, now)) continue;
      if (entries.length === pageSize) return { entries, done: false };
      entries.push([key, this.#read(location, key)]);
    }
    this.#views.release(view);
    return { entries, done: true };
  }

  #current(): Segment {
    return this.#segments[this.#segments.length - 1]!;
  }

  #scheduleFlush(): void {
    this.#dirty = true;
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flushNow();
    }, this.#options.relaxedFlushDelayMs);
  }

  #flushNow(): void {
    if (!this.#dirty || this.#closed) return;
    try {
      const seq = this.#seq;
      this.#current().file.flush();
      this.#dirty = false;
      if (!this.#dir.settled) this.#durableSeq = seq;
      else
        this.#dir.settled().then(
          () => (this.#durableSeq = Math.max(this.#durableSeq, seq)),
          (error: unknown) => this.#options.onBackgroundError?.(toStoreError(error, 'relaxed flush')),
        );
    } catch (error) {
      this.#options.onBackgroundError?.(toStoreError(error, 'relaxed flush'));
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(this.#store);
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#broken) throw this.#broken;
  }

  /** Check the leadership fence; once it fails, this engine refuses every write. */
  #fence(): void {
    try {
      this.#options.fence?.();
    } catch (error) {
      this.#broken = error as StoreError;
      throw error;
    }
  }

  /** Test-only: stop all I/O at once, as a crash would (nothing is flushed or cleaned up). */
  halt(): void {
    this.#closed = true;
    this.#wakeWaiters();
  }

  /**
   * Flush what relaxed mode still holds, stop compaction and release every file. With `compact`
   * (an app's own `close()`, not a handover), a log of at least {@link CLOSE_COMPACT_MIN_BYTES}
   * since the last snapshot is compacted first, so that the next open reads a snapshot's index
   * instead of replaying the log (a failed compaction is reported and the close goes on).
   */
  async close(options: { compact?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    if (options.compact && !this.#broken && this.#logBytesSinceSnapshot() >= CLOSE_COMPACT_MIN_BYTES) {
      await this.compact().catch((error: unknown) => this.#options.onBackgroundError?.(error));
      if (this.#closed) return;
    }
    // A commit waiting for its flush to be durable (IndexedDB) finishes first: its callers get their answer.
    while (this.#barrier) await this.#barrier;
    if (this.#closed) return;
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushNow();
    // Where flushes become durable later, close once they are (a failure was reported above or is the caller's).
    await this.#dir.settled?.().catch(() => {});
    this.#closed = true;
    this.#wakeWaiters();
    this.#views.clear();
    await this.#compaction?.catch(() => {});
    for (const source of new Set<Source | undefined>([this.#base, ...this.#segments])) if (source) closeQuietly(source.file);
  }
}
