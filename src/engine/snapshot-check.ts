/**
 * Checking a snapshot file: its frame (size, header, trailer, name), its index footer for an
 * open, its whole-file checksum for an import or an uncatalogued file, and the background scrub
 * after an open that checked only the index.
 */
import { crc32c } from '../format/crc32c.js';
import { parseSnapshotName } from '../format/names.js';
import { decodeSnapshotLayout, readSnapshotIndex, snapshotChecksumEnd, snapshotIndexEnd, SNAPSHOT_HEADER_BYTES, SNAPSHOT_TRAILER_BYTES, type SnapshotIndexView, type SnapshotLayout } from '../format/snapshot.js';
import { readAt, type FileLike, type SnapshotRow } from './ports.js';

/** A whole-file check reads this much at a time. */
const VERIFY_CHUNK_BYTES = 4 * 1024 * 1024;
/** The background check of a snapshot reads (and sums) this much between yields: about a millisecond. */
const SCRUB_CHUNK_BYTES = 1024 * 1024;

/** The outcome of a whole-file check. */
export type Verified = { seq: number; bytes: number; checksum: number; view: SnapshotIndexView } | { problem: string };

/** A snapshot's size, header and layout, checked against its name and its catalog row's size. */
function readSnapshotFrame(file: FileLike, name: string, row: SnapshotRow | undefined): { size: number; header: Uint8Array; layout: SnapshotLayout } | { problem: string } {
  const size = file.getSize();
  if (row && size !== row.bytes) return { problem: `size ${size} differs from the catalog's ${row.bytes}` };
  if (size < SNAPSHOT_HEADER_BYTES + SNAPSHOT_TRAILER_BYTES) return { problem: 'too short to be a snapshot' };
  const header = readAt(file, 0, SNAPSHOT_HEADER_BYTES);
  const trailer = readAt(file, size - SNAPSHOT_TRAILER_BYTES, SNAPSHOT_TRAILER_BYTES);
  const layout = decodeSnapshotLayout(header, trailer, size);
  if (typeof layout === 'string') return { problem: layout === 'foreign' ? 'not a Walden snapshot' : `${layout} header or trailer` };
  if (layout.seq !== parseSnapshotName(name)) return { problem: `header seq ${layout.seq} does not match the name` };
  return { size, header, layout };
}

/**
 * Check a snapshot whole: structure, whole-file checksum (which covers the index), key order, and
 * its catalog row, if any. For an import, and for a snapshot no catalog row vouches for.
 *
 * @param now Entries expired by then are left out of the view (an open's; none for an import).
 */
export function verifySnapshot(file: FileLike, name: string, row: SnapshotRow | undefined, now?: number): Verified {
  const frame = readSnapshotFrame(file, name, row);
  if ('problem' in frame) return frame;
  const { size, layout } = frame;
  const indexEnd = snapshotIndexEnd(size);
  let crc = 0;
  const checked = snapshotChecksumEnd(size);
  let index: Uint8Array | undefined;
  for (let at = 0; at < checked; at += VERIFY_CHUNK_BYTES) {
    const chunk = readAt(file, at, Math.min(VERIFY_CHUNK_BYTES, checked - at));
    crc = crc32c(chunk, crc);
    // Keep the index bytes when one chunk holds them all (the common case), saving a read.
    if (at <= layout.indexOffset && at + chunk.byteLength >= indexEnd) index = chunk.subarray(layout.indexOffset - at, indexEnd - at);
  }
  if (crc !== layout.fileCrc) return { problem: 'file fails its checksum' };
  if (row && crc !== row.checksum) return { problem: 'checksum differs from the catalog' };
  const view = readSnapshotIndex(index ?? readAt(file, layout.indexOffset, indexEnd - layout.indexOffset), layout, now);
  if (view === 'damaged') return { problem: 'index footer is malformed' };
  if (!view.ordered()) return { problem: 'the index lists keys out of order' };
  return { seq: layout.seq, bytes: size, checksum: crc, view };
}

/** A snapshot whose header and index footer passed their checks, read for opening. */
export type IndexedSnapshot = { seq: number; fileCrc: number; view: SnapshotIndexView } | { problem: string };

/**
 * Check what opening a snapshot relies on — its size and checksum against the catalog row, the
 * header, the trailer, and the index checksum (which covers the header) — and read its index in
 * place. The value bytes are not read: each is checked
 * against its own CRC when read, and the whole-file checksum is checked after the open.
 *
 * @param now Entries expired by then are left out of the view.
 */
export function openSnapshotIndex(file: FileLike, name: string, row: SnapshotRow | undefined, now?: number): IndexedSnapshot {
  const frame = readSnapshotFrame(file, name, row);
  if ('problem' in frame) return frame;
  const { size, header, layout } = frame;
  const indexEnd = snapshotIndexEnd(size);
  if (row && layout.fileCrc !== row.checksum) return { problem: 'checksum differs from the catalog' };
  const index = readAt(file, layout.indexOffset, indexEnd - layout.indexOffset);
  if (crc32c(index, crc32c(header)) !== layout.indexCrc) return { problem: 'index footer fails its checksum' };
  const view = readSnapshotIndex(index, layout, now);
  if (view === 'damaged') return { problem: 'index footer is malformed' };
  return { seq: layout.seq, fileCrc: layout.fileCrc, view };
}

/**
 * Check a snapshot's whole-file checksum in chunks, yielding between them (after an open that
 * checked only its index): whether it matches, or undefined if `stopped()` said to give up.
 */
export async function scrubSnapshot(file: FileLike, fileCrc: number, yieldToEvents: () => Promise<void>, stopped: () => boolean): Promise<boolean | undefined> {
  const checked = snapshotChecksumEnd(file.getSize());
  let crc = 0;
  for (let at = 0; at < checked; at += SCRUB_CHUNK_BYTES) {
    if (stopped()) return undefined;
    crc = crc32c(readAt(file, at, Math.min(SCRUB_CHUNK_BYTES, checked - at)), crc);
    await yieldToEvents();
  }
  return stopped() ? undefined : crc === fileCrc;
}

