/**
 * The IndexedDB {@link Directory}: Walden's fallback backend where OPFS sync access handles are
 * missing or refused (WebKitGTK, some private-browsing modes). A store's files are 64 KiB pages
 * in the database `walden-files`; each file is held whole in the worker's memory while open
 * (reads stay synchronous), and `flush()` starts one `durability: 'strict'` transaction with the
 * pages written since. {@link IdbDirectory.settled} says when those transactions are durable:
 * the engine waits for it before it acknowledges anything.
 *
 * Every operation of one directory runs in order on one queue (open and list see every flush
 * queued before them), and each flush's transaction also reads the store's fence: when a newer
 * leader has written another epoch there since this directory last saw it, {@link FencedOut} is
 * the answer, to that flush and every later one, so a replaced leader acknowledges nothing more.
 * Fence writes and removals compare before they write (a replaced leader changes neither).
 * The layout is in docs/format.md ("IndexedDB backend").
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { FencedOut } from '../engine/fence.js';
import type { Directory, FileLike } from '../engine/ports.js';
import { FENCE_NAME } from '../format/names.js';

/** Bytes per stored page. */
export const IDB_PAGE_BYTES = 64 * 1024;
const DB_NAME = 'walden-files';
const DB_VERSION = 1;

interface FilesSchema extends DBSchema {
  /** [store, file] → the file's size in bytes: a file exists while its row does. */
  files: { key: [string, string]; value: number };
  /** [store, file, page] → up to {@link IDB_PAGE_BYTES} bytes of the file from page × that. */
  pages: { key: [string, string, number]; value: Uint8Array };
}

type FilesDb = IDBPDatabase<FilesSchema>;
type FilesTransaction = IDBPTransaction<FilesSchema, ['files', 'pages'], 'readwrite'>;
let shared: Promise<FilesDb> | undefined;

/** The files database, opened once per worker. */
function filesDb(): Promise<FilesDb> {
  shared ??= openDB<FilesSchema>(DB_NAME, DB_VERSION, {
    upgrade(db) {
      db.createObjectStore('files');
      db.createObjectStore('pages');
    },
  });
  shared.catch(() => (shared = undefined));
  return shared;
}

const pageRange = (store: string, file: string, from = 0) => IDBKeyRange.bound([store, file, from], [store, file, Infinity]);
const storeRange = (store: string) => IDBKeyRange.bound([store, ''], [store, '\uffff']);

/** Whether the store `name` has files in IndexedDB (it was created on this backend). */
export async function idbStoreExists(name: string): Promise<boolean> {
  const db = await filesDb();
  return (await db.getAllKeys('files', storeRange(name), 1)).length > 0;
}

/** Delete every file of the store `name` from IndexedDB (nothing happens if there is none). */
export async function removeIdbStore(name: string): Promise<void> {
  const db = await filesDb();
  const tx = db.transaction(['files', 'pages'], 'readwrite', { durability: 'strict' });
  void tx.objectStore('files').delete(storeRange(name));
  // The same bounds cover the pages' [store, file, page] keys: every array key [name, file, …] sorts inside them.
  void tx.objectStore('pages').delete(storeRange(name));
  await tx.done;
}

/** Open the IndexedDB directory of the store `name`. */
export async function openIdbDirectory(name: string): Promise<IdbDirectory> {
  return new IdbDirectory(await filesDb(), name);
}

/** What one flush makes durable: the pages written since the last one, and the size. */
interface PendingFlush {
  file: IdbFile;
  size: number;
  pages: Map<number, Uint8Array>;
}

/** A store's files in IndexedDB, seen through the engine's {@link Directory} interface. */
export class IdbDirectory implements Directory {
  readonly backend = 'indexeddb' as const;
  #queue: Promise<unknown> = Promise.resolve();
  /** Failures of flushes since the last {@link settled} (a fence failure stays). */
  #failure: unknown;
  #fencedOut: FencedOut | undefined;
  /** The fence file's bytes as this directory last read or wrote them; undefined before it opens the fence. */
  #fence: Uint8Array | undefined;

  /** @param db The files database. @param store The store's name. */
  constructor(
    readonly db: FilesDb,
    readonly store: string,
  ) {}

  /** Run `work` after everything queued before it. */
  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.catch(() => {});
    return result;
  }

  list(): Promise<string[]> {
    return this.#enqueue(async () => (await this.db.getAllKeys('files', storeRange(this.store))).map((key) => key[1]).sort());
  }

  open(name: string, options: { create?: boolean } = {}): Promise<FileLike> {
    return this.#enqueue(async () => {
      const tx = this.db.transaction(['files', 'pages'], 'readonly');
      const [size, pages] = await Promise.all([tx.objectStore('files').get([this.store, name]), tx.objectStore('pages').getAll(pageRange(this.store, name))]);
      if (size === undefined && !options.create) throw new DOMException(`${name} does not exist`, 'NotFoundError');
      const bytes = new Uint8Array(Math.max(size ?? 0, IDB_PAGE_BYTES));
      pages.forEach((page, i) => bytes.set(page.subarray(0, Math.max(0, Math.min(page.length, (size ?? 0) - i * IDB_PAGE_BYTES))), i * IDB_PAGE_BYTES));
      const file = new IdbFile(this, name, bytes, size ?? 0, size === undefined);
      if (name === FENCE_NAME) this.#fence = bytes.slice(0, size ?? 0);
      return file;
    });
  }

  remove(name: string): Promise<void> {
    return this.#enqueue(async () => {
      const tx = this.#writeTransaction();
      // A replaced leader removes nothing (it could be a file the new one reads): checked first.
      await this.#checkFence(tx, await this.#readFence(tx));
      void tx.objectStore('files').delete([this.store, name]);
      void tx.objectStore('pages').delete(pageRange(this.store, name));
      await tx.done;
    });
  }

  /**
   * Resolves once every flush queued before the call is durable; rejects with the first failure
   * since the previous call ({@link FencedOut} once a newer leader owns the files, and from then on).
   */
  async settled(): Promise<void> {
    await this.#queue;
    if (this.#fencedOut) throw this.#fencedOut;
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure !== undefined) throw failure;
  }

  /** Queue one flush of `file` (called by {@link IdbFile.flush}). */
  flushLater(pending: PendingFlush): void {
    void this.#enqueue(() => this.#persist(pending)).catch((error: unknown) => {
      // Not durable: the pages count as written-not-flushed again, for the next flush.
      pending.file.unflushed(pending.pages);
      if (error instanceof FencedOut) this.#fencedOut ??= error;
      else this.#failure ??= error;
    });
  }

  #writeTransaction(): FilesTransaction {
    return this.db.transaction(['files', 'pages'], 'readwrite', { durability: 'strict' });
  }

  /** The fence file's bytes as `tx` reads them (requests issued at once). */
  async #readFence(tx: FilesTransaction): Promise<Uint8Array> {
    const [size, pages] = await Promise.all([tx.objectStore('files').get([this.store, FENCE_NAME]), tx.objectStore('pages').get([this.store, FENCE_NAME, 0])]);
    return (pages ?? new Uint8Array(0)).subarray(0, size ?? 0);
  }

  /** Refuse from now on (aborting `tx`, if given) when the fence holds other bytes than this directory last saw. */
  async #checkFence(tx: FilesTransaction | undefined, stored: Uint8Array): Promise<void> {
    if (this.#fence === undefined || sameBytes(stored, this.#fence)) return;
    if (tx) {
      tx.abort();
      await tx.done.catch(() => {});
    }
    throw (this.#fencedOut ??= new FencedOut('a newer leader has claimed the fence of this store'));
  }

  async #persist({ file, size, pages }: PendingFlush): Promise<void> {
    if (this.#fencedOut) throw this.#fencedOut;
    const key = (page: number): [string, string, number] => [this.store, file.name, page];
    const tx = this.#writeTransaction();
    const write = () => {
      void tx.objectStore('files').put(size, [this.store, file.name]);
      for (const [page, bytes] of pages) void tx.objectStore('pages').put(bytes, key(page));
      // Pages past the end are gone.
      void tx.objectStore('pages').delete(pageRange(this.store, file.name, Math.ceil(size / IDB_PAGE_BYTES)));
    };
    if (file.name === FENCE_NAME) {
      // A claim or a release (rare): compare, then write, in one transaction.
      await this.#checkFence(tx, await this.#readFence(tx));
      write();
      await tx.done;
      if (pages.has(0)) this.#fence = pages.get(0)!.slice(0, size);
      return;
    }
    // Log and snapshot pages: the fence is read in the same transaction as the writes, all issued
    // at once and committed without waiting for this thread, so a leader that hangs from here on
    // holds no other tab up. A leader found replaced acknowledges nothing of it: what it wrote
    // sits past the seal of its own segment, or in a snapshot no catalog row names
    // (docs/multi-tab.md), and every later flush of it is refused.
    const fence = this.#fence !== undefined ? this.#readFence(tx) : undefined;
    write();
    (tx as unknown as { commit?(): void }).commit?.();
    await tx.done;
    if (fence) await this.#checkFence(undefined, await fence);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One file of an {@link IdbDirectory}, held whole in memory; `flush()` queues its changed pages. */
export class IdbFile implements FileLike {
  #bytes: Uint8Array;
  #size: number;
  #dirty = new Set<number>();
  #sizeChanged: boolean;
  #closed = false;

  /** Made by {@link IdbDirectory.open}. */
  constructor(
    readonly directory: IdbDirectory,
    readonly name: string,
    bytes: Uint8Array,
    size: number,
    created: boolean,
  ) {
    this.#bytes = bytes;
    this.#size = size;
    this.#sizeChanged = created;
  }

  #checkOpen(): void {
    if (this.#closed) throw new DOMException(`${this.name} is closed`, 'InvalidStateError');
  }

  #reserve(size: number): void {
    if (size <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(size, this.#bytes.length * 2));
    grown.set(this.#bytes.subarray(0, this.#size));
    this.#bytes = grown;
  }

  #touch(from: number, to: number): void {
    for (let page = Math.floor(from / IDB_PAGE_BYTES); page * IDB_PAGE_BYTES < to; page++) this.#dirty.add(page);
  }

  read(buffer: Uint8Array, options: { at: number }): number {
    this.#checkOpen();
    const n = Math.max(0, Math.min(buffer.length, this.#size - options.at));
    if (n > 0) buffer.set(this.#bytes.subarray(options.at, options.at + n));
    return n;
  }

  write(buffer: Uint8Array, options: { at: number }): number {
    this.#checkOpen();
    const end = options.at + buffer.length;
    this.#reserve(end);
    // A write past the end zero-fills the gap, as a file does.
    if (options.at > this.#size) this.#touch(this.#size, options.at);
    this.#bytes.set(buffer, options.at);
    this.#touch(options.at, end);
    if (end > this.#size) {
      this.#size = end;
      this.#sizeChanged = true;
    }
    return buffer.length;
  }

  truncate(size: number): void {
    this.#checkOpen();
    if (size < this.#size) this.#bytes.fill(0, size, this.#size);
    else this.#reserve(size);
    this.#touch(Math.min(size, this.#size), Math.max(size, this.#size));
    this.#size = size;
    this.#sizeChanged = true;
  }

  getSize(): number {
    this.#checkOpen();
    return this.#size;
  }

  flush(): void {
    this.#checkOpen();
    if (this.#dirty.size === 0 && !this.#sizeChanged) return;
    const pages = new Map<number, Uint8Array>();
    for (const page of this.#dirty) {
      const from = page * IDB_PAGE_BYTES;
      if (from < this.#size) pages.set(page, this.#bytes.slice(from, Math.min(this.#size, from + IDB_PAGE_BYTES)));
    }
    this.#dirty.clear();
    this.#sizeChanged = false;
    this.directory.flushLater({ file: this, size: this.#size, pages });
  }

  /** Pages whose flush failed: written, not durable, sent again by the next flush. */
  unflushed(pages: Map<number, Uint8Array>): void {
    for (const page of pages.keys()) this.#dirty.add(page);
    this.#sizeChanged = true;
  }

  close(): void {
    this.#closed = true;
  }
}
