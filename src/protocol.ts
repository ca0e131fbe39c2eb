/**
 * The types shared by the page (`Store`) and the worker: the Comlink interface between them,
 * the same calls as the worker's host routes them with encoded values, and the shapes both
 * return. Types only.
 */

/** How a write is acknowledged; see the README's durability table. */
export type Durability = 'strict' | 'relaxed';

/** A write operation; `V` is how its value travels (see {@link WorkerApi}). */
export type Op<V> = { type: 'put'; key: string; value: V; expiresAt?: number } | { type: 'del'; key: string };

/** A write operation with its value encoded to bytes (`format/value.ts`): inside the worker, between tabs, in the log. */
export type EncodedOp = Op<Uint8Array>;

/** A write operation as the page sends it: the value itself, copied by structured clone. */
export type ValueOp = Op<unknown>;

/** What one write of a commit group came to: its seq, or why its value was refused (a `TypeError` message; nothing of it was written). */
export type CommitOutcome = number | { refused: string };

/** Key range of a scan. `prefix` and the bounds intersect. */
export interface ScanRange {
  prefix?: string;
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
  /** At most this many entries, counted in iteration order. */
  limit?: number;
  /** Descending key order. */
  reverse?: boolean;
}

/** What recovery did at open; all zero or empty after a clean open. */
export interface RecoveryReport {
  /** Bytes of a torn (unacknowledged) log tail that were cut off. */
  tornBytes: number;
  /** Whole, checksum-valid records that recovery discarded. */
  droppedRecords: number;
  /** Files recovery deleted: orphans, and segments whose header was never completely written. */
  removedFiles: string[];
  /** Catalog rows dropped because their snapshot file was missing or damaged. */
  droppedCatalogRows: number;
  /** Keys whose expiry had passed, dropped while opening. */
  expiredKeys: number;
  /** Snapshots that failed verification and were replaced by an older generation plus the log. */
  damagedFiles: { file: string; reason: string }[];
}

/** A forwarded commit's identity: the sending worker and its request number (the leader's ledger makes it idempotent). */
export interface RequestTag {
  client: string;
  n: number;
}

/** Whether a tab's worker owns the files (`leader`) or forwards its calls to the one that does. */
export type TabRole = 'leader' | 'follower';

/** Where a store's files live: OPFS sync access handles, IndexedDB pages (the fallback where sync handles are missing), or `node:fs` (`walden/node`). */
export type BackendName = 'opfs' | 'indexeddb' | 'node-fs';

/** What `openStore`'s `backend` option asks for: `'auto'` (default) picks OPFS where sync handles work. */
export type BackendChoice = 'auto' | 'opfs' | 'indexeddb';

/** A snapshot of the store's state, from {@link EngineApi.info}. */
export interface StoreInfo {
  /** The last committed sequence number (0 for a new store). */
  seq: number;
  /** The last seq known to be flushed to disk: `seq` in strict mode, at most 50 ms behind in relaxed. */
  durableSeq: number;
  /** Number of live keys. */
  keys: number;
  /** Bytes in the write-ahead log segments that are still live. */
  walBytes: number;
  /** The seq of the newest committed snapshot (0 when there is none). */
  snapshotSeq: number;
  durability: Durability;
  /** What holds the files (see the README's table of engines and backends). */
  backend?: BackendName;
  recovery: RecoveryReport;
  /** Milliseconds the leader spent opening (recovery included). */
  openMs: number;
  /** This tab's role when it answered (set by the tab's worker, not the engine). */
  role?: TabRole;
  /** The leadership epoch this tab knows: it grows by one with every new leader. */
  epoch?: number;
  /** Times this tab's worker took over leadership from another. */
  failovers?: number;
  /** Commits this tab's worker refused because it found, after a stall, that a newer leader exists (before writing, or after: then the fence stopped the acknowledgement). */
  fencedCommits?: number;
  /** Times this tab's worker found it had been replaced while it led (its lock stolen, or a newer epoch heard) and stopped. */
  deposed?: number;
  /** Times this tab's worker handed leadership to another tab because its page was hidden while another was visible. */
  handovers?: number;
  /** Frames of the change stream that arrived after a gap, making this follower resync. */
  frameGaps?: number;
}

/** The steps of a compaction, in order (test hooks crash the worker at one of them). */
export type CompactionPoint = 'rotated' | 'snapshot-written' | 'catalog-committed' | 'repointed' | 'retired';

/** Options the page passes to the worker when opening. */
export interface EngineOpenOptions {
  durability: Durability;
  /** Where the files live; `'auto'` when absent. */
  backend?: BackendChoice;
  /** Bytes of log history kept for checkpoint streams beyond the previous generation. */
  historyBytes?: number;
  /** Compact automatically once the log since the last snapshot exceeds this many bytes. */
  compactThresholdBytes?: number;
  /** Test-only (`walden/testing`): crash the worker at this point of the next compaction. */
  crashAtCompactionPoint?: CompactionPoint;
  /** Test-only (`walden/testing`): allow {@link EngineApi.testingStall}. */
  testing?: boolean;
}

/** One committed record as the change feed carries it: its seq and the ops that passed the filter. */
export interface ChangeRecord<V> {
  seq: number;
  ops: Op<V>[];
}

/** A committed record with encoded values (the frames between tabs). */
export type EncodedChange = ChangeRecord<Uint8Array>;

/**
 * A page of the change feed: records after the cursor (continue from `next`), or `reset` when the
 * history is gone: the full state at `seq` follows, read through `view`.
 */
export type ChangePage<V = Uint8Array> = { kind: 'changes'; changes: ChangeRecord<V>[]; next: number } | { kind: 'reset'; seq: number; view: number };

/** A page of the frozen state behind a reset; `done` on the last one. */
export interface ResetPage<V = Uint8Array> {
  entries: [string, V][];
  done: boolean;
}

/** One page of scan results: keys with their values and the seq that wrote each. */
export interface ScanPage<V = Uint8Array> {
  entries: [string, V, number][];
  /** The store's last seq when the page was read: the page is the state after exactly the records up to it. */
  seq: number;
}

/**
 * The worker's calls. `V` is how values travel: live values (`unknown`, copied by structured
 * clone) between the page and its worker ({@link EngineApi}); encoded bytes inside the worker
 * and between tabs ({@link RecordApi}).
 */
export interface WorkerApi<V> {
  /** Open (and recover) the named store; fails with `STORE_LOCKED` when another context holds it. */
  open(name: string, options: EngineOpenOptions): Promise<StoreInfo>;
  /** Append one record per element of `writes`, durably as the store's durability defines; resolves with what each came to. */
  commit(writes: Op<V>[][]): Promise<CommitOutcome[]>;
  /** The value of `key`, or undefined. */
  get(key: string): Promise<V | undefined>;
  /** The values of `keys`, in order. */
  getMany(keys: string[]): Promise<(V | undefined)[]>;
  /** One page of at most `pageSize` entries of `range`. */
  scan(range: ScanRange, pageSize: number): Promise<ScanPage<V>>;
  /** Committed records after `since` that touch `range`, waiting up to `waitMs` for new ones. */
  readChanges(since: number, range: ScanRange, maxRecords: number, waitMs: number): Promise<ChangePage<V>>;
  /** Make every waiting `readChanges` return now (with what there is), so stopped feeds can end. */
  wake(): Promise<void>;
  /** A page of the state behind a reset, after `afterKey`. */
  readResetView(view: number, afterKey: string | undefined, range: ScanRange, pageSize: number): Promise<ResetPage<V>>;
  /** Freeze the state for an export: the view to read, its seq and the snapshot file's exact size. */
  exportBegin(): Promise<{ view: number; seq: number; bytes: number }>;
  /** The next bytes of an export's snapshot file. */
  exportChunk(view: number, maxBytes: number): Promise<{ bytes: Uint8Array; done: boolean }>;
  /**
   * Import an artifact into the store `name` (it must not exist unless `replace`): verify every
   * file, stage, and only then switch. Resolves with the imported store's info.
   */
  importArtifact(name: string, artifact: Blob, options: { replace: boolean; expectedManifest?: string; backend?: BackendChoice }): Promise<StoreInfo>;
  /** Write a snapshot now and retire what it makes redundant. */
  compact(): Promise<void>;
  info(): Promise<StoreInfo>;
  /** Flush, release every file and the lock. */
  close(): Promise<void>;
  /** A control message from the page: it is alive (every 250 ms), or it is going away (`pagehide`). */
  signal(message: PageSignal): void;
  /**
   * Test-only (needs `testing` at open): block this worker's thread for `ms`, like a hung tab:
   * now, or inside the next commit, just before its `write()` or just after its flush (before
   * the fence check and the acknowledgement): the two hard cases of a takeover.
   */
  testingStall(ms: number, at?: StallPoint): void;
  /** A sync call (`store.sync()` and the {@link SyncCall}s of its handle); answers a {@link SyncInfo}, or nothing. */
  sync(call: SyncCall): Promise<unknown>;
  /** Test-only: apply `commits` more forwarded commits, then crash without answering the last. */
  testingCrashBeforeAnswer(commits: number): void;
  /** Test-only: the next time this worker takes over from a leader that did not let go cleanly, crash once its files are open, before it serves. */
  testingCrashOnTakeover(): void;
}

/** The worker's interface as the page sees it through Comlink: values travel as themselves. */
export type EngineApi = WorkerApi<unknown>;

/** The same calls with encoded values: what the host routes to its engine or forwards to the leader. */
export type RecordApi = WorkerApi<Uint8Array>;

/** Where {@link WorkerApi.testingStall} blocks the thread. */
export type StallPoint = 'now' | 'before-write' | 'after-write';

/**
 * The page-to-worker control messages: the page is alive (every 250 ms, and at once when its
 * visibility changes) and whether it is visible; or it is going away or being frozen
 * (`pagehide`, `freeze`): hand over now.
 */
export type PageSignal = { waldenAlive: true; visible?: boolean } | { waldenHandOver: true };

/** What a sync is doing: connecting to its server, online, offline (waiting to reconnect), or closed (by `close()` or an error no retry fixes: see `lastError`). */
export type SyncState = 'connecting' | 'online' | 'offline' | 'closed';

/** How to sync a store with a NATS JetStream stream (see the README's "Sync" section). */
export interface SyncOptions {
  /** The server's WebSocket URL(s), such as `ws://127.0.0.1:9222`; several for a cluster. */
  servers: string | string[];
  /** The JetStream stream: created with subjects `<subjectPrefix>.>` if it does not exist. */
  stream: string;
  /** The subjects' prefix (default `walden.<stream>`); each device publishes to `<prefix>.<device>`. */
  subjectPrefix?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** Replicas of a stream sync creates (default 1; 3 on a three-node cluster). */
  replicas?: number;
  /** How long one connection attempt may take (default 5000 ms). */
  connectTimeoutMs?: number;
  /** The Object Store bucket that holds the stream's snapshot (default `walden-<stream>`). */
  snapshotBucket?: string;
}

/** What `sync.snapshot()` uploaded: the stream seq the state is at, its local seq and size. */
export interface SyncSnapshotInfo {
  pulledStreamSeq: number;
  seq: number;
  bytes: number;
}

/** Where a sync stands, from `sync.info()`. */
export interface SyncInfo {
  stream: string;
  state: SyncState;
  /** This device's id: its subject is `<prefix>.<device>`. */
  device: string;
  /** Every local record up to this seq is in the stream (or came from it). */
  pushedSeq: number;
  /** The stream seq applied here last. */
  pulledStreamSeq: number;
  /** Local records waiting to be published. */
  pendingRecords: number;
  /** Keys written here that the stream has not brought back yet (pulled records do not overwrite them). */
  unconfirmedKeys: number;
  /** Messages this sync published (repeats the server dropped not counted). */
  published: number;
  /** Records from other devices applied here. */
  applied: number;
  /** Times this store's state was brought to the bucket's snapshot (a new device's bootstrap, or a reset after the stream lost history). */
  snapshotsApplied: number;
  /** Grows with every change of this info. */
  version: number;
  /** The last error: why sync is offline, or why it stopped. */
  lastError?: { code: string; message: string };
}

/** The calls behind `store.sync()` and its handle, as the page sends them to its worker (and followers to the leader). */
export type SyncCall =
  | { op: 'start'; options: SyncOptions }
  | { op: 'info' | 'flush' | 'pulled' | 'snapshot' | 'close'; stream: string }
  | { op: 'watch'; stream: string; version: number; waitMs: number };
