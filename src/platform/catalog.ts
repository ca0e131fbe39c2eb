/**
 * The IndexedDB database `walden`: the snapshot catalog (the commit point of every snapshot)
 * and the application checkpoints. Every write uses a `durability: 'strict'` transaction,
 * because Chromium's `'default'` does not fsync.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Catalog, SnapshotRow } from '../engine/ports.js';
import type { CheckpointData } from '../format/checkpoint.js';

/** Name of the IndexedDB database shared by all stores of an origin. */
export const CATALOG_DB_NAME = 'walden';
/** Schema version of {@link CATALOG_DB_NAME}: 1 had `snapshots`; 2 adds `checkpoints`. */
export const CATALOG_DB_VERSION = 2;

/** One saved checkpoint as IndexedDB holds it: the checkpoint and its store. */
export interface CheckpointRow extends CheckpointData {
  store: string;
}

/** The typed schema of the catalog database. */
export interface CatalogSchema extends DBSchema {
  snapshots: {
    key: [string, number];
    value: SnapshotRow;
    indexes: { byStore: string };
  };
  checkpoints: {
    key: [string, string, number];
    value: CheckpointRow;
  };
  stores: {
    key: string;
    /** `createdAt`: the creation mark; `epoch`: the number of the latest leadership (see `tabs/`). */
    value: { store: string; createdAt?: number; epoch?: number };
  };
}

/** Open the catalog database, creating or upgrading its object stores. */
export function openCatalogDb(): Promise<IDBPDatabase<CatalogSchema>> {
  return openDB<CatalogSchema>(CATALOG_DB_NAME, CATALOG_DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) db.createObjectStore('snapshots', { keyPath: ['store', 'seq'] }).createIndex('byStore', 'store');
      if (oldVersion < 2) {
        db.createObjectStore('checkpoints', { keyPath: ['store', 'stream', 'sequence'] });
        db.createObjectStore('stores', { keyPath: 'store' });
      }
    },
  });
}

export { checkpointRange } from './ranges.js';
import { checkpointRange } from './ranges.js';

/** The {@link Catalog} over IndexedDB. */
export class IdbCatalog implements Catalog {
  /** @param db An open catalog database (see {@link openCatalogDb}). */
  constructor(readonly db: IDBPDatabase<CatalogSchema>) {}

  async list(store: string): Promise<SnapshotRow[]> {
    const rows = await this.db.getAllFromIndex('snapshots', 'byStore', store);
    return rows.sort((a, b) => a.seq - b.seq);
  }

  async put(row: SnapshotRow): Promise<void> {
    const tx = this.db.transaction('snapshots', 'readwrite', { durability: 'strict' });
    await Promise.all([tx.store.put(row), tx.done]);
  }

  async delete(store: string, seq: number): Promise<void> {
    const tx = this.db.transaction('snapshots', 'readwrite', { durability: 'strict' });
    await Promise.all([tx.store.delete([store, seq]), tx.done]);
  }

  /** Save a checkpoint row durably and evict the oldest of its stream beyond the newest `keep`. */
  async putCheckpoint(row: CheckpointRow, keep: number): Promise<void> {
    const tx = this.db.transaction('checkpoints', 'readwrite', { durability: 'strict' });
    await tx.store.put(row);
    const keys = await tx.store.getAllKeys(checkpointRange(row.store, row.stream));
    // Keys sort by sequence: evict from the oldest end.
    await Promise.all(keys.slice(0, Math.max(0, keys.length - keep)).map((key) => tx.store.delete(key)));
    await tx.done;
  }

  /** The newest checkpoint row of `stream` in `store`, or undefined. */
  async latestCheckpoint(store: string, stream: string): Promise<CheckpointRow | undefined> {
    const cursor = await this.db.transaction('checkpoints').store.openCursor(checkpointRange(store, stream), 'prev');
    return cursor?.value;
  }

  async checkpointFloor(store: string): Promise<number | undefined> {
    const newest = new Map<string, number>();
    for (const [, stream, sequence] of await this.db.getAllKeys('checkpoints', checkpointRange(store))) {
      newest.set(stream, Math.max(newest.get(stream) ?? 0, sequence));
    }
    return newest.size === 0 ? undefined : Math.min(...newest.values());
  }

  async createdAt(store: string): Promise<number | undefined> {
    return (await this.db.get('stores', store))?.createdAt;
  }

  async markCreated(store: string, createdAt: number): Promise<void> {
    const tx = this.db.transaction('stores', 'readwrite', { durability: 'strict' });
    const row = await tx.store.get(store);
    await Promise.all([tx.store.put({ ...row, store, createdAt }), tx.done]);
  }

  /** The latest leadership epoch any leader of `store` has started (0 before the first). */
  async epoch(store: string): Promise<number> {
    return (await this.db.get('stores', store))?.epoch ?? 0;
  }

  /**
   * Start a new leadership epoch of `store`: one more than the last, durably (a strict
   * transaction), so two leaders never share a number.
   *
   * @returns The new epoch (1 for the first leader ever).
   */
  async nextEpoch(store: string): Promise<number> {
    const tx = this.db.transaction('stores', 'readwrite', { durability: 'strict' });
    const row = await tx.store.get(store);
    const epoch = (row?.epoch ?? 0) + 1;
    await Promise.all([tx.store.put({ ...row, store, epoch }), tx.done]);
    return epoch;
  }

  /** Write checkpoint rows of `store` (an import), in one strict transaction. */
  async putCheckpoints(store: string, checkpoints: Omit<CheckpointRow, 'store'>[]): Promise<void> {
    const tx = this.db.transaction('checkpoints', 'readwrite', { durability: 'strict' });
    await Promise.all([...checkpoints.map((c) => tx.store.put({ ...c, store })), tx.done]);
  }

  /** Delete every snapshot row, checkpoint and the creation mark of `store`. */
  async deleteStore(store: string): Promise<void> {
    const tx = this.db.transaction(['snapshots', 'checkpoints', 'stores'], 'readwrite', { durability: 'strict' });
    const snapshots = tx.objectStore('snapshots');
    const keys = await snapshots.index('byStore').getAllKeys(store);
    await Promise.all([...keys.map((key) => snapshots.delete(key)), tx.objectStore('checkpoints').delete(checkpointRange(store)), tx.objectStore('stores').delete(store), tx.done]);
  }

  close(): void {
    this.db.close();
  }
}
