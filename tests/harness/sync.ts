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
  /** A plain NATS client, for what a test does behind Walden's back. */
  get nats() {
    return natsDirect;
  },
  /** The sync benchmark's helpers. */
  get bench() {
    return syncBench;
  },
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
  snapshot: () => sync!.snapshot(),
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
  /** Delete keys `<prefix>0` … `<prefix><count - 1>` in one batch. */
  async remove(prefix: string, count: number): Promise<void> {
    await store().batch(Array.from({ length: count }, (_, i) => ({ type: 'del' as const, key: `${prefix}${i}` })));
  },
  /** Put `count` keys `<prefix><i>` with values `{ who, i }`, `parallel` at a time. */
  async write(prefix: string, count: number, who: string, parallel = 1, keys?: number): Promise<void> {
    for (let i = 0; i < count; i += parallel) {
      await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, (_, j) => store().put(`${prefix}${keys ? (i + j) % keys : i + j}`, { who, i: i + j })));
    }
  },
};

/** Straight to the server, as any NATS client (not through Walden): for forging messages and asking the stream. */
export const natsDirect = {
  async connect(servers: string[], user: string, pass: string) {
    const [{ wsconnect }, { jetstream, jetstreamManager }] = await Promise.all([import('@nats-io/nats-core'), import('@nats-io/jetstream')]);
    const nc = await wsconnect({ servers, user, pass });
    return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
  },
  /** Publish raw `bytes` to `subject` in the stream (a forged or malformed message). */
  async publish(servers: string[], user: string, pass: string, subject: string, bytes: number[]): Promise<number> {
    const { nc, js } = await natsDirect.connect(servers, user, pass);
    try {
      return (await js.publish(subject, Uint8Array.from(bytes))).seq;
    } finally {
      await nc.close();
    }
  },
  /** The stream's state and, in a cluster, which node leads it. */
  async streamInfo(servers: string[], user: string, pass: string, stream: string): Promise<{ messages: number; firstSeq: number; lastSeq: number; leader: string | undefined }> {
    const { nc, jsm } = await natsDirect.connect(servers, user, pass);
    try {
      const info = await jsm.streams.info(stream);
      return { messages: info.state.messages, firstSeq: info.state.first_seq, lastSeq: info.state.last_seq, leader: info.cluster?.leader };
    } finally {
      await nc.close();
    }
  },
  /** Purge the stream up to (not including) `keep` seq. */
  async purge(servers: string[], user: string, pass: string, stream: string, seq: number): Promise<void> {
    const { nc, jsm } = await natsDirect.connect(servers, user, pass);
    try {
      await jsm.streams.purge(stream, { seq });
    } finally {
      await nc.close();
    }
  },
};

/** What `bench/sync.mjs` drives in each device's page. */
export const syncBench = {
  received: new Map<string, number>(),
  /** Record the wall-clock time each key first arrives through watch(). */
  listen(): void {
    void (async () => {
      for await (const change of store().watch()) {
        if (change.type !== 'change') continue;
        const now = performance.timeOrigin + performance.now();
        for (const op of change.ops) if (!syncBench.received.has(op.key)) syncBench.received.set(op.key, now);
      }
    })();
  },
  /** Delete keys `<prefix>0` … `<prefix><count - 1>` in one batch. */
  async remove(prefix: string, count: number): Promise<void> {
    await store().batch(Array.from({ length: count }, (_, i) => ({ type: 'del' as const, key: `${prefix}${i}` })));
  },
  /** Put `count` keys `<prefix><i>` with 100-byte values, `inFlight` at a time; then flush. Answers wall-clock times. */
  async burst(prefix: string, count: number, inFlight: number): Promise<{ started: number; flushed: number }> {
    const started = performance.timeOrigin + performance.now();
    const value = 'v'.repeat(100);
    for (let i = 0; i < count; i += inFlight) await Promise.all(Array.from({ length: Math.min(inFlight, count - i) }, (_, j) => store().put(`${prefix}${i + j}`, value)));
    await sync!.flush();
    return { started, flushed: performance.timeOrigin + performance.now() };
  },
  /** Wait until `count` keys of `prefix` arrived; answers the last one's time. */
  async arrived(prefix: string, count: number): Promise<number> {
    for (;;) {
      const times = [...syncBench.received].filter(([k]) => k.startsWith(prefix)).map(([, t]) => t);
      if (times.length >= count) return Math.max(...times);
      await new Promise((r) => setTimeout(r, 5));
    }
  },
  /** Single puts `spacingMs` apart; answers each key's put time. */
  async singles(prefix: string, count: number, spacingMs: number): Promise<Record<string, number>> {
    const times: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      times[`${prefix}${i}`] = performance.timeOrigin + performance.now();
      await store().put(`${prefix}${i}`, 'v'.repeat(100));
      await new Promise((r) => setTimeout(r, spacingMs));
    }
    return times;
  },
  receivedTimes: (prefix: string) => Object.fromEntries([...syncBench.received].filter(([k]) => k.startsWith(prefix))),
  /** The plain NATS client's figures, from a worker of its own. */
  limit(servers: string[], user: string, pass: string, count: number, bytes: number, inFlight: number): Promise<{ publishPerSecond: number; consumePerSecond: number; latencies: number[] }> {
    const worker = new Worker(new URL('./nats-limit-worker.ts', import.meta.url), { type: 'module' });
    return new Promise((resolve) => {
      worker.onmessage = (event) => (worker.terminate(), resolve(event.data));
      worker.postMessage({ servers, user, pass, count, bytes, window: inFlight });
    });
  },
};
