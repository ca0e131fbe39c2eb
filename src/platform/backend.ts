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
import { idbStoreExists, openIdbDirectory } from './idb-files.js';
import { openOpfsDirectory } from './opfs.js';
import { waldenRoot } from './opfs-root.js';

/** Whether this context has the OPFS sync access handle API at all. */
export function hasSyncHandles(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.storage?.getDirectory && typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype;
}

/** Whether `error` (from opening a file) says sync handles cannot work here, so IndexedDB should. */
export function isSyncHandleRefusal(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | null;
  return e?.name === 'NotSupportedError' || e?.code === 'STORE_UNSUPPORTED' || e?.name === 'SecurityError';
}

/** Whether the OPFS directory of store `name` exists (without creating it). */
async function opfsStoreExists(name: string): Promise<boolean> {
  try {
    const root = await waldenRoot();
    if (!root) return false;
    await root.getDirectoryHandle(name);
    return true;
  } catch {
    return false;
  }
}

/** The backend `choice` comes to for store `name` on this browser. */
export async function resolveBackend(name: string, choice: BackendChoice = 'auto'): Promise<BrowserBackend> {
  if (choice !== 'auto') return choice;
  if (!hasSyncHandles()) return 'indexeddb';
  if (await opfsStoreExists(name)) return 'opfs';
  return (await idbStoreExists(name)) ? 'indexeddb' : 'opfs';
}

/** Open the directory of store `name` on `backend`. */
export function openBackendDirectory(name: string, backend: BrowserBackend): Promise<Directory> {
  return backend === 'indexeddb' ? openIdbDirectory(name) : openOpfsDirectory(name);
}
