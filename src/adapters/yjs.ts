/**
 * `walden/yjs`: a Yjs persistence provider, as `y-indexeddb` is one, over a Walden store. Each
 * document update is one durable write; `whenSynced` resolves once the stored state is in the
 * document; after `compactEvery` updates the provider replaces the updates it holds by one state
 * update, atomically. Unlike `y-indexeddb`, edits made in other tabs reach the document live,
 * through the change feed.
 *
 * Keys, under `yjs:<name>/`: `u/<instance>/<n>` for each update a provider instance stored,
 * `s/<instance>` for its compacted state. A compaction deletes only keys whose content the
 * document already holds, so two tabs compacting at once lose nothing.
 */
import { applyUpdate, encodeStateAsUpdate, type Doc } from 'yjs';
import { openStore, type OpenStoreOptions } from '../client/open.js';
import type { Store } from '../client/store.js';
import { assertKey } from '../keys.js';

/** Options of {@link WaldenPersistence}. */
export interface WaldenPersistenceOptions {
  /** An open store to keep the document in (several documents may share one). Default: a store named after the document, opened and closed by the provider. */
  store?: Store;
  /** Options for the store the provider opens (when `store` is not given). */
  open?: OpenStoreOptions;
  /** Compact into one state update after this many updates stored or received. Default 500. */
  compactEvery?: number;
}

/** Updates stored or received before a compaction, by default. */
export const DEFAULT_COMPACT_EVERY = 500;

const randomInstance = () => Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Keeps `doc` in a Walden store under the name `name`: loads what is stored, stores every update,
 * applies other tabs' updates as they are committed. Events: `synced` once loaded, `error` (a
 * `CustomEvent` with `detail`) when storing or following fails.
 */
export class WaldenPersistence extends EventTarget {
  /** Resolves (with this provider) once the stored state has been applied to the document. */
  readonly whenSynced: Promise<this>;
  /** Whether the stored state has been applied. */
  synced = false;

  readonly #doc: Doc;
  readonly #prefix: string;
  readonly #instance = randomInstance();
  readonly #compactEvery: number;
  readonly #ownsStore: boolean;
  #store: Store | undefined;
  /** Keys whose content the document holds (what a compaction may delete). */
  readonly #applied = new Set<string>();
  #counter = 0;
  #sinceCompaction = 0;
  #compacting: Promise<void> | undefined;
  #lastWrite: Promise<unknown> = Promise.resolve();
  #watch: AsyncGenerator<unknown> | undefined;
  #destroyed = false;
  readonly #onUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin !== this) this.#storeUpdate(update);
  };

  /**
   * @throws TypeError for a bad name, something other than a Y.Doc, or bad options.
   */
  constructor(name: string, doc: Doc, options: WaldenPersistenceOptions = {}) {
    super();
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('WaldenPersistence takes a document name (a non-empty string)');
    if (typeof doc !== 'object' || doc === null || typeof (doc as Partial<Doc>).on !== 'function' || typeof (doc as Partial<Doc>).transact !== 'function') throw new TypeError('WaldenPersistence takes a Y.Doc');
    const compactEvery = options.compactEvery ?? DEFAULT_COMPACT_EVERY;
    if (!Number.isInteger(compactEvery) || compactEvery < 1) throw new TypeError('compactEvery must be a positive integer');
    this.#prefix = `yjs:${name}/`;
    assertKey(`${this.#prefix}s/${this.#instance}`, 'document name');
    this.#doc = doc;
    this.#compactEvery = compactEvery;
    this.#ownsStore = options.store === undefined;
    doc.on('update', this.#onUpdate);
    this.whenSynced = this.#load(options.store ? Promise.resolve(options.store) : openStore(name, options.open)).then(() => this);
    // A rejected whenSynced that nobody awaits must not go unhandled: it is also an `error` event.
    this.whenSynced.catch(() => {});
  }

  /** Resolves once every update made so far is durable. */
  async whenStored(): Promise<void> {
    await this.whenSynced;
    for (let last; last !== this.#lastWrite; ) await (last = this.#lastWrite);
  }

  /** Replace the stored updates this document holds by one state update, in one atomic write. */
  async compact(): Promise<void> {
    await this.whenSynced;
    this.#compacting ??= this.#compactNow().finally(() => (this.#compacting = undefined));
    return this.#compacting;
  }

  /** Stop storing and following (the document stays as it is); closes the store if the provider opened it. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#doc.off('update', this.#onUpdate);
    void this.#watch?.return(undefined);
    await this.#lastWrite.catch(() => {});
    if (this.#ownsStore) await this.#store?.close();
  }

  /** Delete everything stored for this document, then {@link destroy}. */
  async clearData(): Promise<void> {
    const store = await this.#ready();
    // Stop storing first, let the writes in flight land, then delete everything, then close.
    this.#doc.off('update', this.#onUpdate);
    await this.#lastWrite;
    const keys = (await store.scanAt({ prefix: this.#prefix })).entries.map(([key]) => key);
    if (keys.length > 0) await store.batch(keys.map((key) => ({ type: 'del' as const, key })));
    await this.destroy();
  }

  async #ready(): Promise<Store> {
    await this.whenSynced;
    return this.#store!;
  }

  async #load(opening: Promise<Store>): Promise<void> {
    const store = await opening;
    this.#store = store;
    const { entries, seq } = await store.scanAt({ prefix: this.#prefix });
    this.#doc.transact(() => {
      for (const [key, value] of entries) this.#applyStored(key, value);
    }, this);
    this.synced = true;
    this.dispatchEvent(new Event('synced'));
    void this.#follow(store, seq);
  }

  /** Apply other tabs' updates as the feed brings them (this provider's own keys are skipped). */
  async #follow(store: Store, since: number): Promise<void> {
    const own = `${this.#prefix}u/${this.#instance}/`;
    const watch = store.watch({ prefix: this.#prefix, since });
    this.#watch = watch;
    try {
      for await (const change of watch) {
        if (this.#destroyed) return;
        if (change.type === 'reset') continue; // the full state follows as puts: applying it again is harmless
        for (const op of change.ops) {
          if (op.type === 'del') this.#applied.delete(op.key);
          else if (!op.key.startsWith(own) && op.key !== `${this.#prefix}s/${this.#instance}`) {
            this.#applyStored(op.key, op.value);
            this.#counted();
          }
        }
      }
    } catch (error) {
      if (!this.#destroyed) this.#failed(error);
    }
  }

  #applyStored(key: string, value: unknown): void {
    // Stored values are untrusted: anything but bytes under our prefix is skipped, not applied.
    if (!(value instanceof Uint8Array)) return this.#failed(new TypeError(`${key} does not hold a Yjs update`));
    try {
      applyUpdate(this.#doc, value, this);
      this.#applied.add(key);
    } catch (error) {
      this.#failed(error);
    }
  }

  #storeUpdate(update: Uint8Array): void {
    if (this.#destroyed) return;
    const key = `${this.#prefix}u/${this.#instance}/${String(this.#counter++).padStart(10, '0')}`;
    const write = (async () => {
      const store = await this.#ready();
      await store.put(key, update);
      this.#applied.add(key);
    })();
    this.#lastWrite = write.catch((error: unknown) => this.#failed(error));
    this.#counted();
  }

  #counted(): void {
    if (++this.#sinceCompaction >= this.#compactEvery) void this.compact().catch((error: unknown) => this.#failed(error));
  }

  async #compactNow(): Promise<void> {
    const store = this.#store!;
    await this.#lastWrite;
    this.#sinceCompaction = 0;
    const state = encodeStateAsUpdate(this.#doc);
    const stateKey = `${this.#prefix}s/${this.#instance}`;
    const obsolete = [...this.#applied].filter((key) => key !== stateKey);
    await store.batch([{ type: 'put', key: stateKey, value: state }, ...obsolete.map((key) => ({ type: 'del' as const, key }))]);
    for (const key of obsolete) this.#applied.delete(key);
    this.#applied.add(stateKey);
  }

  #failed(error: unknown): void {
    this.dispatchEvent(new CustomEvent('error', { detail: error }));
  }
}
