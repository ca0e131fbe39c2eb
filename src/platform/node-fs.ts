/**
 * The engine's ports over `node:fs`, for Node, Electron and edge runtimes with a file system:
 * a {@link FileLike} over a file descriptor (`flush` is `fdatasync`), a {@link Directory} of a
 * store's folder, and a {@link Catalog} kept in that folder as `catalog.json` (replaced
 * atomically: written, synced, renamed, and the folder synced). Synchronous calls, as the
 * engine expects of a file; one process at a time per store (not enforced).
 */
import { closeSync, constants, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog, Directory, FileLike, SnapshotRow } from '../engine/ports.js';

/** A file open for reading and writing. */
export class NodeFile implements FileLike {
  #fd: number | undefined;

  constructor(fd: number) {
    this.#fd = fd;
  }

  #open(): number {
    if (this.#fd === undefined) throw new Error('the file was already closed');
    return this.#fd;
  }
  read(buffer: Uint8Array, { at }: { at: number }): number {
    return readSync(this.#open(), buffer, 0, buffer.byteLength, at);
  }
  write(buffer: Uint8Array, { at }: { at: number }): number {
    let done = 0;
    while (done < buffer.byteLength) done += writeSync(this.#open(), buffer, done, buffer.byteLength - done, at + done);
    return done;
  }
  truncate(size: number): void {
    ftruncateSync(this.#open(), size);
  }
  getSize(): number {
    return fstatSync(this.#open()).size;
  }
  flush(): void {
    fdatasyncSync(this.#open());
  }
  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Make the folder's own entries (creates, renames, removes) durable. */
function syncFolder(path: string): void {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const CATALOG_FILE = 'catalog.json';

/** A store's folder. */
export class NodeDirectory implements Directory {
  readonly backend = 'node-fs' as const;
  /** @param path The store's folder (created if missing). */
  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
  }

  async list(): Promise<string[]> {
    return readdirSync(this.path, { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name !== CATALOG_FILE && !entry.name.endsWith('.tmp'))
      .map((entry) => entry.name)
      .sort();
  }

  async open(name: string, options: { create?: boolean } = {}): Promise<FileLike> {
    const path = join(this.path, name);
    try {
      return new NodeFile(openSync(path, constants.O_RDWR | (options.create ? constants.O_CREAT : 0), 0o644));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DOMException(`${name} not found`, 'NotFoundError');
      throw error;
    } finally {
      if (options.create) syncFolder(this.path);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      unlinkSync(join(this.path, name));
      syncFolder(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

interface CatalogFile {
  rows: SnapshotRow[];
  createdAt?: number;
}

/** The snapshot catalog of one store, in its folder. Checkpoints are a browser feature (IndexedDB): none here. */
export class NodeCatalog implements Catalog {
  /** @param path The store's folder. */
  constructor(readonly path: string) {}

  #read(): CatalogFile {
    try {
      return JSON.parse(readFileSync(join(this.path, CATALOG_FILE), 'utf8')) as CatalogFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { rows: [] };
      throw error;
    }
  }

  /** Replace the catalog: write a temporary file, sync it, rename it over the old one, sync the folder. */
  #write(catalog: CatalogFile): void {
    const tmp = join(this.path, `${CATALOG_FILE}.tmp`);
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
    try {
      writeSync(fd, JSON.stringify(catalog));
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.path, CATALOG_FILE));
    syncFolder(this.path);
  }

  async list(store: string): Promise<SnapshotRow[]> {
    return this.#read().rows.filter((row) => row.store === store).sort((a, b) => a.seq - b.seq);
  }
  async put(row: SnapshotRow): Promise<void> {
    const catalog = this.#read();
    catalog.rows = [...catalog.rows.filter((r) => !(r.store === row.store && r.seq === row.seq)), { ...row }];
    this.#write(catalog);
  }
  async delete(store: string, seq: number): Promise<void> {
    const catalog = this.#read();
    catalog.rows = catalog.rows.filter((r) => !(r.store === store && r.seq === seq));
    this.#write(catalog);
  }
  async checkpointFloor(): Promise<number | undefined> {
    return undefined;
  }
  async createdAt(): Promise<number | undefined> {
    return this.#read().createdAt;
  }
  async markCreated(_store: string, createdAt: number): Promise<void> {
    this.#write({ ...this.#read(), createdAt });
  }
}
