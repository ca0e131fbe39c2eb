/** Where values live: the index maps each key to a location in an open file. */
import type { FileLike } from './ports.js';

/** An open file that holds values: a WAL segment or a snapshot. */
export interface Source {
  readonly name: string;
  readonly file: FileLike;
}

/** One index entry: the value's bytes in `source` and the seq that wrote them. */
export interface ValueLocation {
  readonly source: Source;
  readonly offset: number;
  readonly length: number;
  /** CRC-32C of the value bytes, checked on every read. */
  readonly crc: number;
  readonly seq: number;
  /** Expiry in ms since the epoch; 0 for never. Expired values are invisible and dropped at compaction and open. */
  readonly expiresAt: number;
}
