/**
 * The file names of a store's directory, made and parsed in one place: WAL segments
 * `wal-<16 hex first seq>.log` and snapshots `snap-<16 hex seq>.db` (docs/format.md).
 */
import { seqHex } from './bytes.js';

const WAL_NAME = /^wal-([0-9a-f]{16})\.log$/;
const SNAPSHOT_NAME = /^snap-([0-9a-f]{16})\.db$/;

/** The name of the WAL segment whose first record is `firstSeq`. */
export function walName(firstSeq: number): string {
  return `wal-${seqHex(firstSeq)}.log`;
}

/** The name of the snapshot taken at `seq`. */
export function snapshotName(seq: number): string {
  return `snap-${seqHex(seq)}.db`;
}

/** The first seq a WAL segment name carries, or undefined for any other name. */
export function parseWalName(name: string): number | undefined {
  const match = WAL_NAME.exec(name);
  return match ? Number.parseInt(match[1]!, 16) : undefined;
}

/** The seq a snapshot name carries, or undefined for any other name. */
export function parseSnapshotName(name: string): number | undefined {
  const match = SNAPSHOT_NAME.exec(name);
  return match ? Number.parseInt(match[1]!, 16) : undefined;
}

/** The WAL segments among `names`, in log order (by first seq). */
export function walSegments(names: readonly string[]): { name: string; firstSeq: number }[] {
  return names
    .map((name) => ({ name, firstSeq: parseWalName(name) }))
    .filter((s): s is { name: string; firstSeq: number } => s.firstSeq !== undefined)
    .sort((a, b) => a.firstSeq - b.firstSeq);
}
