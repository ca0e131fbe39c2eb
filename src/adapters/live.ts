/**
 * Live query results over one store, for `walden/react`: the entries of a key or a range, kept
 * current by one `watch()` shared by every query of the store. A query is read with
 * `store.scanAt()` (the state at a seq) and moved forward by exactly the changes after that seq,
 * so no change is missed or applied twice; a result keeps its identity (and each entry its
 * identity) until a change touches it.
 */
import type { Store } from '../client/store.js';
import type { Change } from '../client/feed.js';
import type { ScanRange } from '../protocol.js';
import { keyInRange } from '../keys.js';
import { positionOf } from './sorted.js';

/** One entry of a live result. */
export type Entry<V = unknown> = readonly [key: string, value: V];

interface Query {
  readonly range: ScanRange;
  readonly listeners: Set<() => void>;
  /** The seq whose state `entries` is. */
  seq: number;
  /** Undefined until the first read has answered. */
  entries: readonly Entry[] | undefined;
  /** The seq that wrote each entry's value (an entry whose key was not written again keeps its identity through a reload). */
  written: Map<string, number>;
  /** Changes heard while a read was on its way; undefined when none is. */
  heard: Change[] | undefined;
  /** Read again once the current read answers (a reset, or a change to a limited range, came meanwhile). */
  again: boolean;
  error: unknown;
}

const LIVE_BY_STORE = new WeakMap<Store, LiveQueries>();

/** The live queries of one store (one instance per store, see {@link LiveQueries.of}). */
export class LiveQueries {
  /** The instance for `store`, made on first use. */
  static of(store: Store): LiveQueries {
    let live = LIVE_BY_STORE.get(store);
    if (!live) LIVE_BY_STORE.set(store, (live = new LiveQueries(store)));
    return live;
  }

  readonly #store: Store;
  readonly #queries = new Map<string, Query>();
  /** The shared watch's starting seq; undefined when no watch runs. */
  #since: Promise<number> | undefined;
  #watch: AsyncGenerator<Change> | undefined;

  private constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Follow the query `id` (one id per distinct range); `listener` runs after each change to its
   * result. Returns the unsubscribe function.
   */
  subscribe(id: string, range: ScanRange, listener: () => void): () => void {
    let query = this.#queries.get(id);
    if (!query) {
      query = { range, listeners: new Set(), seq: 0, entries: undefined, written: new Map(), heard: undefined, again: false, error: undefined };
      this.#queries.set(id, query);
      this.#startWatch();
      void this.#read(query);
    }
    const own = query;
    own.listeners.add(listener);
    return () => {
      own.listeners.delete(listener);
      // React often subscribes again at once (Strict Mode, new props): drop the query a tick later.
      setTimeout(() => {
        if (own.listeners.size > 0 || this.#queries.get(id) !== own) return;
        this.#queries.delete(id);
        if (this.#queries.size === 0) this.#stopWatch();
      }, 0);
    };
  }

  /** The result of query `id`: undefined until it is read. @throws what made the query fail. */
  result(id: string): readonly Entry[] | undefined {
    const query = this.#queries.get(id);
    if (query?.error !== undefined) throw query.error;
    return query?.entries;
  }

  #startWatch(): void {
    if (this.#since) return;
    const since = this.#store.info().then((info) => info.seq);
    this.#since = since;
    const run = async () => {
      const watch = this.#store.watch({ since: await since });
      this.#watch = watch;
      for await (const change of watch) {
        if (this.#since !== since) return;
        this.#hear(change);
      }
    };
    run().catch((error: unknown) => {
      if (this.#since !== since) return;
      for (const query of this.#queries.values()) this.#fail(query, error);
    });
  }

  #stopWatch(): void {
    this.#since = undefined;
    void this.#watch?.return(undefined);
    this.#watch = undefined;
  }

  async #read(query: Query): Promise<void> {
    query.heard = [];
    try {
      // Read only once the watch's start is fixed: every change after the read's seq then reaches the watch.
      await this.#since;
      const { entries, seq } = await this.#store.scanAt(query.range);
      if (query.again) {
        query.again = false;
        return await this.#read(query);
      }
      const heard = query.heard;
      query.heard = undefined;
      const before = new Map((query.entries ?? []).map((entry) => [entry[0], entry]));
      const fresh = entries.map(([key, value, writtenSeq]): Entry => {
        const kept = before.get(key);
        return kept && query.written.get(key) === writtenSeq ? kept : [key, value];
      });
      query.written = new Map(entries.map(([key, , writtenSeq]) => [key, writtenSeq]));
      const same = query.entries !== undefined && fresh.length === query.entries.length && fresh.every((entry, i) => entry === query.entries![i]);
      if (!same) query.entries = fresh;
      query.seq = seq;
      let changed = !same;
      for (const change of heard) changed = this.#apply(query, change) || changed;
      if (changed) this.#notify(query);
    } catch (error) {
      query.heard = undefined;
      this.#fail(query, error);
    }
  }

  #hear(change: Change): void {
    for (const query of this.#queries.values()) {
      if (change.type === 'reset') this.#readAgain(query);
      else if (query.heard) query.heard.push(change);
      else if (query.entries && this.#apply(query, change)) this.#notify(query);
    }
  }

  #readAgain(query: Query): void {
    if (query.heard) query.again = true;
    else void this.#read(query);
  }

  /** Move `query` forward by `change` (skipped when the query's state already holds it). Returns whether its entries changed. */
  #apply(query: Query, change: Change): boolean {
    if (change.type !== 'change' || change.seq <= query.seq) return false;
    query.seq = change.seq;
    const reverse = query.range.reverse === true;
    let next: Entry[] | undefined;
    for (const op of change.ops) {
      if (!keyInRange(op.key, query.range)) continue;
      // A limited window may gain or lose its edge entries: read it again.
      if (query.range.limit !== undefined) {
        this.#readAgain(query);
        return false;
      }
      const entries = next ?? query.entries!;
      const i = positionOf(entries, op.key, reverse);
      const found = entries[i]?.[0] === op.key;
      if (op.type === 'del' && !found) continue;
      next ??= [...entries];
      if (op.type === 'put') next.splice(i, found ? 1 : 0, [op.key, op.value]);
      else next.splice(i, 1);
      if (op.type === 'put') query.written.set(op.key, change.seq);
      else query.written.delete(op.key);
    }
    if (!next) return false;
    query.entries = next;
    return true;
  }

  #fail(query: Query, error: unknown): void {
    query.error = error ?? new Error('live query failed');
    this.#notify(query);
  }

  #notify(query: Query): void {
    for (const listener of [...query.listeners]) listener();
  }
}
