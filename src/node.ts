/**
 * `walden/node`: the same store in Node (and Electron's main process, and edge runtimes with a
 * file system), over `node:fs`: `openStore(name, { dir })` keeps the store in `<dir>/<name>/`,
 * its engine in this process. The API is the browser's, with these differences: one process at
 * a time per store (not enforced; there are no tabs), no checkpoints or export (they need
 * IndexedDB and OPFS), and Blob values are refused (Node cannot read a Blob synchronously).
 */
import { join } from 'node:path';
import { Engine } from './engine/engine.js';
import { installWasmCrc32c } from './format/crc32c-wasm.js';
import { Store } from './client/store.js';
import { withValueCodec } from './host/values.js';
import { NodeCatalog, NodeDirectory } from './platform/node-fs.js';
import { StoreError } from './errors.js';
import type { Durability, EngineApi, RecordApi } from './protocol.js';
import type { Remote } from 'comlink';

export { Store, type BatchOp, type ExpiryOptions } from './client/store.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export type { Durability, ScanRange, StoreInfo, RecoveryReport } from './protocol.js';
export type { Change, ChangeOp, WatchOptions } from './client/feed.js';

/** Options of {@link openStore} in Node. */
export interface NodeOpenStoreOptions {
  /** The folder that holds the stores; this one lives in `<dir>/<name>/`. */
  dir: string;
  /** `'strict'` (default): a write resolves after `fdatasync`; `'relaxed'`: after the write, synced within 50 ms. */
  durability?: Durability;
  /** Compact automatically once the log since the last snapshot exceeds this (default 32 MiB). */
  compactThresholdBytes?: number;
}

const NAME_PATTERN = /^[^/\\\u0000]{1,200}$/;

function unsupported(what: string): never {
  throw new StoreError('STORE_UNSUPPORTED', `${what} is not available in walden/node`);
}

/** The worker's calls, answered by an engine in this process. */
function inProcess(engine: Engine): RecordApi {
  return {
    open: async () => unsupported('open'),
    commit: (writes) => engine.commit(writes),
    get: async (key) => engine.get(key),
    getMany: async (keys) => engine.getMany(keys),
    scan: async (range, pageSize) => engine.scan(range, pageSize),
    readChanges: (since, range, maxRecords, waitMs) => engine.readChanges(since, range, maxRecords, waitMs),
    wake: async () => engine.wake(),
    readResetView: async (view, afterKey, range, pageSize) => engine.readResetView(view, afterKey, range, pageSize),
    exportBegin: async () => unsupported('export'),
    exportChunk: async () => unsupported('export'),
    importArtifact: async () => unsupported('import'),
    compact: () => engine.compact(),
    info: async () => ({ ...engine.info(), role: 'leader' }),
    close: () => engine.close({ compact: true }),
    signal: () => {},
    sync: async () => unsupported('sync (it needs a browser worker)'),
    testingStall: () => unsupported('testingStall'),
    testingCrashBeforeAnswer: () => unsupported('testingCrashBeforeAnswer'),
    testingCrashOnTakeover: () => unsupported('testingCrashOnTakeover'),
  };
}

/**
 * Open (creating if needed) the store `name` in `options.dir`, recovering it after a crash.
 *
 * @throws TypeError for a bad name or options.
 * @throws {@link StoreError} `STORE_CORRUPTION` for damage that is not a torn tail.
 */
export async function openStore(name: string, options: NodeOpenStoreOptions): Promise<Store> {
  // Large checksums (a snapshot's index at open, large values) in WebAssembly once it compiles.
  void installWasmCrc32c();
  if (typeof name !== 'string' || !NAME_PATTERN.test(name) || name === '.' || name === '..') throw new TypeError('store name must be a string of 1 to 200 characters without "/", "\\" or NUL, and not "." or ".."');
  if (typeof options !== 'object' || options === null || typeof options.dir !== 'string') throw new TypeError('walden/node openStore needs { dir }: the folder that holds the stores');
  const durability = options.durability ?? 'strict';
  if (durability !== 'strict' && durability !== 'relaxed') throw new TypeError("durability must be 'strict' or 'relaxed'");
  const path = join(options.dir, name);
  const engine = await Engine.open(new NodeDirectory(path), new NodeCatalog(path), name, {
    durability,
    ...(options.compactThresholdBytes !== undefined ? { compactThresholdBytes: options.compactThresholdBytes } : {}),
    onBackgroundError: (error) => console.error('walden: background work failed', error),
  });
  const remote = withValueCodec(inProcess(engine)) as unknown as Remote<EngineApi>;
  const store = new Store(name, durability, remote, () => {});
  store._setRole('leader');
  return store;
}
