/**
 * The worker side of the Comlink interface: takes the store's Web Lock, opens OPFS and the
 * IndexedDB catalog, and hands calls to the {@link Engine}. Wiring only.
 */
import { transfer } from 'comlink';
import { StoreError } from '../errors.js';
import type { ChangePage, EncodedOp, EngineApi, EngineOpenOptions, ResetPage, ScanPage, ScanRange, StoreInfo } from '../protocol.js';
import { IdbCatalog, openCatalogDb } from '../meta/catalog.js';
import { Engine, type CompactionPoint } from './engine.js';
import { openOpfsDirectory } from './opfs.js';
import { importIntoStore } from './import.js';

/** The Web Lock a store's owner holds: `walden:<name>`. */
export function lockName(store: string): string {
  return `walden:${store}`;
}

/** Take the lock without waiting; resolves with its release function, or undefined if it is held. */
function tryLock(name: string): Promise<(() => void) | undefined> {
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(undefined);
          return undefined;
        }
        return new Promise<void>((release) => resolve(() => release()));
      })
      .catch(reject);
  });
}

/**
 * Test-only: a compaction hook that stops the engine at `point` and tells the page, which then
 * terminates this worker (a worker cannot stop itself mid-task).
 */
function crashAt(point: string, halt: () => void): (at: CompactionPoint) => void {
  return (at) => {
    if (at !== point) return;
    halt();
    (self as unknown as { postMessage(message: unknown): void }).postMessage({ waldenTestingCrash: at });
    throw new Error(`walden/testing: crashed at compaction point ${at}`);
  };
}

const buffersOf = (values: (Uint8Array | undefined)[]) => values.filter((v): v is Uint8Array => v !== undefined).map((v) => v.buffer as ArrayBuffer);

/** Build the object `worker.ts` exposes: one store per worker. */
export function createEngineHost(): EngineApi {
  let engine: Engine | undefined;
  let catalog: IdbCatalog | undefined;
  let release: (() => void) | undefined;
  let opening = false;

  const open = () => {
    if (!engine) throw new StoreError('STORE_CLOSED', 'the store is not open');
    return engine;
  };

  return {
    async open(name: string, options: EngineOpenOptions): Promise<StoreInfo> {
      if (engine || opening) throw new StoreError('STORE_LOCKED', 'this worker already serves a store');
      opening = true;
      try {
        release = await tryLock(lockName(name));
        if (!release) throw new StoreError('STORE_LOCKED', `store ${JSON.stringify(name)} is open in another tab or worker`);
        const dir = await openOpfsDirectory(name);
        catalog = new IdbCatalog(await openCatalogDb());
        engine = await Engine.open(dir, catalog, name, {
          durability: options.durability,
          ...(options.compactThresholdBytes !== undefined ? { compactThresholdBytes: options.compactThresholdBytes } : {}),
          ...(options.historyBytes !== undefined ? { historyBytes: options.historyBytes } : {}),
          ...(options.crashAtCompactionPoint ? { atCompactionPoint: crashAt(options.crashAtCompactionPoint, () => engine?.halt()) } : {}),
          headroom: async () => {
            const { quota, usage } = await navigator.storage.estimate();
            return quota === undefined || usage === undefined ? undefined : quota - usage;
          },
          onBackgroundError: (error) => console.error('walden: background compaction failed', error),
        });
        return engine.info();
      } catch (error) {
        catalog?.close();
        release?.();
        catalog = undefined;
        release = undefined;
        throw error;
      } finally {
        opening = false;
      }
    },
    commit: (writes: EncodedOp[][]) => open().commit(writes),
    get(key: string) {
      const value = open().get(key);
      return value ? transfer(value, [value.buffer as ArrayBuffer]) : undefined;
    },
    getMany(keys: string[]) {
      const values = open().getMany(keys);
      return transfer(values, buffersOf(values));
    },
    scan(range: ScanRange, pageSize: number): ScanPage {
      const page = open().scan(range, pageSize);
      return transfer(page, buffersOf(page.entries.map(([, v]) => v)));
    },
    async readChanges(since: number, range: ScanRange, maxRecords: number, waitMs: number): Promise<ChangePage> {
      const page = await open().readChanges(since, range, maxRecords, waitMs);
      if (page.kind === 'reset') return page;
      const buffers = new Set(page.changes.flatMap((c) => c.ops.flatMap((op) => (op.type === 'put' ? [op.value.buffer as ArrayBuffer] : []))));
      return transfer(page, [...buffers]);
    },
    readResetView(view: number, afterKey: string | undefined, range: ScanRange, pageSize: number): ResetPage {
      const page = open().readResetView(view, afterKey, range, pageSize);
      return transfer(page, buffersOf(page.entries.map(([, v]) => v)));
    },
    wake: () => engine?.wake(),
    exportBegin: () => open().exportBegin(),
    exportChunk(view: number, maxBytes: number) {
      const chunk = open().exportChunk(view, maxBytes);
      return transfer(chunk, [chunk.bytes.buffer as ArrayBuffer]);
    },
    async importArtifact(name: string, artifact: Blob, options: { replace: boolean; expectedManifest?: string }): Promise<StoreInfo> {
      if (engine || opening) throw new StoreError('STORE_LOCKED', 'this worker already serves a store');
      const releaseLock = await tryLock(lockName(name));
      if (!releaseLock) throw new StoreError('STORE_LOCKED', `store ${JSON.stringify(name)} is open; close it before importing over it`);
      const db = new IdbCatalog(await openCatalogDb());
      try {
        return await importIntoStore(name, artifact, options, db);
      } finally {
        db.close();
        releaseLock();
      }
    },
    compact: () => open().compact(),
    info: () => open().info(),
    async close() {
      const current = engine;
      engine = undefined;
      await current?.close();
      catalog?.close();
      release?.();
      catalog = undefined;
      release = undefined;
    },
  };
}
