// The bench page: one driver per system, the same workloads for each, timed in the page.
import { wrap, type Remote } from 'comlink';
import Dexie from 'dexie';
import { createStore, get as kvGet, getMany as kvGetMany, set as kvSet, setMany as kvSetMany, entries as kvEntries } from 'idb-keyval';
import { openStore, type Store } from '../../src/index.js';
import WaldenWorker from '../../src/worker.ts?worker';
import RawWorker from './raw-worker.ts?worker';
import SqliteWorker from './sqlite-worker.ts?worker';
import PingWorker from './ping-worker.ts?worker';
import type { SqliteApi } from './sqlite-worker.js';

/** What every system offers the workloads. */
interface Driver {
  open(name: string): Promise<void>;
  put(key: string, value: string | Uint8Array): Promise<unknown>;
  batch(entries: [string, string | Uint8Array][]): Promise<unknown>;
  get(key: string): Promise<unknown>;
  getMany(keys: string[]): Promise<unknown[]>;
  scanAll(): Promise<number>;
  close(): Promise<void>;
}

/** An auto-compaction threshold from the page's URL (`?compactThresholdBytes=`), for experiments; else the library's default. */
const compactThresholdBytes = Number(new URLSearchParams(location.search).get('compactThresholdBytes')) || undefined;

function walden(durability: 'strict' | 'relaxed', backend: 'auto' | 'indexeddb' = 'auto'): Driver {
  let store: Store;
  return {
    async open(name) {
      store = await openStore(name, { durability, backend, worker: new WaldenWorker(), ...(compactThresholdBytes ? { compactThresholdBytes } : {}) });
    },
    put: (key, value) => store.put(key, value),
    batch: (entries) => store.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value }))),
    get: (key) => store.get(key),
    getMany: (keys) => store.getMany(keys),
    async scanAll() {
      let n = 0;
      for await (const _ of store.scan()) n++;
      return n;
    },
    close: () => store.close(),
    compact: () => store.compact(),
    engineOpenMs: async () => (await store.info()).openMs,
  } as Driver;
}

function raw(): Driver {
  const worker = new RawWorker();
  let id = 0;
  const pending = new Map<number, (v: unknown) => void>();
  worker.onmessage = (event) => {
    pending.get(event.data.id)?.(event.data.result);
    pending.delete(event.data.id);
  };
  const call = (op: string, ...args: unknown[]) => new Promise<unknown>((resolve) => (pending.set(++id, resolve), worker.postMessage({ id, op, args })));
  return {
    open: async (name) => void (await call('open', name)),
    put: (key, value) => call('put', key, value),
    batch: (entries) => call('batch', entries),
    get: (key) => call('get', key),
    getMany: async (keys) => (await call('getMany', keys)) as unknown[],
    scanAll: async () => Number.NaN,
    close: async () => {
      await call('close');
      worker.terminate();
    },
  };
}

function idbKeyval(): Driver {
  let store: ReturnType<typeof createStore>;
  return {
    open: async (name) => void (store = createStore(`kv-${name}`, 'kv')),
    put: (key, value) => kvSet(key, value, store),
    batch: (entries) => kvSetMany(entries, store),
    get: (key) => kvGet(key, store),
    getMany: (keys) => kvGetMany(keys, store),
    scanAll: async () => (await kvEntries(store)).length,
    close: async () => {},
  };
}

function dexie(): Driver {
  let db: Dexie & { kv: Dexie.Table<{ k: string; v: string | Uint8Array }, string> };
  return {
    async open(name) {
      db = new Dexie(`dexie-${name}`) as typeof db;
      db.version(1).stores({ kv: 'k' });
      await db.open();
    },
    put: (k, v) => db.kv.put({ k, v }),
    batch: (entries) => db.kv.bulkPut(entries.map(([k, v]) => ({ k, v }))),
    get: async (k) => (await db.kv.get(k))?.v,
    getMany: async (keys) => (await db.kv.bulkGet(keys)).map((r) => r?.v),
    // toArray, not count(): every system reads every key and value in order.
    scanAll: async () => (await db.kv.orderBy('k').toArray()).length,
    close: async () => db.close(),
  };
}

function sqlite(): Driver {
  const worker = new SqliteWorker();
  const api: Remote<SqliteApi> = wrap<SqliteApi>(worker);
  return {
    open: (name) => api.open(name),
    put: (key, value) => api.put(key, value),
    batch: (entries) => api.batch(entries),
    get: (key) => api.get(key),
    getMany: (keys) => api.getMany(keys),
    scanAll: () => api.scanAll(),
    close: async () => {
      await api.close();
      worker.terminate();
    },
  };
}

const DRIVERS: Record<string, () => Driver> = {
  'walden (strict)': () => walden('strict'),
  'walden (relaxed)': () => walden('relaxed'),
  // The fallback backend (where OPFS sync handles are missing), strict, next to the main one.
  'walden (indexeddb)': () => walden('strict', 'indexeddb'),
  'raw OPFS limit': raw,
  'idb-keyval': idbKeyval,
  dexie,
  'sqlite-wasm (opfs-sahpool)': sqlite,
};

/** The shapes every library is given: 100-character string values, keys `k` + 8 digits. */
const value = (i: number) => `v${i}:`.padEnd(100, 'abcdefghijklmnopqrstuvwxyz'[i % 26]);
const key = (i: number) => `k${String(i).padStart(8, '0')}`;
/** Incompressible bytes (a value that compression could not shrink). */
function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536) crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65_536)));
  return bytes;
}

/** Run one workload on a fresh store of one system; returns operations per second (or ms). */
async function run(system: string, workload: string, tag: string): Promise<Record<string, number>> {
  const d = DRIVERS[system]!();
  await d.open(`${workload}-${tag}`);
  const time = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  let out: Record<string, number> = {};
  try {
    if (workload === 'single') {
      const ms = await time(async () => {
        for (let i = 0; i < 2000; i++) await d.put(key(i), value(i));
      });
      out = { opsPerSec: 2000 / (ms / 1000) };
    } else if (workload === 'concurrent') {
      let next = 0;
      const ms = await time(() =>
        Promise.all(
          Array.from({ length: 64 }, async () => {
            while (next < 20_000) {
              const i = next++;
              await d.put(key(i), value(i));
            }
          }),
        ),
      );
      out = { opsPerSec: 20_000 / (ms / 1000) };
    } else if (workload === 'bulk') {
      const ms = await time(async () => {
        for (let i = 0; i < 100_000; i += 1000) await d.batch(Array.from({ length: 1000 }, (_, j) => [key(i + j), value(i + j)] as [string, string]));
      });
      out = { opsPerSec: 100_000 / (ms / 1000) };
    } else if (workload === 'reads') {
      await loadKeys(d);
      const ms = await time(async () => {
        for (let i = 0; i < 10_000; i++) await d.get(key(Math.floor(Math.random() * 100_000)));
      });
      const manyMs = await time(async () => {
        for (let i = 0; i < 100; i++) await d.getMany(Array.from({ length: 100 }, () => key(Math.floor(Math.random() * 100_000))));
      });
      let scanned = 0;
      const scanMs = await time(async () => void (scanned = await d.scanAll()));
      // The raw limit keeps no ordered index: it has no scan (NaN).
      out = { getsPerSec: 10_000 / (ms / 1000), getManyMs: manyMs / 100, scanKeysPerSec: scanned / (scanMs / 1000) };
    } else if (workload === 'large') {
      const values = Array.from({ length: 200 }, () => randomBytes(256 * 1024));
      const ms = await time(async () => {
        for (let i = 0; i < 200; i++) await d.put(key(i), values[i]!);
      });
      out = { opsPerSec: 200 / (ms / 1000), mbPerSec: (200 * 0.25) / (ms / 1000) };
    }
  } finally {
    await d.close();
  }
  return out;
}

/** Load `keys` entries (W2's keys and values) into `d`, in batches of 1,000. */
async function loadKeys(d: Driver, keys = 100_000): Promise<void> {
  for (let i = 0; i < keys; i += 1000) await d.batch(Array.from({ length: Math.min(1000, keys - i) }, (_, j) => [key(i + j), value(i + j)] as [string, string]));
}

/** Prepare the cold-open store: 100,000 keys, compacted (Walden), then a 10 MB tail. */
async function prepareCold(system: string, tag: string): Promise<void> {
  const d = DRIVERS[system]!();
  await d.open(`cold-${tag}`);
  await loadKeys(d);
  if (system.startsWith('walden')) await (d as unknown as { compact?: () => Promise<void> }).compact?.();
  const tail = new Uint8Array(10_000).fill(7);
  for (let i = 0; i < 1000; i += 100) await d.batch(Array.from({ length: 100 }, (_, j) => [`tail:${i + j}`, tail] as [string, Uint8Array]));
  await d.close();
}

/**
 * The reopen shape (W4): 100,000 entries in 100 batches of 1,000 into a new store, then
 * `close()` (or, with `closeFirst` false, nothing: the reload ends the page as a crash would).
 */
async function prepareReopen(system: string, tag: string, closeFirst: boolean): Promise<Record<string, number>> {
  const d = DRIVERS[system]!();
  await d.open(`reopen-${tag}`);
  await loadKeys(d);
  if (!closeFirst) return {};
  const t = performance.now();
  await d.close();
  return { closeMs: performance.now() - t };
}

/** After the reload: open the store and get a random key until it answers; ms to the first value. */
async function reopen(system: string, tag: string): Promise<Record<string, number>> {
  const t = performance.now();
  const d = DRIVERS[system]!();
  await d.open(`reopen-${tag}`);
  const got = await d.get(key(Math.floor(Math.random() * 100_000)));
  const ms = performance.now() - t;
  if (got === undefined) throw new Error(`${system}: the reopened store lost its values`);
  // Walden: how much of it the engine's own open took (recovery: the snapshot's index, the log).
  const engineOpenMs = await (d as { engineOpenMs?: () => Promise<number> }).engineOpenMs?.();
  await d.close();
  return engineOpenMs === undefined ? { ms } : { ms, engineOpenMs, startedAt: performance.timeOrigin + t, answeredAt: performance.timeOrigin + t + ms };
}

/** Open the cold store after a reload and read one value: ms to the first value. */
async function coldOpen(system: string, tag: string): Promise<Record<string, number>> {
  const t = performance.now();
  const d = DRIVERS[system]!();
  await d.open(`cold-${tag}`);
  await d.get(key(12_345));
  const ms = performance.now() - t;
  await d.close();
  return { ms };
}

/** Many tabs: this tab's store (leader or follower), timed one awaited call at a time. */
let tabStore: Store | undefined;
const tabs = {
  async open(name: string): Promise<string> {
    tabStore = await openStore(name, { worker: new WaldenWorker() });
    return tabStore.role;
  },
  /** Per-call latencies (ms) of `count` awaited puts, then `count` gets of random written keys. */
  async latencies(count: number, offset: number): Promise<{ put: number[]; get: number[] }> {
    const put: number[] = [];
    const get: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await tabStore!.put(key(offset + i), value(i));
      put.push(performance.now() - t);
    }
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await tabStore!.get(key(offset + Math.floor(Math.random() * count)));
      get.push(performance.now() - t);
    }
    return { put, get };
  },
  async close(): Promise<void> {
    await tabStore?.close();
    tabStore = undefined;
  },
  /** This tab's role now. */
  role(): string | undefined {
    return tabStore?.role;
  },
  /** How long one put takes (through whichever tab leads). */
  async timedPut(k: string): Promise<number> {
    const t = performance.now();
    await tabStore!.put(k, 'probe');
    return performance.now() - t;
  },
};

/** Many tabs, the transports: a round trip between two tabs' dedicated workers. */
const transport = {
  worker: undefined as Worker | undefined,
  /** Start this tab's ping worker as the server (answers) on `kind`. */
  async serve(kind: 'bc' | 'port'): Promise<void> {
    const worker = (transport.worker = new PingWorker());
    if (kind === 'bc') {
      const listening = new Promise((r) => (worker.onmessage = r));
      worker.postMessage({ role: 'server', transport: 'bc' });
      await listening;
    } else {
      // The SharedWorker hands each client's port here; this page passes it on to its worker.
      const broker = new SharedWorker(new URL('./broker-worker.ts', import.meta.url), { type: 'module', name: 'walden-bench-broker' });
      const control = new MessageChannel();
      control.port1.onmessage = ({ ports }) => worker.postMessage({ role: 'server', transport: 'port', port: ports[0] }, [ports[0]!]);
      broker.port.postMessage('serve', [control.port2]);
    }
  },
  /** Round trips (ms) from this tab's worker to the server tab's, `count` of them, one at a time. */
  async ping(kind: 'bc' | 'port', count: number): Promise<number[]> {
    const worker = (transport.worker = new PingWorker());
    const done = new Promise<number[]>((r) => (worker.onmessage = (e) => r((e.data as { rtts: number[] }).rtts)));
    if (kind === 'bc') worker.postMessage({ role: 'client', transport: 'bc', count });
    else {
      const broker = new SharedWorker(new URL('./broker-worker.ts', import.meta.url), { type: 'module', name: 'walden-bench-broker' });
      const channel = new MessageChannel();
      broker.port.postMessage('connect', [channel.port1]);
      worker.postMessage({ role: 'client', transport: 'port', port: channel.port2, count }, [channel.port2]);
    }
    return done;
  },
  stop(): void {
    transport.worker?.terminate();
  },
};

/** For `bench/profile.mjs`: a store (of 100,000 keys unless told) held open, and a workload to run on it. */
let held: Driver | undefined;
const profiling = {
  async open(system: string, tag: string, keys = 100_000): Promise<void> {
    held = DRIVERS[system]!();
    await held.open(`profile-${tag}`);
    await loadKeys(held, keys);
  },
  async run(workload: string, count: number): Promise<number> {
    const t = performance.now();
    if (workload === 'reads') for (let i = 0; i < count; i++) await held!.get(key(Math.floor(Math.random() * 100_000)));
    else if (workload === 'single') for (let i = 0; i < count; i++) await held!.put(key(i), value(i));
    else if (workload === 'scan') await held!.scanAll();
    else if (workload === 'compact') await (held as unknown as { compact(): Promise<void> }).compact();
    else if (workload === 'large') {
      const big = new Uint8Array(256 * 1024).map((_, i) => i & 0xff);
      for (let i = 0; i < count; i++) await held!.put(key(i), big);
    }
    else if (workload === 'getMany') for (let i = 0; i < count; i++) await held!.getMany(Array.from({ length: 100 }, () => key(Math.floor(Math.random() * 100_000))));
    return (performance.now() - t) / count;
  },
  close: () => held!.close(),
};

/**
 * For `bench/read-latency.mjs`: one store of 100,000 keys per system, all open at once, so that
 * blocks of gets can alternate between them and every system meets the machine's same moments.
 */
let latencyStores: Driver[] = [];
const readLatency = {
  async open(systems: string[], tag: string): Promise<void> {
    latencyStores = [];
    for (const system of systems) {
      const d = DRIVERS[system]!();
      await d.open(`latency-${tag}-${latencyStores.length}`);
      await loadKeys(d);
      latencyStores.push(d);
    }
  },
  /** `count` awaited gets of random keys on the `which`th store: each one's latency in ms. */
  async block(which: number, count: number): Promise<number[]> {
    const d = latencyStores[which]!;
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await d.get(key(Math.floor(Math.random() * 100_000)));
      latencies.push(performance.now() - t);
    }
    return latencies;
  },
  async close(): Promise<void> {
    for (const d of latencyStores) await d.close();
    latencyStores = [];
  },
};

(window as unknown as { bench: object }).bench = { systems: Object.keys(DRIVERS), run, prepareCold, coldOpen, prepareReopen, reopen, tabs, transport, profiling, readLatency };
document.getElementById('status')!.textContent = 'ready';
