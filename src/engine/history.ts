/** Reading committed records back out of a WAL segment: the change feed's history. */
import { StoreError } from '../errors.js';
import { decodeOps, decodeRecord } from '../format/wal.js';
import type { EncodedChange, EncodedOp } from '../protocol.js';
import { readAt } from './ports.js';
import type { Segment } from './segment.js';

/**
 * Read records `fromSeq`…`toSeq` (at most `maxRecords`) of `segment` with one `read()`, keeping
 * only ops whose key `keep` accepts. Values are views into one buffer, so the page can take it whole.
 *
 * @returns The records that have a matching op, and `next`: the last seq examined.
 * @throws {@link StoreError} `STORE_CORRUPTION` if a record fails its checksum.
 */
export function readRecords(segment: Segment, fromSeq: number, toSeq: number, keep: (key: string) => boolean, maxRecords: number): { changes: EncodedChange[]; next: number } {
  const first = fromSeq - segment.firstSeq;
  const last = Math.min(toSeq - segment.firstSeq, first + maxRecords - 1, segment.offsets.length - 1);
  const start = segment.offsets[first]!;
  const end = last + 1 < segment.offsets.length ? segment.offsets[last + 1]! : segment.end;
  const bytes = readAt(segment.file, start, end - start);
  const changes: EncodedChange[] = [];
  for (let i = first; i <= last; i++) {
    const seq = segment.firstSeq + i;
    const at = segment.offsets[i]! - start;
    const record = decodeRecord(bytes, at);
    if (record.kind !== 'record' || record.seq !== seq) {
      throw new StoreError('STORE_CORRUPTION', `${segment.name} at offset ${segment.offsets[i]}: record ${seq} fails its checksum`);
    }
    const ops: EncodedOp[] = [];
    for (const op of decodeOps(bytes, record.payloadStart, record.payloadEnd)) {
      if (!keep(op.key)) continue;
      if (op.type === 'del') ops.push({ type: 'del', key: op.key });
      else {
        const value = bytes.subarray(op.valueStart, op.valueStart + op.valueLength);
        ops.push(op.expiresAt ? { type: 'put', key: op.key, value, expiresAt: op.expiresAt } : { type: 'put', key: op.key, value });
      }
    }
    if (ops.length > 0) changes.push({ seq, ops });
  }
  return { changes, next: segment.firstSeq + last };
}
