/**
 * The middle of a compaction: writing a snapshot from the frozen index, and pointing the live
 * index at it. The engine does the rest (freezing, the catalog commit, retiring files).
 */
import { SnapshotEncoder } from '../format/snapshot.js';
import type { BTree } from './btree.js';
import type { KeyIndex } from './keyindex.js';
import type { ValueLocation } from './location.js';
import { writeAt, type FileLike } from './ports.js';
import type { OpenSnapshot } from './recovery.js';

/** A scan (and compaction) reads neighbouring values with one `read()` of up to this many bytes. */
export const SCAN_RUN_BYTES = 1024 * 1024;
/** Compaction reads values in batches of at most this many keys (and {@link SCAN_RUN_BYTES}). */
const COMPACTION_BATCH_KEYS = 512;
/** Snapshot values are gathered into writes of about this size. */
const SNAPSHOT_WRITE_BYTES = 1024 * 1024;

/** What writing a snapshot needs of the engine. */
export interface SnapshotSource {
  /** The values at `locations` (checked against their CRCs), neighbours read with one `read()`. */
  readRuns(keys: readonly string[], locations: readonly ValueLocation[]): Uint8Array[];
  expired(location: ValueLocation, now: number): boolean;
  /** @throws {@link StoreError} `STORE_CLOSED` once the store was closed (the compaction stops). */
  checkOpen(): void;
  /** One time slice, in ms. */
  sliceMs: number;
  yieldToEvents(): Promise<void>;
}

/**
 * Write `snap-<seq>.db` into `file` from the frozen index, in time slices (writes go on between
 * them), dropping expired values; then flush it.
 *
 * @returns The encoder, which knows the file's size and checksum.
 */
export async function writeSnapshot(file: FileLike, frozen: BTree<string, ValueLocation>, seq: number, now: number, source: SnapshotSource): Promise<SnapshotEncoder> {
  file.truncate(0);
  const encoder = new SnapshotEncoder(seq);
  let chunks: Uint8Array[] = [encoder.header()];
  let chunkBytes = chunks[0]!.byteLength;
  let at = 0;
  const drain = () => {
    const buffer = new Uint8Array(chunkBytes);
    let offset = 0;
    for (const chunk of chunks) {
      buffer.set(chunk, offset);
      offset += chunk.byteLength;
    }
    writeAt(file, buffer, at);
    at += buffer.byteLength;
    chunks = [];
    chunkBytes = 0;
  };
  // Values are read a batch at a time, neighbours with one read() (see the engine's `readRuns`).
  const keys: string[] = [];
  const locations: ValueLocation[] = [];
  let batchBytes = 0;
  const encodeBatch = () => {
    const values = source.readRuns(keys, locations);
    for (let i = 0; i < keys.length; i++) {
      const location = locations[i]!;
      chunks.push(encoder.value(keys[i]!, values[i]!, location.seq, location.crc, location.expiresAt));
      chunkBytes += values[i]!.byteLength;
      if (chunkBytes >= SNAPSHOT_WRITE_BYTES) drain();
    }
    keys.length = 0;
    locations.length = 0;
    batchBytes = 0;
  };
  let sliceStart = performance.now();
  for (const [key, location] of frozen.entries()) {
    // Expired values are dropped here; repointing then removes them from the index.
    if (source.expired(location, now)) continue;
    keys.push(key);
    locations.push(location);
    batchBytes += location.length;
    if (keys.length >= COMPACTION_BATCH_KEYS || batchBytes >= SCAN_RUN_BYTES) encodeBatch();
    if (performance.now() - sliceStart >= source.sliceMs) {
      encodeBatch();
      await source.yieldToEvents();
      source.checkOpen();
      sliceStart = performance.now();
    }
  }
  encodeBatch();
  const tail = encoder.finish();
  chunks.push(tail);
  chunkBytes += tail.byteLength;
  drain();
  file.flush();
  return encoder;
}

/** Point the keys untouched since the freeze at their values in the new snapshot, so older files are no longer read; drop expired ones. */
export async function repoint(frozen: BTree<string, ValueLocation>, index: KeyIndex, snapshot: OpenSnapshot, now: number, source: SnapshotSource): Promise<void> {
  let offset = new SnapshotEncoder(0).header().byteLength;
  let sliceStart = performance.now();
  for (const [key, location] of frozen.entries()) {
    // Only keys untouched since the freeze still hold the very same location object.
    const unchanged = index.get(key) === location;
    if (source.expired(location, now)) {
      if (unchanged) index.delete(key);
      continue;
    }
    if (unchanged) {
      index.set(key, { source: snapshot, offset, length: location.length, crc: location.crc, seq: location.seq, expiresAt: location.expiresAt });
    }
    offset += location.length;
    if (performance.now() - sliceStart >= source.sliceMs) {
      await source.yieldToEvents();
      sliceStart = performance.now();
    }
  }
}
