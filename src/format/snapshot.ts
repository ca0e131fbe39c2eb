/**
 * Snapshot codec: every live key and value as of one seq, sorted by key, with an index
 * footer and checksums. The grammar is in docs/format.md.
 */
import { COMBINE_MIN_BYTES, crc32c, crc32cCombine } from './crc32c.js';
import { decodeUtf8At, encodeUtf8Into, getUint64, setUint64, viewOf } from './bytes.js';

/** ASCII `WALDNSNP`: the first 8 bytes of a snapshot. */
export const SNAPSHOT_MAGIC = Uint8Array.from([0x57, 0x41, 0x4c, 0x44, 0x4e, 0x53, 0x4e, 0x50]);
/** ASCII `WALDNEND`: the last 8 bytes of a complete snapshot. */
export const SNAPSHOT_END_MAGIC = Uint8Array.from([0x57, 0x41, 0x4c, 0x44, 0x4e, 0x45, 0x4e, 0x44]);
/** The snapshot format version this build writes and reads. */
export const SNAPSHOT_FORMAT_VERSION = 1;
/** Header: magic (8) | version u32 | reserved u32 | seq u64. */
export const SNAPSHOT_HEADER_BYTES = 24;
/** Trailer: index offset u64 | entry count u64 | index crc u32 | file crc u32 | end magic (8). */
export const SNAPSHOT_TRAILER_BYTES = 32;
/** Fixed part of one index entry: key length u32 | value length u32 | value offset u64 | value crc u32 | seq u64 | expires at f64. */
export const SNAPSHOT_INDEX_ENTRY_BYTES = 36;

/** One key of a snapshot as the index footer describes it. */
export interface SnapshotEntry {
  key: string;
  /** Absolute offset of the value bytes in the file. */
  valueOffset: number;
  valueLength: number;
  valueCrc: number;
  /** The seq of the write that produced this value. */
  seq: number;
  /** When the value expires, in ms since the epoch; 0 for never. */
  expiresAt: number;
}

/** The decoded header and trailer of a snapshot. */
export interface SnapshotLayout {
  seq: number;
  indexOffset: number;
  count: number;
  indexCrc: number;
  fileCrc: number;
}

/**
 * Streams a snapshot out: call {@link SnapshotEncoder.header}, then {@link SnapshotEncoder.value}
 * for each key in ascending order, then {@link SnapshotEncoder.finish}. Each returns the bytes to
 * append next; the encoder tracks offsets and the running checksums.
 */
export class SnapshotEncoder {
  #offset = 0;
  #fileCrc = 0;
  /** The index footer so far, in a buffer that doubles as it fills (one DataView, no object per key). */
  #index = new Uint8Array(64 * 1024);
  #indexView = viewOf(this.#index);
  #entryBytes = 0;
  #count = 0;
  #header: Uint8Array | undefined;

  /** @param seq The seq the snapshot is taken at. */
  constructor(readonly seq: number) {}

  /** The header bytes (always the first chunk). */
  header(): Uint8Array {
    const bytes = new Uint8Array(SNAPSHOT_HEADER_BYTES);
    const view = viewOf(bytes);
    bytes.set(SNAPSHOT_MAGIC, 0);
    view.setUint32(8, SNAPSHOT_FORMAT_VERSION, true);
    setUint64(view, 16, this.seq);
    this.#header = bytes;
    return this.#emit(bytes);
  }

  /**
   * Add one key; keys must come in ascending order.
   *
   * @param valueCrc The value's CRC-32C when the caller already has it (it is computed
   *   otherwise). It must be the CRC of these very bytes (callers pass one they have just
   *   checked the bytes against): it extends the file checksum, so each value of
   *   {@link COMBINE_MIN_BYTES} or more is summed once.
   * @returns The value bytes to append (the same array).
   */
  value(key: string, value: Uint8Array, seq: number, valueCrc = crc32c(value), expiresAt = 0): Uint8Array {
    // A UTF-8 key takes at most 3 bytes per UTF-16 unit.
    this.#reserve(SNAPSHOT_INDEX_ENTRY_BYTES + key.length * 3);
    const at = this.#entryBytes;
    const keyLength = encodeUtf8Into(key, this.#index, at + SNAPSHOT_INDEX_ENTRY_BYTES);
    const view = this.#indexView;
    view.setUint32(at, keyLength, true);
    view.setUint32(at + 4, value.byteLength, true);
    setUint64(view, at + 8, this.#offset);
    view.setUint32(at + 16, valueCrc, true);
    setUint64(view, at + 20, seq);
    view.setFloat64(at + 28, expiresAt, true);
    this.#entryBytes = at + SNAPSHOT_INDEX_ENTRY_BYTES + keyLength;
    this.#count++;
    this.#fileCrc = value.byteLength >= COMBINE_MIN_BYTES ? crc32cCombine(this.#fileCrc, valueCrc, value.byteLength) : crc32c(value, this.#fileCrc);
    this.#offset += value.byteLength;
    return value;
  }

  /** The index footer and trailer: the last chunk. */
  finish(): Uint8Array {
    const indexOffset = this.#offset;
    const bytes = new Uint8Array(this.#entryBytes + SNAPSHOT_TRAILER_BYTES);
    bytes.set(this.#index.subarray(0, this.#entryBytes));
    const at = this.#entryBytes;
    this.#index = new Uint8Array(0);
    this.#indexView = viewOf(this.#index);
    const view = viewOf(bytes);
    setUint64(view, at, indexOffset);
    setUint64(view, at + 8, this.#count);
    // The index checksum also covers the header, so opening can trust both without reading values.
    const indexCrc = crc32c(bytes.subarray(0, at + 16), crc32c(this.#header ?? new Uint8Array(0)));
    view.setUint32(at + 16, indexCrc, true);
    const fileCrc = crc32c(bytes.subarray(0, at + 20), this.#fileCrc);
    view.setUint32(at + 20, fileCrc, true);
    bytes.set(SNAPSHOT_END_MAGIC, at + 24);
    this.#fileCrc = fileCrc;
    this.#offset += bytes.byteLength;
    return bytes;
  }

  /** Total bytes emitted so far (the file size once finished). */
  get bytes(): number {
    return this.#offset;
  }

  /** The whole-file checksum; final after {@link SnapshotEncoder.finish}. */
  get checksum(): number {
    return this.#fileCrc;
  }

  /** Make room for `bytes` more bytes of index. */
  #reserve(bytes: number): void {
    if (this.#entryBytes + bytes <= this.#index.byteLength) return;
    const grown = new Uint8Array(Math.max(this.#index.byteLength * 2, this.#entryBytes + bytes));
    grown.set(this.#index.subarray(0, this.#entryBytes));
    this.#index = grown;
    this.#indexView = viewOf(grown);
  }

  #emit(bytes: Uint8Array): Uint8Array {
    this.#fileCrc = crc32c(bytes, this.#fileCrc);
    this.#offset += bytes.byteLength;
    return bytes;
  }
}

/** Why a snapshot could not be decoded. */
export type SnapshotProblem = 'foreign' | 'unsupported' | 'damaged';

/**
 * Decode the header and trailer of a snapshot.
 *
 * @param header The first {@link SNAPSHOT_HEADER_BYTES} bytes.
 * @param trailer The last {@link SNAPSHOT_TRAILER_BYTES} bytes.
 * @param size The file size.
 */
export function decodeSnapshotLayout(header: Uint8Array, trailer: Uint8Array, size: number): SnapshotLayout | SnapshotProblem {
  if (size < SNAPSHOT_HEADER_BYTES + SNAPSHOT_TRAILER_BYTES) return 'damaged';
  for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) if (header[i] !== SNAPSHOT_MAGIC[i]) return 'foreign';
  const headerView = viewOf(header);
  if (headerView.getUint32(8, true) !== SNAPSHOT_FORMAT_VERSION) return 'unsupported';
  for (let i = 0; i < SNAPSHOT_END_MAGIC.length; i++) if (trailer[24 + i] !== SNAPSHOT_END_MAGIC[i]) return 'damaged';
  const view = viewOf(trailer);
  const seq = getUint64(headerView, 16);
  const indexOffset = getUint64(view, 0);
  const count = getUint64(view, 8);
  const indexEnd = size - SNAPSHOT_TRAILER_BYTES;
  if (!Number.isFinite(seq) || !Number.isFinite(count) || !(indexOffset >= SNAPSHOT_HEADER_BYTES && indexOffset <= indexEnd)) return 'damaged';
  return { seq, indexOffset, count, indexCrc: view.getUint32(16, true), fileCrc: view.getUint32(20, true) };
}

/**
 * A snapshot's index footer read in place: entries by position, keys decoded only when asked.
 * Opening a store builds one of these instead of decoding every key, so a point read can be
 * answered by binary search before the full in-memory index exists.
 */
export class SnapshotIndexView {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #at: Uint32Array;
  /** How many entries of the footer were left out because they had expired when it was read. */
  readonly expired: number;

  /**
   * @param at The offsets in `bytes` of the entries kept (in key order).
   * @param expired How many entries were left out as expired.
   */
  constructor(bytes: Uint8Array, at: Uint32Array, expired = 0) {
    this.#bytes = bytes;
    this.#view = viewOf(bytes);
    this.#at = at;
    this.expired = expired;
  }

  /** How many entries it holds. */
  get length(): number {
    return this.#at.length;
  }

  /** The key of entry `i`. */
  keyAt(i: number): string {
    const at = this.#at[i]!;
    return decodeUtf8At(this.#bytes, at + SNAPSHOT_INDEX_ENTRY_BYTES, this.#view.getUint32(at, true));
  }

  /** Entry `i` without its key. */
  entryAt(i: number): Omit<SnapshotEntry, 'key'> {
    const at = this.#at[i]!;
    const view = this.#view;
    return { valueOffset: getUint64(view, at + 8), valueLength: view.getUint32(at + 4, true), valueCrc: view.getUint32(at + 16, true), seq: getUint64(view, at + 20), expiresAt: view.getFloat64(at + 28, true) };
  }

  /** The first position whose key is not below `key` (keys are in JavaScript string order, as the index writes them). */
  lowerBound(key: string): number {
    let low = 0;
    let high = this.#at.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.keyAt(mid) < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The position of `key`, or -1. */
  find(key: string): number {
    const i = this.lowerBound(key);
    return i < this.#at.length && this.keyAt(i) === key ? i : -1;
  }

  /** Whether every key is above the one before it (this decodes them all). */
  ordered(): boolean {
    let previous: string | undefined;
    for (let i = 0; i < this.#at.length; i++) {
      const key = this.keyAt(i);
      if (previous !== undefined && !(key > previous)) return false;
      previous = key;
    }
    return true;
  }
}

/**
 * Check the structure of an index footer whose checksum was verified (every entry within it, and
 * every value before it), without decoding keys: see {@link SnapshotIndexView.ordered}.
 *
 * @param index The bytes from `indexOffset` up to and including the trailer's first 16 bytes.
 * @param now Entries that expired by this time (ms since the epoch) are left out, in the same
 *   pass (a second pass over a large footer cost an open about 4 ms: code that runs once is slow).
 * @returns The view of the entries kept, or `'damaged'`.
 */
export function readSnapshotIndex(index: Uint8Array, layout: SnapshotLayout, now = Number.NEGATIVE_INFINITY): SnapshotIndexView | 'damaged' {
  const view = viewOf(index);
  const end = index.byteLength - 16;
  if (!(layout.count <= end / SNAPSHOT_INDEX_ENTRY_BYTES)) return 'damaged';
  const entries = new Uint32Array(layout.count);
  let at = 0;
  let kept = 0;
  for (let i = 0; i < layout.count; i++) {
    if (at + SNAPSHOT_INDEX_ENTRY_BYTES > end) return 'damaged';
    const keyLength = view.getUint32(at, true);
    const valueLength = view.getUint32(at + 4, true);
    const valueOffset = getUint64(view, at + 8);
    if (at + SNAPSHOT_INDEX_ENTRY_BYTES + keyLength > end || !(valueOffset + valueLength <= layout.indexOffset)) return 'damaged';
    const expiresAt = view.getFloat64(at + 28, true);
    if (expiresAt === 0 || expiresAt > now) entries[kept++] = at;
    at += SNAPSHOT_INDEX_ENTRY_BYTES + keyLength;
  }
  return at === end ? new SnapshotIndexView(index, kept === layout.count ? entries : entries.subarray(0, kept), layout.count - kept) : 'damaged';
}

/** Where the bytes the index checksum covers end in a snapshot of `size` bytes (the header, the index, the trailer's offset and count). */
export function snapshotIndexEnd(size: number): number {
  return size - SNAPSHOT_TRAILER_BYTES + 16;
}

/** Where the bytes the whole-file checksum covers end in a snapshot of `size` bytes (everything before the file crc). */
export function snapshotChecksumEnd(size: number): number {
  return size - SNAPSHOT_TRAILER_BYTES + 20;
}
