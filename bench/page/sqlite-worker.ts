// SQLite WASM with the opfs-sahpool VFS (a pool big enough for every database of a run: three
// files each), WAL mode with locking_mode=EXCLUSIVE and
// synchronous=FULL, so every commit is flushed. One statement set per call.
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { expose } from 'comlink';

type Db = { exec: (sql: string | { sql: string; bind?: unknown[]; rowMode?: string; returnValue?: string }) => unknown; close: () => void; prepare: (sql: string) => { bind: (v: unknown[]) => unknown; step: () => boolean; get: (i: number) => unknown; reset: () => void; finalize: () => void } };
let db: Db | undefined;
let pool: { OpfsSAHPoolDb: new (name: string) => Db } | undefined;

const api = {
  async open(name: string) {
    const sqlite3 = (await sqlite3InitModule()) as unknown as { installOpfsSAHPoolVfs: (o: object) => Promise<typeof pool> };
    pool ??= await sqlite3.installOpfsSAHPoolVfs({ name: 'bench-pool', initialCapacity: 200 });
    db = new pool!.OpfsSAHPoolDb(`/${name}.sqlite3`);
    db.exec('PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;');
  },
  put(key: string, value: string | Uint8Array) {
    db!.exec({ sql: 'INSERT OR REPLACE INTO kv VALUES (?, ?)', bind: [key, value] });
  },
  batch(entries: [string, string | Uint8Array][]) {
    db!.exec('BEGIN');
    const statement = db!.prepare('INSERT OR REPLACE INTO kv VALUES (?, ?)');
    for (const entry of entries) {
      statement.bind(entry);
      statement.step();
      statement.reset();
    }
    statement.finalize();
    db!.exec('COMMIT');
  },
  get(key: string) {
    const rows = db!.exec({ sql: 'SELECT v FROM kv WHERE k = ?', bind: [key], rowMode: 'array', returnValue: 'resultRows' }) as unknown[][];
    return rows[0]?.[0];
  },
  getMany(keys: string[]) {
    const rows = db!.exec({ sql: `SELECT k, v FROM kv WHERE k IN (${keys.map(() => '?').join(',')})`, bind: keys, rowMode: 'array', returnValue: 'resultRows' }) as [string, unknown][];
    const byKey = new Map(rows);
    return keys.map((k) => byKey.get(k));
  },
  scanAll() {
    const rows = db!.exec({ sql: 'SELECT k, v FROM kv ORDER BY k', rowMode: 'array', returnValue: 'resultRows' }) as unknown[];
    return rows.length;
  },
  close() {
    db?.close();
    db = undefined;
  },
};
expose(api);
export type SqliteApi = typeof api;
