/**
 * The page Playwright drives: it puts Walden and a few self-contained helpers on `window`,
 * so specs call them through `page.evaluate`.
 */
import { decodeCheckpoint, deleteStore, encodeCheckpoint, exportTo, importFrom, importStore, openStore, StoreError, type Consumer, type OpenStoreOptions, type Store } from '../../src/index.js';
import WaldenWorker from '../../src/worker.ts?worker';
import { wrap } from 'comlink';
import type { EngineApi } from '../../src/protocol.js';
import { reopenAndCheckValues, valuesProgress, writeAndCheckValues } from './values.js';

/** A writer that keeps writing until stopped or killed, remembering what was acknowledged. */
interface Writer {
  acked: number;
  running: boolean;
  error: string | undefined;
  done: Promise<void>;
}

/** The bytes of write `i`'s photo: their length and every byte tell `i`. */
function photoBytes(i: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(100 + (i % 400)).fill(i % 251);
}

/** Write `i` of round `round`; every third one carries a Blob (a "photo"), so crashes cover Blob values. */
function valueFor(round: number, i: number) {
  const value: Record<string, unknown> = { round, i, at: new Date(1_700_000_000_000 + i), tags: new Set(['a', `t${i % 7}`]), pad: 'x'.repeat(i % 200) };
  if (i % 3 === 0) value.photo = new Blob([photoBytes(i)], { type: 'image/png' });
  return value;
}

/** The same value as JSON, with Sets as arrays and Blobs as their size and type (their bytes are checked apart). */
const describeValue = (value: unknown) => JSON.stringify(value, (_k, v) => (v instanceof Set ? [...v] : v instanceof Blob ? `Blob ${v.size} ${v.type}` : v));

/** Whether `got`'s photo holds exactly the bytes of write `i`. */
async function photoIntact(got: unknown, i: number): Promise<boolean> {
  const photo = (got as { photo?: unknown }).photo;
  if (i % 3 !== 0) return photo === undefined;
  if (!(photo instanceof Blob)) return false;
  const bytes = new Uint8Array(await photo.arrayBuffer());
  const expected = photoBytes(i);
  return bytes.length === expected.length && bytes.every((b, j) => b === expected[j]);
}

/**
 * The backend `harness.open` uses unless a test asks for one: `?backend=indexeddb` on the URL
 * (the Playwright projects of the fallback backend).
 */
const defaultBackend = new URLSearchParams(location.search).get('backend') as OpenStoreOptions['backend'] | null;

/** The fallback backend's files database (layout: docs/format.md, "IndexedDB backend"). */
function filesDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open('walden-files');
    request.onupgradeneeded = () => {
      request.result.createObjectStore('files');
      request.result.createObjectStore('pages');
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function idbRequest<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const IDB_PAGE = 64 * 1024;

/** A store's files, read and written behind Walden's back (for damage tests), on the backend the harness uses. */
const storeFiles = {
  backend: defaultBackend ?? 'opfs',
  async dir(name: string): Promise<FileSystemDirectoryHandle> {
    return (await (await navigator.storage.getDirectory()).getDirectoryHandle('walden')).getDirectoryHandle(name);
  },
  async list(name: string): Promise<string[]> {
    if (storeFiles.backend === 'indexeddb') {
      const db = await filesDb();
      const keys = await idbRequest(db.transaction('files').objectStore('files').getAllKeys(IDBKeyRange.bound([name, ''], [name, '\uffff'])));
      db.close();
      return keys.map((key) => (key as [string, string])[1]).sort();
    }
    const names: string[] = [];
    for await (const [file] of (await storeFiles.dir(name)) as unknown as AsyncIterable<[string, unknown]>) names.push(file);
    return names.sort();
  },
  async read(name: string, file: string): Promise<Uint8Array> {
    if (storeFiles.backend === 'indexeddb') {
      const db = await filesDb();
      const tx = db.transaction(['files', 'pages']);
      const size = (await idbRequest(tx.objectStore('files').get([name, file]))) as number;
      const pages = (await idbRequest(tx.objectStore('pages').getAll(IDBKeyRange.bound([name, file, 0], [name, file, Infinity])))) as Uint8Array[];
      db.close();
      const bytes = new Uint8Array(size);
      pages.forEach((page, i) => bytes.set(page.subarray(0, Math.min(page.length, size - i * IDB_PAGE)), i * IDB_PAGE));
      return bytes;
    }
    return new Uint8Array(await (await (await (await storeFiles.dir(name)).getFileHandle(file)).getFile()).arrayBuffer());
  },
  /** Delete every file of the store behind its back (a partial eviction). */
  async removeAll(name: string): Promise<void> {
    if (storeFiles.backend === 'indexeddb') {
      const db = await filesDb();
      const tx = db.transaction(['files', 'pages'], 'readwrite');
      tx.objectStore('files').delete(IDBKeyRange.bound([name, ''], [name, '\uffff']));
      tx.objectStore('pages').delete(IDBKeyRange.bound([name, ''], [name, '\uffff']));
      await new Promise((resolve, reject) => ((tx.oncomplete = resolve), (tx.onerror = () => reject(tx.error))));
      db.close();
      return;
    }
    await (await (await navigator.storage.getDirectory()).getDirectoryHandle('walden')).removeEntry(name, { recursive: true });
  },
  async write(name: string, file: string, bytes: Uint8Array): Promise<void> {
    if (storeFiles.backend === 'indexeddb') {
      const db = await filesDb();
      const tx = db.transaction(['files', 'pages'], 'readwrite');
      tx.objectStore('files').put(bytes.length, [name, file]);
      const pages = tx.objectStore('pages');
      pages.delete(IDBKeyRange.bound([name, file, 0], [name, file, Infinity]));
      for (let at = 0, page = 0; at < bytes.length; at += IDB_PAGE, page++) pages.put(bytes.slice(at, at + IDB_PAGE), [name, file, page]);
      await new Promise((resolve, reject) => ((tx.oncomplete = resolve), (tx.onerror = () => reject(tx.error))));
      db.close();
      return;
    }
    const writable = await (await (await storeFiles.dir(name)).getFileHandle(file, { create: true })).createWritable();
    await writable.write(bytes as Uint8Array<ArrayBuffer>);
    await writable.close();
  },
};

const harness = {
  storeFiles,
  StoreError,
  encodeCheckpoint,
  decodeCheckpoint,
  importStore: (name: string, artifact: Parameters<typeof importStore>[1], options: Parameters<typeof importStore>[2] = {}) => importStore(name, artifact, { ...(defaultBackend ? { backend: defaultBackend } : {}), ...options }),
  exportTo,
  importFrom: (name: string, url: string, options: Parameters<typeof importFrom>[2] = {}) => importFrom(name, url, { ...(defaultBackend ? { backend: defaultBackend } : {}), ...options }),
  openStore,
  deleteStore,
  store: undefined as Store | undefined,
  worker: undefined as Worker | undefined,
  writer: undefined as Writer | undefined,
  valueFor,
  newWorker: () => new WaldenWorker(),
  /** The harness store's worker applies `commits` more forwarded commits, then crashes before answering the last. */
  crashBeforeAnswer: (commits: number) => wrap<EngineApi>(harness.worker!).testingCrashBeforeAnswer(commits),
  /** The adapters under the libraries that use them (loaded on demand: most specs need none). */
  adapters: () => import('./adapters.js').then((m) => m.adapters),
  /** React components over `walden/react` (loaded on demand). */
  react: () => import('./react.js').then((m) => m.react),
  /** Y.Docs over `walden/yjs` (loaded on demand). */
  yjs: () => import('./yjs.js').then((m) => m.yjs),
  /** Sync with a NATS JetStream stream (loaded on demand). */
  sync: () => import('./sync.js').then((m) => m.syncHarness),
  /** abstract-level's compliance suite over `walden/level` (loaded on demand). */
  level: () => import('./level.js').then((m) => m.level),
  /** Block the harness store's worker for `ms`, now or inside its next commit (`walden/testing` hook; open with `testing`). */
  stall: (ms: number, at: 'now' | 'before-write' | 'after-write') => wrap<EngineApi>(harness.worker!).testingStall(ms, at),
  /** The harness store's worker crashes in the middle of its next takeover (files open, nothing served). */
  crashOnTakeover: () => wrap<EngineApi>(harness.worker!).testingCrashOnTakeover(),
  startSeqConsumer,
  writeAndCheckValues,
  reopenAndCheckValues,
  valuesProgress,
  consumer: undefined as SeqConsumer | undefined,

  /** Open `name` with a worker the harness owns (so a test can terminate it). */
  async open(name: string, options: OpenStoreOptions = {}): Promise<Awaited<ReturnType<Store["info"]>>> {
    // After a crash the dead holder's lock is released within milliseconds; allow for that.
    for (let attempt = 0; ; attempt++) {
      harness.worker = new WaldenWorker();
      try {
        harness.store = await openStore(name, { ...(defaultBackend ? { backend: defaultBackend } : {}), ...options, worker: harness.worker });
        return harness.store.info();
      } catch (error) {
        harness.worker.terminate();
        if ((error as StoreError).code !== 'STORE_LOCKED' || attempt >= 40) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  },

  /**
   * Write round `round` until stopped: mostly single puts, every 10th a two-key batch,
   * with `concurrency` writers sharing the counter (group commit).
   */
  startWriter(round: number, concurrency = 1, prefix = '') {
    const store = harness.store!;
    let next = 0;
    const writer: Writer = { acked: 0, running: true, error: undefined, done: Promise.resolve() };
    const done = new Set<number>();
    const one = async () => {
      while (writer.running) {
        const i = next++;
        if (i % 10 === 9) {
          await store.batch([
            { type: 'put', key: `${prefix}r${round}:${i}:a`, value: valueFor(round, i) },
            { type: 'put', key: `${prefix}r${round}:${i}:b`, value: valueFor(round, i) },
          ]);
        } else {
          await store.put(`${prefix}r${round}:${i}`, valueFor(round, i));
        }
        done.add(i);
        while (done.has(writer.acked)) done.delete(writer.acked++);
      }
    };
    writer.done = Promise.all(Array.from({ length: concurrency }, one)).then(
      () => {},
      (error: unknown) => {
        writer.error = String(error);
      },
    );
    harness.writer = writer;
  },

  /**
   * Check round `round` after a crash: the present indexes form a prefix of at least `acked`,
   * every value is exact and every batch is whole. Returns the prefix length.
   */
  async verifyRound(round: number, acked: number) {
    const store = harness.store!;
    const present = new Map<string, unknown>();
    for await (const [key, value] of store.scan({ prefix: `r${round}:` })) present.set(key, value);
    let n = 0;
    for (;;) {
      const single = present.get(`r${round}:${n}`);
      const a = present.get(`r${round}:${n}:a`);
      const b = present.get(`r${round}:${n}:b`);
      if (n % 10 === 9 ? a === undefined && b === undefined : single === undefined) break;
      if (n % 10 === 9 && (a === undefined || b === undefined)) throw new Error(`round ${round}: batch ${n} is half there`);
      const expected = describeValue(valueFor(round, n));
      for (const got of n % 10 === 9 ? [a, b] : [single]) {
        const actual = describeValue(got);
        if (actual !== expected || !((got as { at: unknown }).at instanceof Date) || !(await photoIntact(got, n))) throw new Error(`round ${round}: value ${n} differs: ${actual}`);
      }
      n++;
    }
    const records = n + 0;
    const keys = n + Math.floor(n / 10);
    if (present.size !== keys) throw new Error(`round ${round}: ${present.size} keys present but the prefix has ${keys} (a hole or an invented key)`);
    if (n < acked) throw new Error(`round ${round}: only ${n} records survived but ${acked} were acknowledged`);
    return records;
  },
};

/** A consumer whose derived state is the list of seqs it has applied: exactly-once is checkable. */
interface SeqConsumer {
  state: { seqs: number[]; resets: number };
  consumer: Consumer;
}

function startSeqConsumer(stream: string, prefix: string, every = 7): SeqConsumer {
  const store: Store = harness.store!;
  const state = { seqs: [] as number[], resets: 0 };
  const consumer = store.consume(
    stream,
    (change) => {
      if (change.type === 'reset') {
        state.resets++;
        state.seqs = [];
      } else state.seqs.push(change.seq);
    },
    {
      prefix,
      every,
      everyMs: 50,
      restore: (checkpoint) => {
        const bytes = checkpoint?.operatorStates.seqs;
        state.seqs = bytes ? [...new Float64Array(bytes.slice().buffer)] : [];
      },
      snapshot: () => ({ seqs: new Uint8Array(Float64Array.from(state.seqs).buffer) }),
    },
  );
  return { state, consumer };
}

declare global {
  interface Window {
    harness: typeof harness;
  }
}
window.harness = harness;
document.getElementById('status')!.textContent = 'ready';
