/**
 * The OPFS {@link Directory}: the only place that calls `createSyncAccessHandle`.
 * Runs in a dedicated worker (sync access handles exist nowhere else).
 *
 * Handles are opened `readwrite-unsafe` where the browser has that mode (Chromium): such
 * handles can be open in several workers at once, which is what lets a new leader take over
 * the files of one whose tab froze while holding them (docs/multi-tab.md). Where the mode is
 * missing, handles are exclusive and a new leader waits until the old one lets go.
 */
import { StoreError } from '../errors.js';
import type { Directory, FileLike } from '../engine/ports.js';
import { waldenRoot } from './opfs-root.js';

/** Attempts and delay when a handle is still held by a context that is going away. */
const LOCKED_RETRIES = 20;
const LOCKED_RETRY_MS = 25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type SyncHandleOptions = { mode?: 'readwrite' | 'read-only' | 'readwrite-unsafe' };
/** Whether `readwrite-unsafe` works here; undefined until the first open tells. */
let sharedHandles: boolean | undefined;

/** Whether this browser lets a store's files be open in several workers at once (known after the first open). */
export function opfsSharesHandles(): boolean | undefined {
  return sharedHandles;
}

/** Set once this engine refused a sync access handle outright (WebKitGTK: `NotSupportedError`). */
let refused = false;

/**
 * The error for an engine that has `createSyncAccessHandle` and refuses it: every non-Apple
 * WebKit build says `NotSupportedError`, and the file it refused stays locked, so the next try
 * says `InvalidStateError` (even in a later session). Opening with `backend: 'auto'` then runs
 * on IndexedDB.
 */
function refusal(error: unknown): unknown {
  const name = (error as DOMException | null)?.name;
  if (name === 'NotSupportedError' || (name === 'InvalidStateError' && (refused || sharedHandles === undefined))) {
    refused = true;
    return new StoreError('STORE_UNSUPPORTED', `this engine refuses OPFS sync access handles (${name})`, { cause: error });
  }
  return error;
}

async function createHandle(file: FileSystemFileHandle): Promise<FileSystemSyncAccessHandle> {
  const create = file.createSyncAccessHandle as unknown as (this: FileSystemFileHandle, options?: SyncHandleOptions) => Promise<FileSystemSyncAccessHandle>;
  if (sharedHandles !== false) {
    try {
      const handle = await create.call(file, { mode: 'readwrite-unsafe' });
      sharedHandles = (handle as { mode?: string }).mode === 'readwrite-unsafe';
      return handle;
    } catch (error) {
      // An engine without the option refuses the enum value; anything else is a real failure.
      if ((error as DOMException).name !== 'TypeError') throw refusal(error);
      sharedHandles = false;
    }
  }
  try {
    return await create.call(file);
  } catch (error) {
    throw refusal(error);
  }
}

/**
 * Open (creating) the OPFS directory `walden/<name>/`.
 *
 * @throws {@link StoreError} `STORE_UNSUPPORTED` when OPFS sync access handles are missing.
 */
export async function openOpfsDirectory(name: string): Promise<OpfsDirectory> {
  if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory || typeof FileSystemFileHandle === 'undefined' || !('createSyncAccessHandle' in FileSystemFileHandle.prototype)) {
    throw new StoreError('STORE_UNSUPPORTED', 'this context has no OPFS sync access handles (a dedicated worker in a secure context is needed)');
  }
  return new OpfsDirectory(await (await waldenRoot(true)).getDirectoryHandle(name, { create: true }));
}

/** A store's OPFS directory, seen through the engine's {@link Directory} interface. */
export class OpfsDirectory implements Directory {
  readonly backend = 'opfs' as const;
  /** @param handle The store's directory handle. */
  constructor(readonly handle: FileSystemDirectoryHandle) {}

  async list(): Promise<string[]> {
    const names: string[] = [];
    // `keys()` is in every engine that has sync access handles; lib.dom lacks it in some versions.
    for await (const name of (this.handle as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    return names.sort();
  }

  async open(name: string, options: { create?: boolean } = {}): Promise<FileLike> {
    const file = await this.handle.getFileHandle(name, { create: options.create ?? false });
    for (let attempt = 0; ; attempt++) {
      try {
        return await createHandle(file);
      } catch (error) {
        // A crashed or closing holder releases its handle within milliseconds: retry briefly.
        if ((error as DOMException).name !== 'NoModificationAllowedError' || attempt >= LOCKED_RETRIES) throw error;
        await sleep(LOCKED_RETRY_MS);
      }
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.handle.removeEntry(name);
    } catch (error) {
      if ((error as DOMException).name !== 'NotFoundError') throw error;
    }
  }
}
