/** An open WAL segment being appended to or read from. */
import { decodeRecord, encodeSegmentHeader, WAL_HEADER_BYTES } from '../format/wal.js';
import { walName } from '../format/names.js';
import { readAt, writeAt, type Directory, type FileLike } from './ports.js';
import type { Source } from './location.js';


/** A segment recovery kept without reading it: opened when the change feed reads that far back. */
export interface DormantSegment {
  name: string;
  firstSeq: number;
  /** Its last record (the next segment begins after it). */
  lastSeq: number;
}

/** A WAL segment: its file, first seq and logical end (the file may be preallocated past it). */
export class Segment implements Source {
  #allocated: number;
  /** Start offset of each record: `offsets[i]` holds seq `firstSeq + i`. */
  readonly offsets: number[] = [];

  /**
   * @param end The logical end: where the next record goes.
   */
  constructor(
    readonly name: string,
    readonly firstSeq: number,
    readonly file: FileLike,
    public end: number,
  ) {
    this.#allocated = file.getSize();
  }

  /**
   * Append `bytes` at the logical end with one `write()`, growing the file first in
   * `preallocateBytes` steps (zero-filled space makes `flush()` cheaper and tails clean).
   *
   * @param recordOffsets Where each record starts within `bytes`.
   * @returns The offset the bytes were written at.
   */
  append(bytes: Uint8Array, preallocateBytes: number, recordOffsets: readonly number[] = []): number {
    const at = this.end;
    const needed = at + bytes.byteLength;
    if (preallocateBytes > 0 && needed > this.#allocated) {
      const size = Math.ceil(needed / preallocateBytes) * preallocateBytes;
      this.file.truncate(size);
      this.#allocated = size;
    }
    writeAt(this.file, bytes, at);
    for (const offset of recordOffsets) this.offsets.push(at + offset);
    this.end = needed;
    this.#allocated = Math.max(this.#allocated, needed);
    return at;
  }

  /** The seq after this segment's last record. */
  get nextSeq(): number {
    return this.firstSeq + this.offsets.length;
  }

  /** Undo a failed append: cut the file back to `at` so no partial record stays behind. */
  rollback(at: number): void {
    while (this.offsets.length > 0 && this.offsets[this.offsets.length - 1]! >= at) this.offsets.pop();
    this.file.truncate(at);
    this.#allocated = at;
    this.end = at;
  }
}

/** Open a segment recovery kept without reading, and index its records. */
export async function openDormantSegment(dir: Directory, { name, firstSeq, lastSeq }: DormantSegment): Promise<Segment> {
  const file = await dir.open(name);
  const bytes = readAt(file, 0, file.getSize());
  const segment = new Segment(name, firstSeq, file, WAL_HEADER_BYTES);
  let at = WAL_HEADER_BYTES;
  // Only up to where the next segment begins: anything after is a replaced leader's late writes.
  for (let seq = firstSeq; seq <= lastSeq; seq++) {
    const result = decodeRecord(bytes, at);
    if (result.kind !== 'record' || result.seq !== seq) break;
    segment.offsets.push(at);
    at = result.next;
  }
  segment.end = at;
  return segment;
}

/** Create segment `wal-<firstSeq>[-<epoch>].log` with its header, flushed. */
export async function createSegment(dir: Directory, firstSeq: number, epoch?: number): Promise<Segment> {
  const name = walName(firstSeq, epoch);
  const file = await dir.open(name, { create: true });
  file.truncate(0);
  writeAt(file, encodeSegmentHeader(firstSeq), 0);
  file.flush();
  return new Segment(name, firstSeq, file, WAL_HEADER_BYTES);
}
