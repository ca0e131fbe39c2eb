/**
 * Frozen views: copies of the index (copy-on-write, so cheap) handed to readers that need one
 * state across many calls — a change-feed reader that was reset, and an export. A view pins the
 * files it reads: files compaction retires meanwhile are closed once no view is left.
 */
import { StoreError } from '../errors.js';
import { encodeUtf8 } from '../format/bytes.js';
import { SNAPSHOT_HEADER_BYTES, SNAPSHOT_INDEX_ENTRY_BYTES, SNAPSHOT_TRAILER_BYTES, SnapshotEncoder } from '../format/snapshot.js';
import type { BTree } from './btree.js';
import type { ValueLocation } from './location.js';
import type { FileLike } from './ports.js';

/** A reset view not read for this long is released (its reader went away). */
export const RESET_VIEW_IDLE_MS = 60_000;

/** A frozen copy of the index. */
export interface FrozenView {
  readonly index: BTree<string, ValueLocation>;
  readonly seq: number;
  usedAt: number;
  export?: ExportState;
}

/** Where an export of a view stands. */
interface ExportState {
  entries: Iterator<[string, ValueLocation]>;
  encoder: SnapshotEncoder;
  now: number;
  started: boolean;
}

/** How views read: a value's bytes, and whether an entry had expired at `now`. */
export interface ViewReader {
  read(location: ValueLocation, key: string): Uint8Array;
  expired(location: ValueLocation, now: number): boolean;
}

/** The engine's open views, by id. */
export class FrozenViews {
  readonly #views = new Map<number, FrozenView>();
  #nextId = 1;
  /** Files to close once no view can read them. */
  #deferredClose: FileLike[] = [];

  /** How many views are open (compaction retires old files only when none is). */
  get size(): number {
    return this.#views.size;
  }

  /** Freeze `index` at `seq`; the view stays until released or idle. */
  freeze(index: BTree<string, ValueLocation>, seq: number): number {
    const id = this.#nextId++;
    this.#views.set(id, { index: index.clone(), seq, usedAt: performance.now() });
    return id;
  }

  /**
   * The view `id`, marked as used.
   *
   * @throws {@link StoreError} `STORE_VIEW_EXPIRED` when it was released or went idle.
   */
  get(id: number): FrozenView {
    this.#expireIdle();
    const view = this.#views.get(id);
    if (!view) throw new StoreError('STORE_VIEW_EXPIRED', 'the frozen view expired or was released; start again');
    view.usedAt = performance.now();
    return view;
  }

  /** Release view `id`; with none left, close the files they pinned. */
  release(id: number): void {
    this.#views.delete(id);
    if (this.#views.size > 0) return;
    this.#closeDeferred();
  }

  /** Close `file` now, or once no view can read it. */
  closeWhenUnpinned(file: FileLike): void {
    if (this.#views.size === 0) closeQuietly(file);
    else this.#deferredClose.push(file);
  }

  /** Release every view and close what they pinned (the engine closes). */
  clear(): void {
    this.#views.clear();
    this.#closeDeferred();
  }

  /**
   * Start exporting view `id` as one snapshot file.
   *
   * @returns The exact size of the file.
   */
  beginExport(id: number, reader: ViewReader, now: number): number {
    const view = this.get(id);
    let bytes = SNAPSHOT_HEADER_BYTES + SNAPSHOT_TRAILER_BYTES;
    for (const [key, location] of view.index.entries()) {
      if (!reader.expired(location, now)) bytes += SNAPSHOT_INDEX_ENTRY_BYTES + encodeUtf8(key).byteLength + location.length;
    }
    view.export = { entries: view.index.entries(), encoder: new SnapshotEncoder(view.seq), now, started: false };
    return bytes;
  }

  /** The next bytes (about `maxBytes`) of an export; the last chunk has `done` and releases the view. */
  exportChunk(id: number, reader: ViewReader, maxBytes: number): { bytes: Uint8Array; done: boolean } {
    const state = this.get(id).export;
    if (!state) throw new TypeError('not an export view');
    const chunks: Uint8Array[] = [];
    let size = 0;
    const push = (bytes: Uint8Array) => {
      chunks.push(bytes);
      size += bytes.byteLength;
    };
    if (!state.started) {
      push(state.encoder.header());
      state.started = true;
    }
    let done = false;
    while (size < maxBytes) {
      const next = state.entries.next();
      if (next.done) {
        push(state.encoder.finish());
        done = true;
        break;
      }
      const [key, location] = next.value;
      if (reader.expired(location, state.now)) continue;
      push(state.encoder.value(key, reader.read(location, key), location.seq, location.crc, location.expiresAt));
    }
    if (done) this.release(id);
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) bytes.set(chunk, at), (at += chunk.byteLength);
    return { bytes, done };
  }

  #expireIdle(): void {
    const now = performance.now();
    for (const [id, view] of this.#views) if (now - view.usedAt > RESET_VIEW_IDLE_MS) this.release(id);
  }

  #closeDeferred(): void {
    for (const file of this.#deferredClose) closeQuietly(file);
    this.#deferredClose = [];
  }
}

/** Close a file, ignoring that it was closed already. */
export function closeQuietly(file: FileLike): void {
  try {
    file.close();
  } catch {
    // Closing twice, or after the platform already released it, is harmless.
  }
}
