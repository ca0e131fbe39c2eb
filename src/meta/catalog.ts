/**
 * The IndexedDB database `walden`: the snapshot catalog (the commit point of every snapshot).
 * Every write uses a `durability: 'strict'` transaction, because Chromium's `'default'` does not fsync.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Catalog, SnapshotRow } from '../engine/files.js';

/** Name of the IndexedDB database shared by all stores of an origin. */
export const CATALOG_DB_NAME = 'walden';
/** Schema version of {@link CATALOG_DB_NAME}. */
export const CATALOG_DB_VERSION = 1;

/** The typed schema of the catalog database. */
export interface CatalogSchema extends DBSchema {
  snapshots: {
    key: [string, number];
    value: SnapshotRow;
    indexes: { byStore: string };
  };
}

/** Open the catalog database, creating its stores on first use. */
export function openCatalogDb(): Promise<IDBPDatabase<CatalogSchema>> {
  return openDB<CatalogSchema>(CATALOG_DB_NAME, CATALOG_DB_VERSION, {
    upgrade(db) {
      const snapshots = db.createObjectStore('snapshots', { keyPath: ['store', 'seq'] });
      snapshots.createIndex('byStore', 'store');
    },
  });
}

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

  /** Delete every row of `store`. */
  async deleteStore(store: string): Promise<void> {
    const tx = this.db.transaction('snapshots', 'readwrite', { durability: 'strict' });
    const keys = await tx.store.index('byStore').getAllKeys(store);
    await Promise.all([...keys.map((key) => tx.store.delete(key)), tx.done]);
  }

  close(): void {
    this.db.close();
  }
}
