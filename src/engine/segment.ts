/** An open WAL segment being appended to or read from. */
import { writeAt, type FileLike } from './files.js';
import type { Source } from './location.js';

/** A WAL segment: its file, first seq and logical end (the file may be preallocated past it). */
export class Segment implements Source {
  #allocated: number;

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
   * @returns The offset the bytes were written at.
   */
  append(bytes: Uint8Array, preallocateBytes: number): number {
    const at = this.end;
    const needed = at + bytes.byteLength;
    if (preallocateBytes > 0 && needed > this.#allocated) {
      const size = Math.ceil(needed / preallocateBytes) * preallocateBytes;
      this.file.truncate(size);
      this.#allocated = size;
    }
    writeAt(this.file, bytes, at);
    this.end = needed;
    this.#allocated = Math.max(this.#allocated, needed);
    return at;
  }

  /** Undo a failed append: cut the file back to `at` so no partial record stays behind. */
  rollback(at: number): void {
    this.file.truncate(at);
    this.#allocated = at;
    this.end = at;
  }
}
