/**
 * Which backend holds a store's files: OPFS with sync access handles where the browser has them,
 * else IndexedDB (`idb-files.ts`). `'auto'` keeps a store where it was created: a store with
 * files in IndexedDB stays there; otherwise OPFS, unless sync handles are missing or refused
 * (WebKitGTK: `NotSupportedError`), which {@link isSyncHandleRefusal} tells the caller.
 */
import type { Directory } from '../engine/ports.js';
import type { BackendChoice, BackendName } from '../protocol.js';

/** The backends a browser can run. */
export type BrowserBackend = Exclude<BackendName, 'node-fs'>;
import { openOpfsDirectory, OpfsDirectory } from './opfs.js';
import { waldenRoot } from './opfs-root.js';

/**
 * The IndexedDB backend's code (`idb-files.ts`), loaded only when a store lives there or a new
 * store is looked for: the open of an existing OPFS store never loads it (2 kB of the worker).
 */
const idbFiles = () => import('./idb-files.js');

/** Whether this context has the OPFS sync access handle API at all. */
export function hasSyncHandles(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.storage?.getDirectory && typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype;
}

/** Whether `error` (from opening a file) says sync handles cannot work here, so IndexedDB should. */
export function isSyncHandleRefusal(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | null;
  return e?.name === 'NotSupportedError' || e?.code === 'STORE_UNSUPPORTED' || e?.name === 'SecurityError';
}

/** The OPFS directory of store `name` if it exists (without creating it). */
async function opfsStoreHandle(name: string): Promise<FileSystemDirectoryHandle | undefined> {
  try {
    return await (await waldenRoot())?.getDirectoryHandle(name);
  } catch {
    return undefined;
  }
}

/** Where store `name` lives for `choice`: the backend, and the OPFS directory if the check found it. */
async function locateStore(name: string, choice: BackendChoice): Promise<{ backend: BrowserBackend; handle?: FileSystemDirectoryHandle }> {
  if (choice !== 'auto') return { backend: choice };
  if (!hasSyncHandles()) return { backend: 'indexeddb' };
  const handle = await opfsStoreHandle(name);
  if (handle) return { backend: 'opfs', handle };
  return { backend: (await (await idbFiles()).idbStoreExists(name)) ? 'indexeddb' : 'opfs' };
}

/** The backend `choice` comes to for store `name` on this browser. */
export async function resolveBackend(name: string, choice: BackendChoice = 'auto'): Promise<BrowserBackend> {
  return (await locateStore(name, choice)).backend;
}

/**
 * {@link resolveBackend} and {@link openBackendDirectory} at once: an OPFS store that exists is
 * opened with the handle its check found (three directory calls fewer: about 2 ms of an open).
 * Neither promise needs a handler of its own.
 */
export function openStoreDirectory(name: string, choice: BackendChoice = 'auto'): { backend: Promise<BrowserBackend>; directory: Promise<Directory> } {
  const located = locateStore(name, choice);
  const backend = located.then((found) => found.backend);
  const directory = located.then((found) => (found.handle ? new OpfsDirectory(found.handle) : openBackendDirectory(name, found.backend)));
  backend.catch(() => {});
  directory.catch(() => {});
  return { backend, directory };
}

/** Open the directory of store `name` on `backend`. */
export function openBackendDirectory(name: string, backend: BrowserBackend): Promise<Directory> {
  return backend === 'indexeddb' ? idbFiles().then((files) => files.openIdbDirectory(name)) : openOpfsDirectory(name);
}
