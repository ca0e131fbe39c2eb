/**
 * The adapters in use, as an app uses them: `walden/storage` under TanStack Query's
 * async-storage persister, zustand's `persist` and redux-persist, each storing objects (no JSON).
 * `write` persists a state; after a page reload, `read` restores it through the same library.
 */
import { QueryClient } from '@tanstack/query-core';
import { persistQueryClientRestore, persistQueryClientSave } from '@tanstack/query-persist-client-core';
import { createAsyncStoragePersister } from '@tanstack/query-async-storage-persister';
import { createStore as createZustand } from 'zustand/vanilla';
import { persist, type PersistStorage } from 'zustand/middleware';
import { legacy_createStore as createRedux, type Reducer } from 'redux';
import { persistReducer, persistStore } from 'redux-persist';
import { openStore as openWith, type Store } from '../../src/index.js';
import WaldenWorker from '../../src/worker.ts?worker';
import { createStorage } from '../../src/adapters/storage.js';

/** Open `name` with a worker of the harness's build (the dev server has no built `worker.js`). */
const openStore = (name: string) => openWith(name, { worker: new WaldenWorker() });

/** A state with what JSON would lose: a Date, a Map, a typed array, -0. */
const sample = () => ({ at: new Date(1_700_000_000_000), tags: new Map([['a', 1]]), bytes: Uint8Array.of(1, 2, 3), zero: -0, text: 'hé' });

interface Counter {
  count: number;
  extra: ReturnType<typeof sample> | null;
  bump(by: number): void;
}

function tanstackPersister(store: Store) {
  // The persister types its storage as strings; with serialize/deserialize as identities it
  // hands the dehydrated client over as an object, which Walden keeps exactly.
  const storage = createStorage<unknown>(store, { prefix: 'tanstack:' }) as unknown as Parameters<typeof createAsyncStoragePersister>[0]['storage'];
  return createAsyncStoragePersister({ storage, throttleTime: 0, serialize: (client) => client as unknown as string, deserialize: (stored) => stored as unknown as never });
}

function zustandCounter(store: Store) {
  return createZustand<Counter>()(
    persist((set) => ({ count: 0, extra: null, bump: (by) => set((s) => ({ count: s.count + by, extra: sample() })) }), {
      name: 'counter',
      storage: createStorage(store, { prefix: 'zustand:' }) as PersistStorage<Counter>,
      partialize: (s) => ({ count: s.count, extra: s.extra }) as Counter,
    }),
  );
}

type Todos = { items: string[]; extra: ReturnType<typeof sample> | null };
const todos: Reducer<Todos> = (state = { items: [], extra: null }, action) => (action.type === 'add' ? { items: [...state.items, (action as unknown as { text: string }).text], extra: sample() } : state);

function reduxStore(store: Store) {
  const reducer = persistReducer({ key: 'root', storage: createStorage(store, { prefix: 'redux:' }), serialize: false, deserialize: false } as never, todos);
  const redux = createRedux(reducer);
  return { redux, persistor: persistStore(redux) };
}

export const adapters = {
  /** Persist one state through each library into store `name`. */
  async write(name: string): Promise<void> {
    const store = await openStore(name);
    const queryClient = new QueryClient();
    await queryClient.prefetchQuery({ queryKey: ['todo', 1], queryFn: async () => ({ id: 1, title: 'persisted', extra: sample() }) });
    await persistQueryClientSave({ queryClient, persister: tanstackPersister(store) });

    const counter = zustandCounter(store);
    await counter.persist.rehydrate();
    counter.getState().bump(3);
    counter.getState().bump(4);

    const { redux, persistor } = reduxStore(store);
    await new Promise<void>((resolve) => (persistor.getState().bootstrapped ? resolve() : persistor.subscribe(() => persistor.getState().bootstrapped && resolve())));
    redux.dispatch({ type: 'add', text: 'one' });
    redux.dispatch({ type: 'add', text: 'two' });
    await persistor.flush();
    // zustand's setItem is not awaited by the library: give its two writes a moment, then close (which waits for them).
    await new Promise((r) => setTimeout(r, 50));
    await store.close();
  },

  /** Restore each library's state from store `name` (after a reload). */
  async read(name: string) {
    const store = await openStore(name);
    const queryClient = new QueryClient();
    await persistQueryClientRestore({ queryClient, persister: tanstackPersister(store) });
    const query = queryClient.getQueryData(['todo', 1]);

    const counter = zustandCounter(store);
    await counter.persist.rehydrate();
    const { count, extra } = counter.getState();

    const { redux, persistor } = reduxStore(store);
    await new Promise<void>((resolve) => (persistor.getState().bootstrapped ? resolve() : persistor.subscribe(() => persistor.getState().bootstrapped && resolve())));
    const { items, extra: reduxExtra } = redux.getState() as Todos;
    const keys = await createStorage(store).keys();
    await store.close();
    return { query, zustand: { count, extra }, redux: { items, extra: reduxExtra }, keys, expected: sample() };
  },

  /** Bad input: what each misuse throws. */
  async misuse(name: string): Promise<string[]> {
    const store = await openStore(name);
    const storage = createStorage(store);
    const thrown: string[] = [];
    const attempt = async (fn: () => unknown) => {
      try {
        await fn();
        thrown.push('nothing');
      } catch (error) {
        thrown.push(`${(error as Error).name}${(error as { code?: string }).code ? ` ${(error as { code: string }).code}` : ''}`);
      }
    };
    await attempt(() => createStorage(null as never));
    await attempt(() => createStorage(store, { prefix: 1 as never }));
    await attempt(() => storage.getItem(1 as never));
    await attempt(() => storage.setItem('fn', () => 1));
    await storage.setItem('kept', { a: 1 });
    // The refused value wrote nothing.
    thrown.push(`keys ${JSON.stringify(await storage.keys())}`);
    await store.close();
    await attempt(() => storage.getItem('kept'));
    return thrown;
  },
};
