/** `openStore` and `deleteStore`: starting (or adopting) the worker and connecting to it. */
import { wrap, releaseProxy, type Remote } from 'comlink';
import { HotPath } from '../hotpath.js';
import { installErrorTransfer, StoreError } from '../errors.js';
import { removeOpfsDirectory } from '../platform/opfs-root.js';
import { lockName } from '../tabs/locks.js';
import type { BackendChoice, Durability, EngineApi, StallPoint, StoreInfo, TabRole } from '../protocol.js';
import { Store } from './store.js';
import { attachTesting, testingGlobal } from './testing-hooks.js';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** `'strict'` (default): a write resolves after `flush()`. `'relaxed'`: after `write()`, flushed within 50 ms. */
  durability?: Durability;
  /** A worker built from the `walden/worker` entry; by default Walden starts its own. */
  worker?: Worker;
  /** Compact automatically once the log since the last snapshot exceeds this many bytes (default 32 MiB). */
  compactThresholdBytes?: number;
  /** Bytes of log history kept for checkpoint streams beyond the previous generation (default 64 MiB). */
  historyBytes?: number;
  /** Checkpoints kept per stream (default 10). */
  maxCheckpointsPerStream?: number;
  /**
   * Ask the browser to keep this origin's storage from eviction (`navigator.storage.persist()`),
   * in the background: opening never waits for the answer (which may wait for a person). The
   * answer comes as a `persist` event on the store (`event.detail.persisted`), and
   * `info().persisted` says what holds at the time of the call.
   */
  persist?: boolean;
  /**
   * Where the files live: `'auto'` (default) picks OPFS with sync access handles where they work
   * and IndexedDB where they are missing or refused, and keeps a store on the backend it was
   * created on; `'opfs'` or `'indexeddb'` ask for one (`info().backend` says which runs).
   */
  backend?: BackendChoice;
}

/** How often the page tells its worker it is alive (a frozen page stops, and its worker hands over). */
export const PAGE_PING_MS = 250;

const NAME_PATTERN = /^[^/\\\u0000]{1,200}$/;

function assertName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name) || name === '.' || name === '..') {
    throw new TypeError('store name must be a string of 1 to 200 characters without "/", "\\" or NUL, and not "." or ".."');
  }
}

/**
 * Start the worker and connect, turning a worker that fails to load into a StoreError. `get` and
 * `commit` go on the hot path (`hotpath.ts`), every other call through Comlink, on one port.
 */
function connect(worker: Worker): { remote: Remote<EngineApi>; failed: Promise<never> } {
  installErrorTransfer();
  const comlink = wrap<EngineApi>(worker);
  const hot = new HotPath(worker);
  const calls = {
    get: (key: string) => hot.call('get', [key]),
    commit: (writes: unknown[]) => hot.call('commit', [writes]),
  };
  const remote = new Proxy(comlink, {
    get: (target, property, receiver) => {
      if (property === 'get' || property === 'commit') return calls[property];
      // Released with the proxy: the hot path's listener goes with it.
      if (property === releaseProxy) {
        return () => {
          hot.close();
          target[releaseProxy]();
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
  // A worker script that fails to load or run never answers: turn its error event into a rejection.
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener(
      'error',
      (event) => {
        event.preventDefault();
        reject(new StoreError('STORE_WORKER_LOST', `the Walden worker failed: ${event.message || 'it could not be loaded'}`));
      },
      { once: true },
    );
  });
  failed.catch(() => {});
  return { remote, failed };
}

/** `navigator.storage.persist()`, never rejecting; undefined where there is none (a worker, an old engine). */
async function requestPersistence(): Promise<boolean | undefined> {
  try {
    return await navigator.storage?.persist?.();
  } catch {
    return undefined;
  }
}

function defaultWorker(): Worker {
  // Resolved against dist/index.js at run time, where dist/worker.js sits beside it. This exact
  // `new Worker(new URL(…, import.meta.url))` shape is what Vite and webpack 5 bundle for the app.
  return new Worker(new URL(/* @vite-ignore */ './worker.js', import.meta.url), { type: 'module', name: 'walden' });
}

/**
 * Open (creating if needed) the store `name`, recovering it after a crash. In a second tab (or
 * a second open in one page) this tab's worker becomes a follower of the one that leads.
 *
 * @throws TypeError for a bad name or options.
 * @throws {@link StoreError} `STORE_LOCKED` when the lock is held by a context that does not
 *   answer (an import, another Walden version), `STORE_CORRUPTION` for damage that is not a torn tail, `STORE_UNSUPPORTED` without OPFS (or, with `backend: 'indexeddb'`, IndexedDB).
 */
export async function openStore(name: string, options: OpenStoreOptions = {}): Promise<Store> {
  assertName(name);
  const durability = options.durability ?? 'strict';
  if (durability !== 'strict' && durability !== 'relaxed') throw new TypeError("durability must be 'strict' or 'relaxed'");
  const backend = options.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'opfs' && backend !== 'indexeddb') throw new TypeError("backend must be 'auto', 'opfs' or 'indexeddb'");
  for (const key of ['compactThresholdBytes', 'historyBytes', 'maxCheckpointsPerStream'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new TypeError(`${key} must be a positive integer`);
  }
  // Asked in the background, from the start: `persist()` may wait for a person to answer a
  // prompt (Firefox, headless: forever), and opening must never wait on a prompt.
  const persistence = options.persist ? requestPersistence() : undefined;
  const ownsWorker = !options.worker;
  const worker = options.worker ?? defaultWorker();
  const { remote, failed } = connect(worker);
  let store: Store | undefined;
  let reported: TabRole = 'follower';
  const onRole = (event: MessageEvent) => {
    const role = (event.data as { waldenRole?: { role: TabRole } } | null)?.waldenRole?.role;
    if (!role) return;
    reported = role;
    store?._setRole(role);
  };
  worker.addEventListener('message', onRole);
  // The worker leads only while this page is alive and, when another tab is visible, visible:
  // it pings with the page's visibility, and hands over on pagehide and freeze.
  const ping = () => void remote.signal({ waldenAlive: true, visible: globalThis.document?.visibilityState !== 'hidden' }).catch(() => {});
  const alive = setInterval(ping, PAGE_PING_MS);
  const onPageHide = () => void remote.signal({ waldenHandOver: true }).catch(() => {});
  globalThis.addEventListener?.('pagehide', onPageHide);
  globalThis.document?.addEventListener('visibilitychange', ping);
  globalThis.document?.addEventListener('freeze', onPageHide);
  const dispose = () => {
    clearInterval(alive);
    globalThis.removeEventListener?.('pagehide', onPageHide);
    globalThis.document?.removeEventListener('visibilitychange', ping);
    globalThis.document?.removeEventListener('freeze', onPageHide);
    worker.removeEventListener('message', onRole);
    remote[releaseProxy]();
    if (ownsWorker) worker.terminate();
  };
  let info: StoreInfo;
  try {
    const testing = testingGlobal();
    const engineOptions = {
      durability,
      ...(backend !== 'auto' ? { backend } : {}),
      ...(testing ? { testing: true } : {}),
      ...(testing?.crashAtCompactionPoint ? { crashAtCompactionPoint: testing.crashAtCompactionPoint } : {}),
      ...(options.compactThresholdBytes ? { compactThresholdBytes: options.compactThresholdBytes } : {}),
      ...(options.historyBytes ? { historyBytes: options.historyBytes } : {}),
    };
    info = await Promise.race([remote.open(name, engineOptions), failed]);
  } catch (error) {
    dispose();
    throw error;
  }
  const testing = testingGlobal();
  const tab = { role: () => store!.role, hang: (ms: number, at?: StallPoint) => void remote.testingStall(ms, at).catch(() => {}) };
  store = new Store(name, durability, remote, dispose, options.maxCheckpointsPerStream, testing && attachTesting(testing, name, worker, tab));
  const opened = store;
  // In a task of its own: an answer that came during the open still reaches a listener added right after `await openStore()`.
  void persistence?.then((granted) => setTimeout(() => opened.dispatchEvent(new CustomEvent('persist', { detail: { persisted: granted } })), 0));
  store._setRole(info.role ?? reported);
  return store;
}

/** Options of {@link importStore}. */
export interface ImportStoreOptions {
  /** Replace the store if it exists (it must not be open). Without it, an existing store is `STORE_EXISTS`. */
  replace?: boolean;
  /** A worker built from `walden/worker` (as for {@link openStore}). */
  worker?: Worker;
  /** Where a new store's files go, as {@link OpenStoreOptions.backend} (a replaced store stays where it was). */
  backend?: BackendChoice;
  /** @internal The manifest stored beside a downloaded artifact, which must equal the embedded one. */
  expectedManifest?: string;
}

/**
 * Import an artifact made by `store.export()` as the store `name`. The input is untrusted: every
 * file's size and SHA-256 is checked against the manifest (itself capped in size), names are
 * confined to the store, unknown versions are refused, and the snapshot is staged in a fresh
 * directory and verified before the store is switched over.
 *
 * @returns The imported store's info (its seq is the exported one).
 * @throws {@link StoreError} `STORE_INVALID_ARTIFACT` (the existing store is untouched),
 *   `STORE_EXISTS`, `STORE_LOCKED`.
 */
export async function importStore(name: string, artifact: Blob | ArrayBuffer | Uint8Array | ReadableStream<Uint8Array>, options: ImportStoreOptions = {}): Promise<StoreInfo> {
  assertName(name);
  let blob: Blob;
  if (artifact instanceof Blob) blob = artifact;
  else if (artifact instanceof ArrayBuffer || artifact instanceof Uint8Array) blob = new Blob([artifact as Uint8Array<ArrayBuffer>]);
  else if (artifact instanceof ReadableStream) blob = await new Response(artifact).blob();
  else throw new TypeError('importStore takes a Blob, an ArrayBuffer, a Uint8Array or a ReadableStream');
  const backend = options.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'opfs' && backend !== 'indexeddb') throw new TypeError("backend must be 'auto', 'opfs' or 'indexeddb'");
  const ownsWorker = !options.worker;
  const worker = options.worker ?? defaultWorker();
  const { remote, failed } = connect(worker);
  try {
    const request = { replace: options.replace ?? false, ...(options.expectedManifest !== undefined ? { expectedManifest: options.expectedManifest } : {}), ...(backend !== 'auto' ? { backend } : {}) };
    return await Promise.race([remote.importArtifact(name, blob, request), failed]);
  } finally {
    remote[releaseProxy]();
    if (ownsWorker) worker.terminate();
  }
}

/**
 * Delete the store `name`: its files (OPFS directory, IndexedDB pages) and its catalog rows.
 *
 * @throws {@link StoreError} `STORE_LOCKED` while it is open anywhere.
 */
export async function deleteStore(name: string): Promise<void> {
  assertName(name);
  await navigator.locks.request(lockName(name), { ifAvailable: true }, async (lock) => {
    if (!lock) throw new StoreError('STORE_LOCKED', `store ${JSON.stringify(name)} is open; close it first`);
    await removeOpfsDirectory(name);
    // Loaded only here: the page bundle never carries the IndexedDB backend.
    const { removeIdbStore } = await import('../platform/idb-files.js');
    await removeIdbStore(name);
    await deleteCatalogRows(name);
  });
}

async function deleteCatalogRows(name: string): Promise<void> {
  // idb loads only when a store is deleted, not with the page entry.
  const { IdbCatalog, openCatalogDb } = await import('../platform/catalog.js');
  const catalog = new IdbCatalog(await openCatalogDb());
  try {
    await catalog.deleteStore(name);
  } finally {
    catalog.close();
  }
}
