/**
 * `walden/level`: a Walden store as an `abstract-level` database, for the Level ecosystem
 * (sublevels, encodings, `level-read-stream`, …), passing abstract-level's own test suite.
 *
 * Keys and values travel as bytes (`view`; abstract-level transcodes every other encoding). A
 * key's bytes become a Walden key of one character per byte (code points 0–255) behind a
 * `level:<location>/` prefix, so Walden's string order is Level's bytewise order, empty keys
 * work, and several databases can share one store.
 */
import { AbstractIterator, AbstractLevel, AbstractSnapshot } from 'abstract-level';
import { openStore, type OpenStoreOptions } from '../client/open.js';
import type { Store } from '../client/store.js';
import type { ScanRange } from '../protocol.js';
import { positionOf, scanSorted } from './sorted.js';
import type { Change, ChangeOp } from '../client/feed.js';

/** Options of {@link WaldenLevel}: abstract-level's (encodings) and where the data lives. */
export interface WaldenLevelOptions {
  /** An open store to keep this database in, beside other data (the database then neither opens nor closes it). Default: a store named `location`. */
  store?: Store;
  /** Options for the store the database opens (when `store` is not given). */
  open?: OpenStoreOptions;
  keyEncoding?: string;
  valueEncoding?: string;
}

/** Entries per round trip of an iterator. */
export const LEVEL_ITERATOR_PAGE_ENTRIES = 256;

const CHUNK = 8192;

/** `bytes` as one character per byte, behind `prefix` (the order of the strings is the bytes' order). */
function keyOf(prefix: string, bytes: Uint8Array): string {
  let key = prefix;
  for (let i = 0; i < bytes.length; i += CHUNK) key += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return key;
}

function bytesOf(prefix: string, key: string): Uint8Array {
  const bytes = new Uint8Array(key.length - prefix.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = key.charCodeAt(prefix.length + i);
  return bytes;
}

interface LevelRange {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  reverse?: boolean;
  limit?: number;
}

/** Level's range as Walden's: `gte`/`lte` take precedence over `gt`/`lt`, and everything stays under the prefix. */
function scanRangeOf(prefix: string, options: LevelRange): ScanRange {
  const range: ScanRange = { prefix };
  if (options.gte !== undefined) range.gte = keyOf(prefix, options.gte);
  else if (options.gt !== undefined) range.gt = keyOf(prefix, options.gt);
  if (options.lte !== undefined) range.lte = keyOf(prefix, options.lte);
  else if (options.lt !== undefined) range.lt = keyOf(prefix, options.lt);
  if (options.reverse) range.reverse = true;
  return range;
}

/**
 * An explicit snapshot (`db.snapshot()`): the database's entries, read in one round trip the
 * moment it is taken (writes made before are in it, writes after are not). It is a copy in the
 * page: its memory is the database's size.
 */
class WaldenSnapshot extends AbstractSnapshot {
  /** The entries in key order, once read. */
  readonly entries: Promise<[string, unknown][]>;

  constructor(options: { owner: unknown }, level: WaldenLevel<unknown, unknown>) {
    // @ts-expect-error abstract-level's types leave out the constructor's options ({ owner }), which it requires.
    super(options);
    this.entries = level.store.scanAt({ prefix: level.keyPrefix }).then(({ entries }) => entries.map(([key, value]): [string, unknown] => [key, value]));
    // Read errors surface on use; an unused snapshot must not reject unhandled.
    this.entries.catch(() => {});
  }
}

/** The EventEmitter methods the database uses (its types declare only abstract-level's own events). */
interface Emitter {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): boolean;
  listenerCount(event: string): number;
}

type LevelEntry = [Uint8Array, Uint8Array | undefined];

class WaldenIterator extends AbstractIterator<WaldenLevel<unknown, unknown>, Uint8Array, Uint8Array> {
  readonly #level: WaldenLevel<unknown, unknown>;
  readonly #range: ScanRange;
  readonly #limit: number;
  readonly #withValues: boolean;
  readonly #snapshot: WaldenSnapshot | undefined;
  #page: [string, unknown][] = [];
  /** Where the next page starts: after this key (in iteration order). */
  #last: string | undefined;
  /** A seek's target, until the next page is read. */
  #target: string | undefined;
  #ended = false;
  /** Entries handed out (abstract-level's own count does not move inside `_all`). */
  #yielded = 0;

  constructor(level: WaldenLevel<unknown, unknown>, options: LevelRange & { values?: boolean; snapshot?: unknown }) {
    super(level, options as never);
    this.#level = level;
    this.#range = scanRangeOf(level.keyPrefix, options);
    this.#limit = options.limit !== undefined && options.limit >= 0 ? options.limit : Number.POSITIVE_INFINITY;
    this.#withValues = options.values !== false;
    this.#snapshot = options.snapshot instanceof WaldenSnapshot ? options.snapshot : undefined;
  }

  async _next(): Promise<LevelEntry | undefined> {
    return (await this._nextv(1))[0];
  }

  async _nextv(size: number): Promise<LevelEntry[]> {
    if (this.#page.length === 0 && !this.#ended) await this.#read();
    const taken = this.#page.splice(0, Math.min(size, this.#limit - this.#yielded));
    this.#yielded += taken.length;
    return taken.map(([key, value]) => [bytesOf(this.#level.keyPrefix, key), this.#withValues ? (value as Uint8Array) : undefined]);
  }

  async _all(): Promise<LevelEntry[]> {
    const all: LevelEntry[] = [];
    for (;;) {
      const entries = await this._nextv(LEVEL_ITERATOR_PAGE_ENTRIES);
      if (entries.length === 0) return all;
      all.push(...entries);
    }
  }

  _seek(target: Uint8Array): void {
    this.#page = [];
    // A seek does not reset the limit: abstract-level counts entries across seeks.
    this.#last = undefined;
    this.#ended = false;
    this.#target = keyOf(this.#level.keyPrefix, target);
  }

  async #read(): Promise<void> {
    const remaining = this.#limit - this.#yielded;
    const range: ScanRange = { ...this.#range, limit: Math.max(0, Math.min(LEVEL_ITERATOR_PAGE_ENTRIES, remaining)) };
    const reverse = range.reverse === true;
    // Both bounds on a side apply (Walden's bounds intersect): the seek target or the last key joins the range's own.
    if (this.#target !== undefined) {
      if (reverse) range.lte = range.lte !== undefined && range.lte < this.#target ? range.lte : this.#target;
      else range.gte = range.gte !== undefined && range.gte > this.#target ? range.gte : this.#target;
    }
    if (this.#last !== undefined) {
      if (reverse) range.lt = this.#last;
      else range.gt = this.#last;
    }
    const entries = this.#snapshot ? scanSorted(await this.#snapshot.entries, range) : (await this.#level.store.scanAt(range)).entries;
    this.#page = entries.map(([key, value]): [string, unknown] => [key, value]);
    if (entries.length < range.limit!) this.#ended = true;
    const last = entries[entries.length - 1];
    if (last) this.#last = last[0];
  }
}

/**
 * A Level database (`abstract-level`) in a Walden store: `await db.put(key, value)` is one
 * durable Walden write, `db.batch()` one atomic record; iterators read pages of
 * {@link LEVEL_ITERATOR_PAGE_ENTRIES} (without implicit snapshots: an iterator sees writes that
 * land while it runs, as `supports.implicitSnapshots: false` declares).
 */
export class WaldenLevel<K = string, V = string> extends AbstractLevel<Uint8Array, K, V> {
  /** The prefix of this database's keys in the store. */
  readonly keyPrefix: string;
  readonly #location: string;
  readonly #given: Store | undefined;
  readonly #openOptions: OpenStoreOptions | undefined;
  #store: Store | undefined;
  /** Seqs of this database's own writes (not announced again when the feed brings them). */
  readonly #ownSeqs = new Set<number>();
  readonly #writing = new Set<Promise<unknown>>();
  #feed: AsyncGenerator<Change> | undefined;

  /** @throws TypeError for a location that is not a non-empty string. */
  constructor(location: string, options: WaldenLevelOptions = {}) {
    if (typeof location !== 'string' || location.length === 0) throw new TypeError('WaldenLevel takes a location (a non-empty string)');
    const { store, open, ...levelOptions } = options;
    super({ encodings: { view: true }, has: true, implicitSnapshots: false, explicitSnapshots: true, seek: true, createIfMissing: false, errorIfExists: false, permanence: true }, levelOptions);
    this.keyPrefix = `level:${location}/`;
    this.#location = location;
    this.#given = store;
    this.#openOptions = open;
    // Other tabs' writes are announced too, once somebody listens for them.
    this.#events.on('newListener', (event: unknown) => {
      if (event === 'write' && this.status === 'open') this.#follow();
    });
    this.#events.on('open', () => {
      if (this.#events.listenerCount('write') > 0) this.#follow();
    });
  }

  /** The Walden store under this database (while it is open). */
  get store(): Store {
    if (!this.#store) throw new TypeError('the database is not open');
    return this.#store;
  }

  async _open(): Promise<void> {
    this.#store = this.#given ?? (await openStore(this.#location, this.#openOptions));
  }

  async _close(): Promise<void> {
    void this.#feed?.return(undefined);
    this.#feed = undefined;
    if (!this.#given) await this.#store?.close();
    this.#store = undefined;
  }

  async _get(key: Uint8Array, options: { snapshot?: unknown } = {}): Promise<Uint8Array | undefined> {
    return (await this._getMany([key], options))[0];
  }

  async _getMany(keys: Uint8Array[], options: { snapshot?: unknown } = {}): Promise<(Uint8Array | undefined)[]> {
    const walden = keys.map((key) => keyOf(this.keyPrefix, key));
    if (options.snapshot instanceof WaldenSnapshot) {
      const entries = await options.snapshot.entries;
      return walden.map((key) => {
        const at = positionOf(entries, key);
        return entries[at]?.[0] === key ? (entries[at]![1] as Uint8Array) : undefined;
      });
    }
    return (await this.store.getMany(walden)) as (Uint8Array | undefined)[];
  }

  async _has(key: Uint8Array, options: { snapshot?: unknown } = {}): Promise<boolean> {
    return (await this._hasMany([key], options))[0]!;
  }

  async _hasMany(keys: Uint8Array[], options: { snapshot?: unknown } = {}): Promise<boolean[]> {
    // `undefined` is a value Walden can store, but not one Level writes: absent means no entry.
    return (await this._getMany(keys, options)).map((value) => value !== undefined);
  }

  _snapshot(options: { owner: unknown }): WaldenSnapshot {
    return new WaldenSnapshot(options, this as WaldenLevel<unknown, unknown>);
  }

  async _put(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.#own(this.store.put(keyOf(this.keyPrefix, key), value));
  }

  async _del(key: Uint8Array): Promise<void> {
    await this.#own(this.store.delete(keyOf(this.keyPrefix, key)));
  }

  async _batch(operations: ({ type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array })[]): Promise<void> {
    await this.#own(this.store.batch(operations.map((op) => (op.type === 'put' ? { type: 'put', key: keyOf(this.keyPrefix, op.key), value: op.value } : { type: 'del', key: keyOf(this.keyPrefix, op.key) }))));
  }

  /** The database as the EventEmitter it is (abstract-level's types declare only its own events). */
  get #events(): Emitter {
    return this as unknown as Emitter;
  }

  /** Remember a write of this database by its seq (while any is in flight, the feed waits). */
  async #own(writing: Promise<number>): Promise<void> {
    this.#writing.add(writing);
    try {
      const seq = await writing;
      if (this.#feed) this.#ownSeqs.add(seq);
    } finally {
      this.#writing.delete(writing);
    }
  }

  /**
   * Announce writes made elsewhere (another tab, another database on the same store) as
   * `write` events, decoded with the default encodings and marked `remote: true`; this
   * database's own writes are announced by abstract-level already.
   */
  #follow(): void {
    if (this.#feed || !this.#store) return;
    const store = this.#store;
    const prefix = this.keyPrefix;
    const since = store.info().then((info) => info.seq);
    const feed = (async function* () {
      yield* store.watch({ prefix, since: await since });
    })();
    this.#feed = feed;
    void (async () => {
      for await (const change of feed) {
        if (change.type !== 'change') continue;
        // A write of ours may be committed before its seq is known here: wait for those in flight.
        if (this.#writing.size > 0) await Promise.allSettled([...this.#writing]);
        if (this.#ownSeqs.delete(change.seq)) continue;
        this.#events.emit('write', change.ops.map((op) => this.#announced(op)));
      }
    })().catch((error: unknown) => {
      // The feed stopped (the store failed): say so to whoever listens; without a listener, `emit('error')` would throw.
      if (this.#events.listenerCount('error') > 0) this.#events.emit('error', error);
    });
  }

  #announced(op: ChangeOp) {
    const keyEncoding = this.keyEncoding();
    const encodedKey = bytesOf(this.keyPrefix, op.key);
    const key = keyEncoding.decode(encodedKey as never);
    if (op.type === 'del') return { type: 'del' as const, key, keyEncoding, encodedKey, remote: true };
    const valueEncoding = this.valueEncoding();
    return { type: 'put' as const, key, value: valueEncoding.decode(op.value as never), keyEncoding, valueEncoding, encodedKey, encodedValue: op.value, remote: true };
  }

  _iterator(options: LevelRange & { values?: boolean; snapshot?: unknown }): WaldenIterator {
    return new WaldenIterator(this as WaldenLevel<unknown, unknown>, options);
  }

  /** Delete a range (or everything) in one atomic batch; with a snapshot, the range's keys as the snapshot has them. */
  async _clear(options: LevelRange & { snapshot?: unknown }): Promise<void> {
    const range = scanRangeOf(this.keyPrefix, options);
    if (options.limit !== undefined && options.limit >= 0) range.limit = options.limit;
    const entries = options.snapshot instanceof WaldenSnapshot ? scanSorted(await options.snapshot.entries, range) : (await this.store.scanAt(range)).entries;
    if (entries.length > 0) await this.store.batch(entries.map(([key]) => ({ type: 'del' as const, key })));
  }

}
