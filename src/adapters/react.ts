/**
 * `walden/react`: React hooks over a Walden store. `useValue` and `useScan` return live results
 * (through `useSyncExternalStore`), kept by one shared `watch()` per store, so writes from this
 * tab and from every other tab show up; a result keeps its identity until a change touches it.
 * The first read and the live feed meet at a seq (`store.scanAt`): no change between them is
 * missed or applied twice. `useStore` opens a store for the components that use it.
 */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { openStore, type OpenStoreOptions } from '../client/open.js';
import type { Store } from '../client/store.js';
import type { ScanRange } from '../protocol.js';
import { assertKey, assertScanRange } from '../keys.js';
import { LiveQueries, type Entry } from './live.js';

export type { Entry } from './live.js';

const NO_SUBSCRIPTION = () => () => {};
const NO_RESULT = () => undefined;

function assertStoreOrNothing(store: unknown, hook: string): asserts store is Store | null | undefined {
  if (store === undefined || store === null) return;
  if (typeof store !== 'object' || typeof (store as Partial<Store>).scanAt !== 'function' || typeof (store as Partial<Store>).watch !== 'function') {
    throw new TypeError(`${hook} takes a Walden store (from openStore or useStore), or undefined while it opens`);
  }
}

function useLive(store: Store | null | undefined, id: string, range: ScanRange): readonly Entry[] | undefined {
  const live = store ? LiveQueries.of(store) : undefined;
  // `id` stands for `range` (a new object on every render).
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const subscribe = useCallback(live ? (onChange: () => void) => live.subscribe(id, range, onChange) : NO_SUBSCRIPTION, [live, id]);
  const result = useCallback(live ? () => live.result(id) : NO_RESULT, [live, id]);
  return useSyncExternalStore(subscribe, result, result);
}

/**
 * The value under `key`, kept current: `undefined` while the store opens or the first read is
 * on its way, and when the key is absent. The same object is returned until the key is written.
 *
 * @throws TypeError for a bad key or something other than a store; the store's `StoreError`
 *   (to the nearest error boundary) when reading fails.
 */
export function useValue<T = unknown>(store: Store | null | undefined, key: string): T | undefined {
  assertStoreOrNothing(store, 'useValue');
  assertKey(key);
  const entries = useLive(store, `key\u0000${key}`, { gte: key, lte: key });
  return entries?.[0]?.[1] as T | undefined;
}

/**
 * The `[key, value]` entries of `range` in key order (see `store.scan`), kept current:
 * `undefined` until the first read answers. The array keeps its identity until a change touches
 * the range, and each entry until its key is written.
 *
 * @throws TypeError for a bad range or something other than a store; the store's `StoreError`
 *   (to the nearest error boundary) when reading fails.
 */
export function useScan<T = unknown>(store: Store | null | undefined, range: ScanRange = {}): readonly Entry<T>[] | undefined {
  assertStoreOrNothing(store, 'useScan');
  assertScanRange(range);
  const id = `range\u0000${JSON.stringify([range.prefix, range.gt, range.gte, range.lt, range.lte, range.limit, range.reverse === true])}`;
  return useLive(store, id, range) as readonly Entry<T>[] | undefined;
}

interface SharedStore {
  readonly opening: Promise<Store>;
  users: number;
}

/** Stores opened by `useStore`, shared by name among the components that use them. */
const OPENED = new Map<string, SharedStore>();

function acquire(name: string, options: OpenStoreOptions | undefined): SharedStore {
  let shared = OPENED.get(name);
  if (!shared) {
    const opening = openStore(name, options);
    const made: SharedStore = { opening, users: 0 };
    // A failed open is not kept: the next mount tries again.
    opening.catch(() => OPENED.get(name) === made && OPENED.delete(name));
    OPENED.set(name, (shared = made));
  }
  shared.users += 1;
  return shared;
}

function release(name: string, shared: SharedStore): void {
  shared.users -= 1;
  // Strict Mode and remounts take the store again at once: close a tick later if nobody did.
  setTimeout(() => {
    if (shared.users > 0 || OPENED.get(name) !== shared) return;
    OPENED.delete(name);
    shared.opening.then((store) => store.close()).catch(() => {});
  }, 0);
}

/**
 * Open store `name` (with `options`, see `openStore`) while a component using it is mounted:
 * `undefined` until it is open; components using the same name share one store, closed when
 * the last of them unmounts. Options apply when the store is first opened.
 *
 * @throws TypeError for a name that is not a string; the open's `StoreError` (to the nearest
 *   error boundary) when it fails.
 */
export function useStore(name: string, options?: OpenStoreOptions): Store | undefined {
  if (typeof name !== 'string') throw new TypeError('useStore takes a store name (a string)');
  const [opened, setOpened] = useState<{ name: string; store?: Store; error?: unknown }>();
  useEffect(() => {
    const shared = acquire(name, options);
    let mounted = true;
    shared.opening.then(
      (store) => mounted && setOpened({ name, store }),
      (error: unknown) => mounted && setOpened({ name, error }),
    );
    return () => {
      mounted = false;
      release(name, shared);
    };
    // The options of the first open apply; a new object each render must not reopen.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [name]);
  if (opened?.name !== name) return undefined;
  if (opened.error !== undefined) throw opened.error;
  return opened.store;
}
