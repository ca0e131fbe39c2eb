/**
 * Opening a store: choose the newest valid snapshot, replay the WAL after it, cut a torn tail,
 * and clean up what no generation needs. Everything it did is reported.
 */
import { StoreError } from '../errors.js';
import { crc32c } from '../format/crc32c.js';
import {
  decodeRecord,
  decodeRecordOps,
  decodeSegmentHeader,
  RECORD_HEADER_BYTES,
  WAL_HEADER_BYTES,
} from '../format/wal.js';
import { decodeSnapshotLayout, readSnapshotIndex, SNAPSHOT_HEADER_BYTES, SNAPSHOT_TRAILER_BYTES, type SnapshotIndexView, type SnapshotLayout } from '../format/snapshot.js';
import { getUint64, viewOf } from '../format/bytes.js';
import { readAt, removeUnlessHeld, type Catalog, type Directory, type FileLike, type SnapshotRow } from './ports.js';
import type { Source } from './location.js';
import { KeyIndex } from './keyindex.js';
import { parseSnapshotName, walSegments } from '../format/names.js';
import { Segment } from './segment.js';
import type { RecoveryReport } from '../protocol.js';

const VERIFY_CHUNK_BYTES = 4 * 1024 * 1024;
/** The background check of a snapshot reads (and sums) this much between yields: about a millisecond. */
const SCRUB_CHUNK_BYTES = 1024 * 1024;

/** An open, verified snapshot. */
export interface OpenSnapshot extends Source {
  readonly seq: number;
}

/** A segment recovery kept without reading it: opened when the change feed reads that far back. */
export interface DormantSegment {
  name: string;
  firstSeq: number;
  /** Its last record (the next segment begins after it). */
  lastSeq: number;
}

/** Whole records from `at` on, of any seq (what a replaced leader wrote after the seal). */
function recordsFrom(bytes: Uint8Array, at: number, end: number): number {
  let count = 0;
  for (let result = decodeRecord(bytes, at, end); result.kind === 'record'; result = decodeRecord(bytes, result.next, end)) count++;
  return count;
}

/** The state recovery hands to the engine. */
export interface RecoveredState {
  index: KeyIndex;
  seq: number;
  /** The snapshot the index was loaded from, if any. */
  base: OpenSnapshot | undefined;
  /** The base's whole-file checksum, still to be checked (its header and index were checked at open). */
  unverifiedFileCrc: number | undefined;
  /** Replayed segments, oldest first; the last is the one to append to (may be empty). */
  segments: Segment[];
  /** Older segments kept on disk (history and the previous generation), not opened yet. */
  dormant: DormantSegment[];
  report: RecoveryReport;
}

/** What recovery needs to know about history retention. */
export interface RecoverOptions {
  /**
   * Given the seq of the previous snapshot generation, the seq from which the log must be kept
   * (lower when checkpoint streams still need older history).
   */
  keepFromSeq(previousSeq: number): number;
  /** The current time in ms since the epoch, for expiry. */
  now: number;
}

/** An empty report: what a clean open returns. */
export function emptyReport(): RecoveryReport {
  return { tornBytes: 0, droppedRecords: 0, removedFiles: [], droppedCatalogRows: 0, expiredKeys: 0, damagedFiles: [] };
}

function corruption(file: string, offset: number, what: string): StoreError {
  return new StoreError('STORE_CORRUPTION', `${file} at offset ${offset}: ${what}`);
}

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
 */
export function verifySnapshot(file: FileLike, name: string, row: SnapshotRow | undefined): Verified {
  const frame = readSnapshotFrame(file, name, row);
  if ('problem' in frame) return frame;
  const { size, layout } = frame;
  let crc = 0;
  const checked = size - 12;
  let index: Uint8Array | undefined;
  for (let at = 0; at < checked; at += VERIFY_CHUNK_BYTES) {
    const chunk = readAt(file, at, Math.min(VERIFY_CHUNK_BYTES, checked - at));
    crc = crc32c(chunk, crc);
    // Keep the index bytes when one chunk holds them all (the common case), saving a read.
    if (at <= layout.indexOffset && at + chunk.byteLength >= size - 16) index = chunk.subarray(layout.indexOffset - at, size - 16 - at);
  }
  if (crc !== layout.fileCrc) return { problem: 'file fails its checksum' };
  if (row && crc !== row.checksum) return { problem: 'checksum differs from the catalog' };
  const view = readSnapshotIndex(index ?? readAt(file, layout.indexOffset, size - 16 - layout.indexOffset), layout);
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
 */
export function openSnapshotIndex(file: FileLike, name: string, row: SnapshotRow | undefined): IndexedSnapshot {
  const frame = readSnapshotFrame(file, name, row);
  if ('problem' in frame) return frame;
  const { size, header, layout } = frame;
  if (row && layout.fileCrc !== row.checksum) return { problem: 'checksum differs from the catalog' };
  const index = readAt(file, layout.indexOffset, size - 16 - layout.indexOffset);
  if (crc32c(index, crc32c(header)) !== layout.indexCrc) return { problem: 'index footer fails its checksum' };
  const view = readSnapshotIndex(index, layout);
  if (view === 'damaged') return { problem: 'index footer is malformed' };
  return { seq: layout.seq, fileCrc: layout.fileCrc, view };
}

/**
 * Check a snapshot's whole-file checksum in chunks, yielding between them (after an open that
 * checked only its index): whether it matches, or undefined if `stopped()` said to give up.
 */
export async function scrubSnapshot(file: FileLike, fileCrc: number, yieldToEvents: () => Promise<void>, stopped: () => boolean): Promise<boolean | undefined> {
  const checked = file.getSize() - 12;
  let crc = 0;
  for (let at = 0; at < checked; at += SCRUB_CHUNK_BYTES) {
    if (stopped()) return undefined;
    crc = crc32c(readAt(file, at, Math.min(SCRUB_CHUNK_BYTES, checked - at)), crc);
    await yieldToEvents();
  }
  return stopped() ? undefined : crc === fileCrc;
}

function lastNonZero(bytes: Uint8Array, from: number, end: number): number {
  for (let i = end - 1; i >= from; i--) if (bytes[i] !== 0) return i + 1;
  return from;
}

/** Whether a checksum-valid record with one of `seqs` starts anywhere in `[from, end)`. */
function validRecordAfter(bytes: Uint8Array, from: number, end: number, seqs: number[]): boolean {
  const view = viewOf(bytes);
  for (let p = from; p + RECORD_HEADER_BYTES <= end; p++) {
    if (!seqs.includes(getUint64(view, p + 8))) continue;
    const result = decodeRecord(bytes, p, end);
    if (result.kind === 'record' && seqs.includes(result.seq)) return true;
  }
  return false;
}

/**
 * Recover the store in `dir` whose catalog rows are in `catalog`.
 *
 * @throws {@link StoreError} `STORE_CORRUPTION` naming file and offset for damage that is not a
 *   torn tail, `STORE_UNSUPPORTED` for files of a newer format version.
 */
export async function recover(dir: Directory, catalog: Catalog, store: string, options: RecoverOptions): Promise<RecoveredState> {
  const report = emptyReport();
  // Independent reads, made at once.
  const [names, listedRows, createdAt] = await Promise.all([dir.list(), catalog.list(store), catalog.createdAt(store)]);
  const segmentSeqs = walSegments(names);
  const snapshotFiles = new Set(names.filter((name) => parseSnapshotName(name) !== undefined));

  // Rows whose file vanished can never be used: drop them (and say so).
  const rows: SnapshotRow[] = [];
  const missingRows: SnapshotRow[] = [];
  for (const row of listedRows) (snapshotFiles.has(row.file) ? rows : missingRows).push(row);
  const droppedRows = missingRows.length;
  const catalogEmpty = rows.length === 0;
  // With an empty catalog, fall back to the snapshot files themselves, verified by their own checksums.
  const candidates: { name: string; row: SnapshotRow | undefined }[] = catalogEmpty
    ? [...snapshotFiles].sort().reverse().map((name) => ({ name, row: undefined }))
    : [...rows].reverse().map((row) => ({ name: row.file, row }));

  const coverable = (seq: number) => segmentSeqs.length === 0 || segmentSeqs[0]!.firstSeq <= seq + 1;

  let base: OpenSnapshot | undefined;
  let baseIndex: SnapshotIndexView | undefined;
  let unverifiedFileCrc: number | undefined;
  let expiredInSnapshot = 0;
  const damaged: { name: string; row: SnapshotRow | undefined; reason: string }[] = [];
  for (const candidate of candidates) {
    const file = await dir.open(candidate.name);
    const source: OpenSnapshot = { name: candidate.name, file, seq: parseSnapshotName(candidate.name)! };
    // A file the catalog does not vouch for is checked whole before it is used.
    const opened = candidate.row ? openSnapshotIndex(file, candidate.name, candidate.row) : verifySnapshot(file, candidate.name, undefined);
    if ('problem' in opened) {
      file.close();
      damaged.push({ name: candidate.name, row: candidate.row, reason: opened.problem });
      continue;
    }
    if (!coverable(opened.seq)) {
      file.close();
      continue;
    }
    base = source;
    ({ view: baseIndex, expired: expiredInSnapshot } = opened.view.live(options.now));
    if ('fileCrc' in opened) unverifiedFileCrc = opened.fileCrc;
    else if (catalogEmpty) await catalog.put({ store, seq: opened.seq, file: candidate.name, bytes: opened.bytes, checksum: opened.checksum, createdAt: Date.now() });
    break;
  }
  const baseSeq = base?.seq ?? 0;
  if (!base && damaged.length > 0 && !coverable(0)) {
    const first = damaged[0]!;
    throw corruption(first.name, 0, `${first.reason}, and no older generation can replace it`);
  }
  if (!coverable(baseSeq)) {
    throw new StoreError('STORE_DATA_LOST', `${segmentSeqs[0]!.name}: the log starts at seq ${segmentSeqs[0]!.firstSeq} but seq ${baseSeq + 1} is needed: files of this store are missing (evicted or deleted outside Walden)`);
  }
  // A store that was created keeps at least one segment: none and no snapshot means its files vanished.
  if (segmentSeqs.length === 0 && !base) {
    if (createdAt !== undefined || droppedRows > 0) {
      throw new StoreError('STORE_DATA_LOST', `store ${JSON.stringify(store)} was created ${new Date(createdAt ?? 0).toISOString()} but its files are gone (evicted or deleted outside Walden); deleteStore() starts it anew`);
    }
  }
  if (createdAt === undefined) await catalog.markCreated(store, Date.now());
  // Only now that the open will go ahead: rows whose file vanished can never be used.
  for (const row of missingRows) {
    await catalog.delete(store, row.seq);
    report.droppedCatalogRows++;
  }
  // Damaged snapshots newer than the one chosen are replaced by it: remove them.
  for (const bad of damaged) {
    if (parseSnapshotName(bad.name)! <= baseSeq) continue;
    if (bad.row) {
      await catalog.delete(store, bad.row.seq);
      report.droppedCatalogRows++;
    }
    await dir.remove(bad.name);
    report.removedFiles.push(bad.name);
    report.damagedFiles.push({ file: bad.name, reason: bad.reason });
  }

  // The snapshot's index is read in place; the B-tree is built after the open (see keyindex.ts).
  report.expiredKeys += expiredInSnapshot;
  const index = base && baseIndex ? KeyIndex.ofSnapshot(baseIndex, base) : KeyIndex.ofTree();

  // Keep one older generation (the previous snapshot and the log since it); anything older is an orphan.
  // The rows read above, less those dropped since (all newer than the base, or with no file).
  const keptRows = rows.filter((row) => row.seq <= baseSeq);
  const previousSeq = keptRows.length >= 2 ? keptRows[keptRows.length - 2]!.seq : 0;
  for (const name of snapshotFiles) {
    const seq = parseSnapshotName(name)!;
    const inCatalog = keptRows.some((row) => row.file === name) || (catalogEmpty && seq === baseSeq && base !== undefined);
    if (!inCatalog && !report.removedFiles.includes(name) && (await removeUnlessHeld(dir, name))) report.removedFiles.push(name);
  }
  let start = 0;
  for (let i = 0; i < segmentSeqs.length; i++) if (segmentSeqs[i]!.firstSeq <= baseSeq + 1) start = i;
  const dormant: DormantSegment[] = [];
  for (let i = 0; i < start; i++) {
    const next = segmentSeqs[i + 1]!;
    if (next.firstSeq <= options.keepFromSeq(previousSeq) + 1) {
      if (await removeUnlessHeld(dir, segmentSeqs[i]!.name)) report.removedFiles.push(segmentSeqs[i]!.name);
    } else {
      dormant.push({ name: segmentSeqs[i]!.name, firstSeq: segmentSeqs[i]!.firstSeq, lastSeq: next.firstSeq - 1 });
    }
  }

  // Replay. Seqs must continue exactly; only the newest segment may end in a torn tail.
  const segments: Segment[] = [];
  // Keys whose last write had expired by now (counted once each, at the end).
  const expiredDuringReplay = new Set<string>();
  let seq = baseSeq;
  for (let i = start; i < segmentSeqs.length; i++) {
    const { name, firstSeq } = segmentSeqs[i]!;
    const isLast = i === segmentSeqs.length - 1;
    // A segment ends where the next begins: what follows is a replaced leader's late writes.
    const sealedAt = isLast ? Number.POSITIVE_INFINITY : segmentSeqs[i + 1]!.firstSeq;
    const file = await dir.open(name);
    // Every way out of this segment but the end of the loop is a throw: the file is closed on it.
    try {
      const size = file.getSize();
      const bytes = readAt(file, 0, size);
      const header = decodeSegmentHeader(bytes);
      if (header.kind === 'torn' && isLast) {
        // Created but its header never fully written: it holds nothing.
        file.close();
        if (await removeUnlessHeld(dir, name)) report.removedFiles.push(name);
        report.tornBytes += lastNonZero(bytes, 0, size);
        continue;
      }
      if (header.kind === 'unsupported') {
        throw new StoreError('STORE_UNSUPPORTED', `${name} has WAL format version ${header.version}; this build reads version 1`);
      }
      if (header.kind !== 'header') {
        throw corruption(name, 0, header.kind === 'foreign' ? 'not a Walden WAL segment (bad magic)' : 'segment header is damaged');
      }
      if (header.firstSeq !== firstSeq) {
        throw corruption(name, 0, `header says first seq ${header.firstSeq}, the name says ${firstSeq}`);
      }
      if (i > start ? firstSeq !== seq + 1 : firstSeq > seq + 1) {
        throw corruption(name, 0, `expected seq ${seq + 1}, the segment starts at ${firstSeq}`);
      }
      const segment = new Segment(name, firstSeq, file, WAL_HEADER_BYTES);
      let running = firstSeq;
      let at = WAL_HEADER_BYTES;
      for (;;) {
        if (running === sealedAt) {
          // Never acknowledged (the fence stopped them; docs/multi-tab.md): not replayed, not damage.
          report.droppedRecords += recordsFrom(bytes, at, size);
          break;
        }
        const result = decodeRecordOps(bytes, at, size);
        if (result.kind === 'end') break;
        if (result.kind === 'torn') {
          if (!isLast || validRecordAfter(bytes, at + 1, size, [running, running + 1])) {
            throw corruption(name, at, `record ${running} is damaged and later records follow it`);
          }
          // The unacknowledged end of the log: cut it so new records never sit beside its remains.
          report.tornBytes += lastNonZero(bytes, at, size) - at;
          segment.rollback(at);
          file.flush();
          break;
        }
        if (result.seq !== running) {
          throw corruption(name, at, `expected seq ${running}, found ${result.seq}`);
        }
        segment.offsets.push(at);
        if (result.kind === 'malformed' && result.seq > baseSeq) {
          throw corruption(name, at, result.message);
        }
        if (result.kind === 'record' && !result.ops) {
          throw new StoreError('STORE_UNSUPPORTED', `${name} at offset ${at}: record type ${result.type} is unknown to this build`);
        }
        if (result.kind === 'record' && result.seq > baseSeq) {
          for (const op of result.ops!) {
            if (op.type === 'put' && op.expiresAt && op.expiresAt <= options.now) {
              expiredDuringReplay.add(op.key);
              index.delete(op.key);
            } else if (op.type === 'put') {
              expiredDuringReplay.delete(op.key);
              index.set(op.key, { source: segment, offset: op.valueStart, length: op.valueLength, crc: op.valueCrc!, seq: result.seq, expiresAt: op.expiresAt });
            } else {
              expiredDuringReplay.delete(op.key);
              index.delete(op.key);
            }
          }
        }
        running++;
        at = result.next;
      }
      segment.end = at;
      segments.push(segment);
      seq = running - 1;
    } catch (error) {
      file.close();
      throw error;
    }
  }
  report.expiredKeys += expiredDuringReplay.size;
  return { index, seq: Math.max(seq, baseSeq), base, unverifiedFileCrc, segments, dormant, report };
}
