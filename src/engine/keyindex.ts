/**
 * The in-memory index of an open store (key → where its value lives), in key order.
 *
 * Opening a store does not decode the snapshot's keys. Until the B-tree is built, a point read
 * is a binary search over the snapshot's index footer (in memory, checksum verified) under an
 * overlay of what the log changed since; the tree is built right after the open in time slices,
 * or at once by the first call that needs order (a scan, a compaction, a feed reset).
 */
import { StoreError } from '../errors.js';
import type { SnapshotIndexView } from '../format/snapshot.js';
import { bulkLoad, emptyTree, type BTree } from './btree.js';
import { isReserved } from '../keys.js';
import { RESERVED_PREFIX } from '../keys.js';
import type { Source, ValueLocation } from './location.js';

/** The snapshot's index still being read, and how far the tree's arrays have got. */
interface LazyBase {
  readonly view: SnapshotIndexView;
  readonly source: Source;
  readonly keys: string[];
  readonly locations: ValueLocation[];
}

/** Key → {@link ValueLocation}, ordered; see the module comment for how it is built. */
export class KeyIndex {
  #tree: BTree<string, ValueLocation> | undefined;
  #base: LazyBase | undefined;
  /** Until the tree exists: each key written since the snapshot, with its location or null (deleted). */
  readonly #overlay = new Map<string, ValueLocation | null>();
  #size = 0;
  #reserved = 0;

  private constructor(tree: BTree<string, ValueLocation> | undefined, base: LazyBase | undefined) {
    this.#tree = tree;
    this.#base = base;
  }

  /** An index over an existing tree (an empty store, or one built by {@link bulkLoad}). */
  static ofTree(tree: BTree<string, ValueLocation> = emptyTree()): KeyIndex {
    return new KeyIndex(tree, undefined);
  }

  /** An index over a snapshot's (verified) index footer, whose values live in `source`. */
  static ofSnapshot(view: SnapshotIndexView, source: Source): KeyIndex {
    const index = new KeyIndex(undefined, { view, source, keys: [], locations: [] });
    index.#size = view.length;
    for (let i = view.lowerBound(RESERVED_PREFIX); i < view.length && isReserved(view.keyAt(i)); i++) index.#reserved++;
    return index;
  }

  /** Whether the B-tree exists yet. */
  get built(): boolean {
    return this.#tree !== undefined;
  }

  /** Number of keys, Walden's reserved ones included. */
  get size(): number {
    return this.#tree ? this.#tree.size : this.#size;
  }

  /** Number of Walden's reserved keys (ledger entries). */
  reservedCount(): number {
    if (!this.#tree) return this.#reserved;
    let count = 0;
    for (const [key] of this.#tree.entries(RESERVED_PREFIX)) {
      if (!isReserved(key)) break;
      count++;
    }
    return count;
  }

  get(key: string): ValueLocation | undefined {
    if (this.#tree) return this.#tree.get(key);
    const changed = this.#overlay.get(key);
    if (changed !== undefined) return changed ?? undefined;
    const base = this.#base!;
    const i = base.view.find(key);
    return i < 0 ? undefined : locationOf(base, i);
  }

  set(key: string, location: ValueLocation): void {
    if (this.#tree) {
      this.#tree.set(key, location);
      return;
    }
    if (!this.get(key)) this.#count(key, 1);
    this.#overlay.set(key, location);
  }

  delete(key: string): void {
    if (this.#tree) {
      this.#tree.delete(key);
      return;
    }
    if (this.get(key)) this.#count(key, -1);
    this.#overlay.set(key, null);
  }

  #count(key: string, delta: number): void {
    this.#size += delta;
    if (isReserved(key)) this.#reserved += delta;
  }

  /**
   * The B-tree, built now if it is not yet.
   *
   * @throws {@link StoreError} `STORE_CORRUPTION` when the snapshot lists keys out of order.
   */
  tree(): BTree<string, ValueLocation> {
    if (!this.#tree) this.#buildUntil(Number.POSITIVE_INFINITY);
    return this.#tree!;
  }

  /**
   * Build the tree in slices of about `sliceMs`, letting other work run between them (a call
   * that needs the tree meanwhile finishes it at once).
   */
  async buildInBackground(sliceMs: number, yieldToEvents: () => Promise<void>, stopped: () => boolean): Promise<void> {
    while (!this.#tree && !stopped()) {
      this.#buildUntil(performance.now() + sliceMs);
      if (!this.#tree) await yieldToEvents();
    }
  }

  /** Decode the snapshot's entries until `deadline`; past the last one, make the tree. */
  #buildUntil(deadline: number): void {
    const base = this.#base!;
    const { view, keys, locations } = base;
    for (let i = keys.length; i < view.length; i++) {
      const key = view.keyAt(i);
      if (i > 0 && !(key > keys[i - 1]!)) throw new StoreError('STORE_CORRUPTION', `${base.source.name}: the index lists keys out of order`);
      keys.push(key);
      locations.push(locationOf(base, i));
      if ((i & 127) === 0 && performance.now() > deadline) return;
    }
    const tree = bulkLoad(keys, locations);
    for (const [key, location] of this.#overlay) {
      if (location) tree.set(key, location);
      else tree.delete(key);
    }
    this.#overlay.clear();
    this.#base = undefined;
    this.#tree = tree;
  }
}

function locationOf(base: LazyBase, i: number): ValueLocation {
  const entry = base.view.entryAt(i);
  return { source: base.source, offset: entry.valueOffset, length: entry.valueLength, crc: entry.valueCrc, seq: entry.seq, expiresAt: entry.expiresAt };
}
