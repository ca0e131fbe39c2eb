/**
 * The file names of a store's directory, made and parsed in one place: WAL segments
 * `wal-<16 hex first seq>.log` (or `wal-<16 hex first seq>-<8 hex epoch>.log`, the first
 * segment of a leader that took over from one that may still be running), and snapshots
 * `snap-<16 hex seq>.db` (docs/format.md).
 */
import { seqHex } from './bytes.js';

const WAL_NAME = /^wal-([0-9a-f]{16})(?:-([0-9a-f]{8}))?\.log$/;
/** The name of the fence file (see `engine/fence.ts`). */
export const FENCE_NAME = 'fence';
const SNAPSHOT_NAME = /^snap-([0-9a-f]{16})\.db$/;

/**
 * The name of the WAL segment whose first record is `firstSeq`; with `epoch`, the first segment
 * of a leader that took over (it sorts after a plain segment of the same first seq).
 */
export function walName(firstSeq: number, epoch?: number): string {
  return epoch === undefined ? `wal-${seqHex(firstSeq)}.log` : `wal-${seqHex(firstSeq)}-${epoch.toString(16).padStart(8, '0')}.log`;
}

/** The name of the snapshot taken at `seq`. */
export function snapshotName(seq: number): string {
  return `snap-${seqHex(seq)}.db`;
}

/** The seq a snapshot name carries, or undefined for any other name. */
export function parseSnapshotName(name: string): number | undefined {
  const match = SNAPSHOT_NAME.exec(name);
  return match ? Number.parseInt(match[1]!, 16) : undefined;
}

/** A WAL segment's name and what it carries. */
export interface WalSegmentName {
  name: string;
  firstSeq: number;
  /** The epoch of a takeover segment; 0 for a plain one. */
  epoch: number;
}

/** The WAL segments among `names`, in log order: by first seq, then epoch. */
export function walSegments(names: readonly string[]): WalSegmentName[] {
  const segments: WalSegmentName[] = [];
  for (const name of names) {
    const match = WAL_NAME.exec(name);
    if (match) segments.push({ name, firstSeq: Number.parseInt(match[1]!, 16), epoch: match[2] ? Number.parseInt(match[2], 16) : 0 });
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq || a.epoch - b.epoch);
}
