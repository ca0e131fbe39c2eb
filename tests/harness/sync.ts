/**
 * Sync in use: the harness store synced with a stream, what its `watch()` delivered (to check
 * every record arrives once), and its full state.
 */
import type { Change, Store, Sync, SyncOptions } from '../../src/index.js';

let sync: Sync | undefined;
const states: string[] = [];
/** Every change the watcher saw: [seq, key, value or null for a delete]. */
let seen: [number, string, unknown][] = [];
let resets = 0;
let watching: AsyncGenerator<Change> | undefined;

const store = (): Store => {
  const s = (window as unknown as { harness: { store?: Store } }).harness.store;
  if (!s) throw new Error('open a store first');
  return s;
};

export const syncHarness = {
  /** Start syncing the harness store; states are recorded. */
  async start(options: SyncOptions): Promise<string> {
    sync = await store().sync(options);
    states.length = 0;
    states.push(sync.state);
    sync.addEventListener('state', () => states.push(sync!.state));
    return sync.state;
  },
  /** Start with these options and answer the error's code and message (or 'ok'). */
  async startError(options: SyncOptions): Promise<string> {
    try {
      const s = await store().sync(options);
      await s.flush();
      return 'ok';
    } catch (error) {
      return `${(error as Error).name} ${(error as { code?: string }).code ?? ''} ${(error as Error).message}`;
    }
  },
  states: () => [...states],
  state: () => sync?.state,
  info: () => sync!.info(),
  flush: () => sync!.flush(),
  pulled: () => sync!.pulled(),
  close: () => sync?.close(),
  /** Wait until the sync's state is `state` (or `ms` passed); answers the last state. */
  async waitFor(state: string, ms = 20_000): Promise<string | undefined> {
    const deadline = performance.now() + ms;
    while (sync?.state !== state && performance.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    return sync?.state;
  },
  /** Watch the whole store from `since` (0: from the start), keeping every change. */
  watch(since = 0) {
    seen = [];
    resets = 0;
    watching = store().watch({ since });
    void (async () => {
      for await (const change of watching!) {
        if (change.type === 'reset') {
          resets++;
          continue;
        }
        for (const op of change.ops) seen.push([change.seq, op.key, op.type === 'put' ? op.value : null]);
      }
    })();
  },
  seen: () => ({ seen, resets }),
  stopWatching: () => watching?.return(undefined),
  /** The whole store, in key order, values as JSON. */
  async scan(): Promise<[string, string][]> {
    const entries: [string, string][] = [];
    for await (const [key, value] of store().scan()) entries.push([key, JSON.stringify(value)]);
    return entries;
  },
  /** Put `count` keys `<prefix><i>` with values `{ who, i }`, `parallel` at a time. */
  async write(prefix: string, count: number, who: string, parallel = 1, keys?: number): Promise<void> {
    for (let i = 0; i < count; i += parallel) {
      await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, (_, j) => store().put(`${prefix}${keys ? (i + j) % keys : i + j}`, { who, i: i + j })));
    }
  },
};
