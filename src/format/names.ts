/** File names shared by the engine and the export artifact: `snap-<16 hex seq>.db`. */
import { seqHex } from './bytes.js';

/** The name of the snapshot taken at `seq`. */
export function snapshotFileName(seq: number): string {
  return `snap-${seqHex(seq)}.db`;
}
