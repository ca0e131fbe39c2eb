/**
 * The engine's view of storage: files shaped like `FileSystemSyncAccessHandle`, in a directory
 * whose operations are asynchronous like OPFS's. The real handle fits `FileLike` as it is.
 */
import type { BackendName } from '../protocol.js';

/** A synchronously accessed file, the subset of `FileSystemSyncAccessHandle` the engine uses. */
export interface FileLike {
  /** Read into `buffer` from byte `at`; returns the number of bytes read (short at end of file). */
  read(buffer: Uint8Array, options: { at: number }): number;
  /** Write all of `buffer` at byte `at`; returns the number of bytes written. */
  write(buffer: Uint8Array, options: { at: number }): number;
  /** Set the file size, zero-filling when it grows. */
  truncate(size: number): void;
  /** The current size in bytes. */
  getSize(): number;
  /** Make everything written so far durable. */
  flush(): void;
  /** Release the file. */
  close(): void;
}

/** A store's directory: list, open (creating when asked), remove. */
export interface Directory {
  /** What holds the files, as `info().backend` reports it. */
  readonly backend?: BackendName;
  /** Names of the files in the directory. */
  list(): Promise<string[]>;
  /** Open a file for exclusive synchronous access. */
  open(name: string, options?: { create?: boolean }): Promise<FileLike>;
  /** Remove a file that is not open; removing a missing file is not an error. */
  remove(name: string): Promise<void>;
  /**
   * Where `flush()` only starts making a file durable (the IndexedDB backend): resolves once
   * everything flushed before the call is durable, and rejects with what kept it from being so.
   * Absent where `flush()` is durable when it returns (OPFS sync handles, `node:fs`).
   */
  settled?(): Promise<void>;
}

/**
 * Remove `name` unless a handle is still open on it: that of a leader that was replaced while
 * its thread did not run (it closes its files when it runs again). Such a file is left for a
 * later compaction or open, which remove it; nothing reads it meanwhile.
 *
 * @returns Whether the file is gone.
 */
export async function removeUnlessHeld(dir: Directory, name: string): Promise<boolean> {
  try {
    await dir.remove(name);
    return true;
  } catch (error) {
    if ((error as { name?: string } | null)?.name === 'NoModificationAllowedError') return false;
    throw error;
  }
}

/** One row of the snapshot catalog: the commit point of a snapshot. */
export interface SnapshotRow {
  store: string;
  seq: number;
  file: string;
  bytes: number;
  checksum: number;
  createdAt: number;
}

/** The snapshot catalog (IndexedDB in the browser). `put` must be durable when it resolves. */
export interface Catalog {
  /** Rows of one store, ascending by seq. */
  list(store: string): Promise<SnapshotRow[]>;
  /** Insert or replace a row, durably. */
  put(row: SnapshotRow): Promise<void>;
  /** Delete a row; deleting a missing row is not an error. */
  delete(store: string, seq: number): Promise<void>;
  /**
   * The lowest seq a checkpoint stream of `store` has reached (the minimum over streams of each
   * one's newest checkpoint), or undefined without checkpoints: history after it should be kept.
   */
  checkpointFloor(store: string): Promise<number | undefined>;
  /** When `store` was first opened, if it ever was: the evidence that files should exist. */
  createdAt(store: string): Promise<number | undefined>;
  /** Record, durably, that `store` now exists. */
  markCreated(store: string, createdAt: number): Promise<void>;
}

/**
 * Read `length` bytes at `at` into a new array, looping over short reads.
 *
 * @returns The bytes; shorter than `length` only at end of file.
 */
export function readAt(file: FileLike, at: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = file.read(buffer.subarray(done), { at: at + done });
    if (n <= 0) return buffer.subarray(0, done);
    done += n;
  }
  return buffer;
}

/** Write all of `bytes` at `at`, looping over short writes (Firefox reports quota as a short write). */
export function writeAt(file: FileLike, bytes: Uint8Array, at: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    const n = file.write(bytes.subarray(done), { at: at + done });
    if (n <= 0) {
      const error = new Error(`short write: ${done} of ${bytes.byteLength} bytes`);
      error.name = 'QuotaExceededError';
      throw error;
    }
    done += n;
  }
}
