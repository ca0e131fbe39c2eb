/**
 * Opening a store: choose the newest valid snapshot, replay the WAL after it, cut a torn tail,
 * and clean up what no generation needs. Everything it did is reported.
 */
import { StoreError } from '../errors.js';
import {
  decodeRecord,
  decodeRecordOps,
  decodeSegmentHeader,
  RECORD_HEADER_BYTES,
  WAL_HEADER_BYTES,
} from '../format/wal.js';
import type { SnapshotIndexView } from '../format/snapshot.js';
import { openSnapshotIndex, verifySnapshot } from './snapshot-check.js';
import { getUint64, viewOf } from '../format/bytes.js';
import { readAt, removeUnlessHeld, type Catalog, type Directory, type FileLike, type SnapshotRow } from './ports.js';
import type { Source } from './location.js';
import { KeyIndex } from './keyindex.js';
import { parseSnapshotName, walSegments } from '../format/names.js';
import { Segment, type DormantSegment } from './segment.js';
import type { RecoveryReport } from '../protocol.js';


/** An open, verified snapshot. */
export interface OpenSnapshot extends Source {
  readonly seq: number;
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
  /** The log after the base: the operations replayed, and the keys the base held (for the compaction policy). */
  sinceBase: { ops: number; keysAtBase: number };
}

/** What recovery needs to know about history retention. */
export interface RecoverOptions {
  /**
   * Given the seq of the previous snapshot generation, the seq from which the log must be kept
   * (lower when checkpoint streams still need older history).
   */
  keepFromSeq(previousSeq: number): number | Promise<number>;
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

/** What recovery found before changing anything: the base to load, what to drop, what to replay. */
interface RecoveryPlan {
  store: string;
  segments: { name: string; firstSeq: number }[];
  snapshotFiles: Set<string>;
  /** Catalog rows whose file exists, oldest first. */
  rows: SnapshotRow[];
  /** Catalog rows whose file vanished. */
  missingRows: SnapshotRow[];
  catalogEmpty: boolean;
  createdAt: number | undefined;
  base: OpenSnapshot | undefined;
  baseIndex: SnapshotIndexView | undefined;
  baseSeq: number;
  unverifiedFileCrc: number | undefined;
  expiredInSnapshot: number;
  /** A row for a base no catalog row vouched for (checked whole): to be written. */
  adopt: SnapshotRow | undefined;
  damaged: { name: string; row: SnapshotRow | undefined; reason: string }[];
  /** The position in `segments` of the first segment to replay. */
  start: number;
  /** Files opened ahead of their turn (see {@link EarlyOpens}). */
  early: EarlyOpens;
}

/**
 * Files recovery will read, opened ahead of their turn: the newest segment, replayed whatever
 * base is chosen, opens while the snapshot's index is read (its handle took about 1.5 ms in
 * Chromium after the read, 0.2 ms this way). Not the snapshot while the directory is listed:
 * Chromium answered those two one after the other, and both came later. Whatever recovery does
 * not take is closed.
 */
class EarlyOpens {
  readonly #opening = new Map<string, Promise<FileLike>>();

  constructor(readonly dir: Directory) {}

  /** Start opening `name` (once). */
  start(name: string): void {
    if (this.#opening.has(name)) return;
    const file = this.dir.open(name);
    file.catch(() => {});
    this.#opening.set(name, file);
  }

  /** `name`, opened early if it was, else now. */
  open(name: string): Promise<FileLike> {
    const early = this.#opening.get(name);
    this.#opening.delete(name);
    return early ?? this.dir.open(name);
  }

  /** Close every file opened early and not taken. */
  closeRest(): void {
    for (const file of this.#opening.values()) void file.then((f) => f.close(), () => {});
    this.#opening.clear();
  }
}

/**
 * Recover the store in `dir` whose catalog rows are in `catalog`: plan (read only), clean up
 * (drop rows and files no generation needs), replay the log after the base.
 *
 * @throws {@link StoreError} `STORE_CORRUPTION` naming file and offset for damage that is not a
 *   torn tail, `STORE_UNSUPPORTED` for files of a newer format version, `STORE_DATA_LOST` when
 *   files the store needs are gone. A throw from the plan changes nothing.
 */
export async function recover(dir: Directory, catalog: Catalog, store: string, options: RecoverOptions): Promise<RecoveredState> {
  const plan = await planRecovery(dir, catalog, store, options);
  let done = false;
  try {
    const report = emptyReport();
    report.expiredKeys += plan.expiredInSnapshot;
    const dormant = await cleanUp(dir, catalog, store, plan, options, report);
    // The snapshot's index is read in place; the B-tree is built after the open (see keyindex.ts).
    const index = plan.base && plan.baseIndex ? KeyIndex.ofSnapshot(plan.baseIndex, plan.base) : KeyIndex.ofTree();
    const keysAtBase = index.size;
    const { segments, seq, ops } = await replay(dir, plan, index, options.now, report);
    done = true;
    return { index, seq: Math.max(seq, plan.baseSeq), base: plan.base, unverifiedFileCrc: plan.unverifiedFileCrc, segments, dormant, report, sinceBase: { ops, keysAtBase } };
  } finally {
    plan.early.closeRest();
    if (!done) plan.base?.file.close();
  }
}

/** Read the directory and the catalog, choose the newest usable snapshot, and check the log can follow it. */
async function planRecovery(dir: Directory, catalog: Catalog, store: string, options: RecoverOptions): Promise<RecoveryPlan> {
  // Independent reads, made at once.
  const [names, listedRows, createdAt] = await Promise.all([dir.list(), catalog.list(store), catalog.createdAt(store)]);
  const segments = walSegments(names);
  const snapshotFiles = new Set(names.filter((name) => parseSnapshotName(name) !== undefined));
  const rows: SnapshotRow[] = [];
  const missingRows: SnapshotRow[] = [];
  for (const row of listedRows) (snapshotFiles.has(row.file) ? rows : missingRows).push(row);
  const catalogEmpty = rows.length === 0;
  // With an empty catalog, fall back to the snapshot files themselves, verified by their own checksums.
  const candidates: { name: string; row: SnapshotRow | undefined }[] = catalogEmpty
    ? [...snapshotFiles].sort().reverse().map((name) => ({ name, row: undefined }))
    : [...rows].reverse().map((row) => ({ name: row.file, row }));

  const early = new EarlyOpens(dir);
  if (segments.length > 0) early.start(segments[segments.length - 1]!.name);
  const plan: RecoveryPlan = { store, segments, snapshotFiles, rows, missingRows, catalogEmpty, createdAt, base: undefined, baseIndex: undefined, baseSeq: 0, unverifiedFileCrc: undefined, expiredInSnapshot: 0, adopt: undefined, damaged: [], start: 0, early };
  try {
    await choosePlanBase(plan, candidates, options);
  } catch (error) {
    early.closeRest();
    throw error;
  }
  return plan;
}

/** Choose the newest usable snapshot as the plan's base, and check the log can follow it. */
async function choosePlanBase(plan: RecoveryPlan, candidates: { name: string; row: SnapshotRow | undefined }[], options: RecoverOptions): Promise<void> {
  const { segments, missingRows, createdAt } = plan;
  const coverable = (seq: number) => segments.length === 0 || segments[0]!.firstSeq <= seq + 1;
  for (const candidate of candidates) {
    const file = await plan.early.open(candidate.name);
    // A file the catalog does not vouch for is checked whole before it is used.
    const opened = candidate.row ? openSnapshotIndex(file, candidate.name, candidate.row, options.now) : verifySnapshot(file, candidate.name, undefined, options.now);
    if ('problem' in opened) {
      file.close();
      plan.damaged.push({ name: candidate.name, row: candidate.row, reason: opened.problem });
      continue;
    }
    if (!coverable(opened.seq)) {
      file.close();
      continue;
    }
    plan.base = { name: candidate.name, file, seq: opened.seq };
    plan.baseSeq = opened.seq;
    plan.baseIndex = opened.view;
    plan.expiredInSnapshot = opened.view.expired;
    if ('fileCrc' in opened) plan.unverifiedFileCrc = opened.fileCrc;
    else if (plan.catalogEmpty) plan.adopt = { store: plan.store, seq: opened.seq, file: candidate.name, bytes: opened.bytes, checksum: opened.checksum, createdAt: Date.now() };
    break;
  }
  try {
    if (!plan.base && plan.damaged.length > 0 && !coverable(0)) {
      const first = plan.damaged[0]!;
      throw corruption(first.name, 0, `${first.reason}, and no older generation can replace it`);
    }
    if (!coverable(plan.baseSeq)) {
      throw new StoreError('STORE_DATA_LOST', `${segments[0]!.name}: the log starts at seq ${segments[0]!.firstSeq} but seq ${plan.baseSeq + 1} is needed: files of this store are missing (evicted or deleted outside Walden)`);
    }
    // A store that was created keeps at least one segment: none and no snapshot means its files vanished.
    if (segments.length === 0 && !plan.base && (createdAt !== undefined || missingRows.length > 0)) {
      throw new StoreError('STORE_DATA_LOST', `store ${JSON.stringify(plan.store)} was created ${new Date(createdAt ?? 0).toISOString()} but its files are gone (evicted or deleted outside Walden); deleteStore() starts it anew`);
    }
  } catch (error) {
    plan.base?.file.close();
    throw error;
  }
  for (let i = 0; i < segments.length; i++) if (segments[i]!.firstSeq <= plan.baseSeq + 1) plan.start = i;
}

/**
 * The open goes ahead: drop rows whose file vanished, damaged snapshots newer than the base and
 * orphans; keep one older generation (the previous snapshot and the log since it) and the
 * history checkpoint streams still need, as dormant segments.
 */
async function cleanUp(dir: Directory, catalog: Catalog, store: string, plan: RecoveryPlan, options: RecoverOptions, report: RecoveryReport): Promise<DormantSegment[]> {
  const { baseSeq, segments } = plan;
  if (plan.adopt) await catalog.put(plan.adopt);
  if (plan.createdAt === undefined) await catalog.markCreated(store, Date.now());
  for (const row of plan.missingRows) {
    await catalog.delete(store, row.seq);
    report.droppedCatalogRows++;
  }
  // Damaged snapshots newer than the one chosen are replaced by it.
  for (const bad of plan.damaged) {
    if (parseSnapshotName(bad.name)! <= baseSeq) continue;
    if (bad.row) {
      await catalog.delete(store, bad.row.seq);
      report.droppedCatalogRows++;
    }
    await dir.remove(bad.name);
    report.removedFiles.push(bad.name);
    report.damagedFiles.push({ file: bad.name, reason: bad.reason });
  }
  // The rows read at the start, less those dropped since (all newer than the base, or with no file).
  const keptRows = plan.rows.filter((row) => row.seq <= baseSeq);
  const previousSeq = keptRows.length >= 2 ? keptRows[keptRows.length - 2]!.seq : 0;
  for (const name of plan.snapshotFiles) {
    const seq = parseSnapshotName(name)!;
    const inCatalog = keptRows.some((row) => row.file === name) || (plan.catalogEmpty && seq === baseSeq && plan.base !== undefined);
    if (!inCatalog && !report.removedFiles.includes(name) && (await removeUnlessHeld(dir, name))) report.removedFiles.push(name);
  }
  const dormant: DormantSegment[] = [];
  const keepFromSeq = plan.start > 0 ? await options.keepFromSeq(previousSeq) : 0;
  for (let i = 0; i < plan.start; i++) {
    const next = segments[i + 1]!;
    if (next.firstSeq <= keepFromSeq + 1) {
      if (await removeUnlessHeld(dir, segments[i]!.name)) report.removedFiles.push(segments[i]!.name);
    } else {
      dormant.push({ name: segments[i]!.name, firstSeq: segments[i]!.firstSeq, lastSeq: next.firstSeq - 1 });
    }
  }
  return dormant;
}

/** Replay the segments after the base into `index`. Seqs must continue exactly; only the newest segment may end in a torn tail. */
async function replay(dir: Directory, plan: RecoveryPlan, index: KeyIndex, now: number, report: RecoveryReport): Promise<{ segments: Segment[]; seq: number; ops: number }> {
  const { baseSeq, segments: onDisk, start } = plan;
  const segments: Segment[] = [];
  // Keys whose last write had expired by now (counted once each, at the end).
  const expiredDuringReplay = new Set<string>();
  let seq = baseSeq;
  let ops = 0;
  try {
    for (let i = start; i < onDisk.length; i++) {
      const { name, firstSeq } = onDisk[i]!;
      const isLast = i === onDisk.length - 1;
      // A segment ends where the next begins: what follows is a replaced leader's late writes.
      const sealedAt = isLast ? Number.POSITIVE_INFINITY : onDisk[i + 1]!.firstSeq;
      const file = await plan.early.open(name);
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
      const segment = new Segment(name, firstSeq, file, WAL_HEADER_BYTES);
      segments.push(segment);
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
          ops += result.ops!.length;
          for (const op of result.ops!) {
            if (op.type === 'put' && op.expiresAt && op.expiresAt <= now) {
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
      seq = running - 1;
    }
  } catch (error) {
    // Every file this replay opened is closed on the way out of a failed open.
    for (const segment of segments) segment.file.close();
    throw error;
  }
  report.expiredKeys += expiredDuringReplay.size;
  return { segments, seq, ops };
}
