/**
 * `walden/storage`: a Walden store as the asynchronous key-value storage that state libraries
 * persist into — TanStack Query's async-storage persister, zustand's `persist` (as a
 * `StateStorage` of strings, or as a `PersistStorage` of objects with no JSON round trip),
 * redux-persist. Each `setItem` is one durable write; values are kept exactly as given
 * (structured clone), so objects need no serializing where the library allows it.
 */
import type { Store } from '../client/store.js';

/** What {@link createStorage} returns: the AsyncStorage shape, plus bulk listing for expiry. */
export interface WaldenStorage<V = unknown> {
  /** The value under `key`, or `null` when there is none (as AsyncStorage and localStorage answer). */
  getItem(key: string): Promise<V | null>;
  /** Store `value` under `key`; resolves once it is durable. */
  setItem(key: string, value: V): Promise<void>;
  /** Remove `key` (also when absent); resolves once durable. */
  removeItem(key: string): Promise<void>;
  /** Every key of this storage, in order. */
  keys(): Promise<string[]>;
  /** Every `[key, value]` of this storage, in key order. */
  entries(): Promise<[string, V][]>;
  /** Remove every key of this storage, atomically. */
  clear(): Promise<void>;
}

/** Options of {@link createStorage}. */
export interface StorageOptions {
  /** A prefix kept in front of every key, so several storages (or other data) can share one store. Default `''`. */
  prefix?: string;
}

function assertItemKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`storage keys are strings; got ${key === null ? 'null' : typeof key}`);
}

/**
 * A storage over `store`'s keys under `options.prefix`.
 *
 * @throws TypeError when `store` is not a Walden store or the prefix is not a string; each
 *   method throws TypeError for a key that is not a string, and rejects with the store's
 *   `StoreError` at run time (a closed store: `STORE_CLOSED`).
 */
export function createStorage<V = unknown>(store: Store, options: StorageOptions = {}): WaldenStorage<V> {
  if (typeof store !== 'object' || store === null || typeof (store as Partial<Store>).put !== 'function' || typeof (store as Partial<Store>).scan !== 'function') {
    throw new TypeError('createStorage takes a Walden store (from openStore)');
  }
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
  const own = async () => {
    const found: [string, V][] = [];
    for await (const [key, value] of store.scan({ prefix })) found.push([key.slice(prefix.length), value as V]);
    return found;
  };
  return {
    async getItem(key) {
      assertItemKey(key);
      const value = await store.get(prefix + key);
      return value === undefined ? null : (value as V);
    },
    async setItem(key, value) {
      assertItemKey(key);
      await store.put(prefix + key, value);
    },
    async removeItem(key) {
      assertItemKey(key);
      await store.delete(prefix + key);
    },
    async keys() {
      return (await own()).map(([key]) => key);
    },
    entries: own,
    async clear() {
      const keys = (await own()).map(([key]) => key);
      if (keys.length > 0) await store.batch(keys.map((key) => ({ type: 'del' as const, key: prefix + key })));
    },
  };
}
