/**
 * WAL segment codec: the segment header and the framed records that follow it.
 * The grammar is written down in docs/format.md; this file is its only implementation.
 */
import type { EncodedOp } from '../protocol.js';
import { COMBINE_MIN_BYTES, crc32c, crc32cCombine } from './crc32c.js';
import { decodeUtf8At, encodeUtf8Into, getUint64, isAllZero, setUint64, utf8Length, viewOf } from './bytes.js';

/** The 8 bytes every WAL segment starts with: ASCII `WALDNWAL`. */
export const WAL_MAGIC = Uint8Array.from([0x57, 0x41, 0x4c, 0x44, 0x4e, 0x57, 0x41, 0x4c]);
/** The WAL format version this build writes and reads. */
export const WAL_FORMAT_VERSION = 1;
/** Segment header: magic (8) | version u32 | first seq u64 | crc32c u32 of the 20 bytes before it. */
export const WAL_HEADER_BYTES = 24;
/** Record header: crc32c u32 | payload length u32 | seq u64 | type u8. */
export const RECORD_HEADER_BYTES = 17;
/** Record type 1: a list of puts and deletes applied atomically under one seq. */
export const RECORD_TYPE_OPS = 1;
/** Largest payload a reader accepts; anything larger is treated as damage, not allocated. */
export const MAX_RECORD_PAYLOAD_BYTES = 256 * 1024 * 1024;

const OP_PUT = 1;
const OP_DEL = 2;
const OP_PUT_EXPIRING = 3;

/** A record to append: the seq it commits under and its operations. */
export interface WalRecordInput {
  seq: number;
  ops: readonly EncodedOp[];
}

/** What {@link decodeSegmentHeader} found at the start of a segment. */
export type SegmentHeaderResult =
  | { kind: 'header'; firstSeq: number }
  | { kind: 'torn' }
  | { kind: 'foreign' }
  | { kind: 'damaged' }
  | { kind: 'unsupported'; version: number };

/** Where one put's value landed inside an encoded buffer. */
export interface EncodedValue {
  key: string;
  seq: number;
  /** Offset of the value bytes from the start of the encoded buffer, or -1 for a delete. */
  offset: number;
  length: number;
  /** CRC-32C of the value bytes (0 for a delete). */
  crc: number;
}

/**
 * Encode a segment header.
 *
 * @param firstSeq The seq of the first record the segment will hold.
 * @returns The {@link WAL_HEADER_BYTES}-byte header.
 */
export function encodeSegmentHeader(firstSeq: number): Uint8Array {
  const bytes = new Uint8Array(WAL_HEADER_BYTES);
  const view = viewOf(bytes);
  bytes.set(WAL_MAGIC, 0);
  view.setUint32(8, WAL_FORMAT_VERSION, true);
  setUint64(view, 12, firstSeq);
  view.setUint32(20, crc32c(bytes.subarray(0, 20)), true);
  return bytes;
}

/**
 * Decode a segment header without throwing.
 *
 * @param bytes At least the first bytes of the segment (fewer than the header means torn).
 * @returns The header, or why there is none: `torn` (short or never written), `foreign` (not our magic),
 *   `damaged` (checksum mismatch), `unsupported` (a newer version).
 */
export function decodeSegmentHeader(bytes: Uint8Array): SegmentHeaderResult {
  if (bytes.byteLength < WAL_HEADER_BYTES || isAllZero(bytes.subarray(0, WAL_HEADER_BYTES))) return { kind: 'torn' };
  for (let i = 0; i < WAL_MAGIC.length; i++) if (bytes[i] !== WAL_MAGIC[i]) return { kind: 'foreign' };
  const view = viewOf(bytes);
  if (view.getUint32(20, true) !== crc32c(bytes.subarray(0, 20))) return { kind: 'damaged' };
  const version = view.getUint32(8, true);
  if (version !== WAL_FORMAT_VERSION) return { kind: 'unsupported', version };
  const firstSeq = getUint64(view, 12);
  if (!Number.isFinite(firstSeq) || firstSeq < 1) return { kind: 'damaged' };
  return { kind: 'header', firstSeq };
}

/**
 * Encode records back to back into one buffer, for one `write()`.
 *
 * @param records The records, in seq order.
 * @returns The bytes, where each put's value sits in them (for the index), and where each record starts.
 * @throws RangeError when one record's payload exceeds {@link MAX_RECORD_PAYLOAD_BYTES}.
 */
export function encodeRecords(records: readonly WalRecordInput[]): { bytes: Uint8Array; values: EncodedValue[]; recordOffsets: number[] } {
  // Sizes first (keys measured, not encoded), then one pass writing into one buffer.
  const keyLengths: number[] = [];
  let total = 0;
  for (const record of records) {
    let payload = 4;
    for (const op of record.ops) {
      const keyLength = utf8Length(op.key);
      keyLengths.push(keyLength);
      payload += 1 + 4 + keyLength + (op.type === 'put' ? 4 + op.value.byteLength + (op.expiresAt ? 8 : 0) : 0);
    }
    if (payload > MAX_RECORD_PAYLOAD_BYTES) throw new RangeError(`record ${record.seq} is ${payload} bytes; the limit is ${MAX_RECORD_PAYLOAD_BYTES}`);
    total += RECORD_HEADER_BYTES + payload;
  }
  const bytes = new Uint8Array(total);
  const view = viewOf(bytes);
  const values: EncodedValue[] = [];
  const recordOffsets: number[] = [];
  let at = 0;
  let k = 0;
  for (const record of records) {
    const start = at;
    recordOffsets.push(start);
    at += RECORD_HEADER_BYTES;
    view.setUint32(at, record.ops.length, true);
    at += 4;
    for (const op of record.ops) {
      const keyLength = keyLengths[k++]!;
      bytes[at] = op.type === 'del' ? OP_DEL : op.expiresAt ? OP_PUT_EXPIRING : OP_PUT;
      view.setUint32(at + 1, keyLength, true);
      encodeUtf8Into(op.key, bytes, at + 5);
      at += 5 + keyLength;
      if (op.type === 'put' && op.expiresAt) {
        view.setFloat64(at, op.expiresAt, true);
        at += 8;
      }
      if (op.type === 'put') {
        view.setUint32(at, op.value.byteLength, true);
        bytes.set(op.value, at + 4);
        values.push({ key: op.key, seq: record.seq, offset: at + 4, length: op.value.byteLength, crc: 0 });
        at += 4 + op.value.byteLength;
      } else {
        values.push({ key: op.key, seq: record.seq, offset: -1, length: 0, crc: 0 });
      }
    }
    const payloadLength = at - start - RECORD_HEADER_BYTES;
    view.setUint32(start + 4, payloadLength, true);
    setUint64(view, start + 8, record.seq);
    bytes[start + 16] = RECORD_TYPE_OPS;
    view.setUint32(start, checksumRecord(bytes, start + 4, at, values, values.length - record.ops.length), true);
  }
  return { bytes, values, recordOffsets };
}

/**
 * The checksum of the record bytes `[from, end)`, computing each value's own CRC-32C on the way
 * (into `values[first…]`). A value of {@link COMBINE_MIN_BYTES} or more is summed once and its
 * CRC combined into the record's; a smaller one is cheaper to sum again with the bytes around it.
 */
function checksumRecord(bytes: Uint8Array, from: number, end: number, values: { offset: number; length: number; crc: number }[], first: number): number {
  let crc = 0;
  let at = from;
  for (let i = first; i < values.length; i++) {
    const value = values[i]!;
    if (value.offset < 0) continue;
    value.crc = crc32c(bytes.subarray(value.offset, value.offset + value.length));
    if (value.length < COMBINE_MIN_BYTES) continue;
    crc = crc32c(bytes.subarray(at, value.offset), crc);
    crc = crc32cCombine(crc, value.crc, value.length);
    at = value.offset + value.length;
  }
  return crc32c(bytes.subarray(at, end), crc);
}

/** What {@link decodeRecord} found at an offset. */
export type RecordResult =
  | { kind: 'record'; seq: number; type: number; payloadStart: number; payloadEnd: number; next: number }
  | { kind: 'end' }
  | { kind: 'torn' };

/**
 * Decode the record starting at `at`, without throwing.
 *
 * - `end`: nothing but zeros (preallocated space) or nothing at all from `at` on.
 * - `torn`: bytes that do not form a whole record with a valid checksum. Only recovery decides
 *   whether that is a torn tail (cut it) or damage (report it).
 *
 * @param bytes The segment's bytes.
 * @param at Where the record starts.
 * @param end Where the readable bytes end.
 */
export function decodeRecord(bytes: Uint8Array, at: number, end = bytes.byteLength): RecordResult {
  const frame = decodeFrame(bytes, at, end);
  if (frame.kind !== 'frame') return frame;
  if (crc32c(bytes.subarray(at + 4, frame.next)) !== frame.storedCrc) return { kind: 'torn' };
  return recordOf(bytes, at, frame.next);
}

type Frame = { kind: 'frame'; storedCrc: number; next: number } | { kind: 'end' } | { kind: 'torn' };

/** The length and stored checksum of the record at `at`, checked against the bytes there, but not its checksum. */
function decodeFrame(bytes: Uint8Array, at: number, end: number): Frame {
  if (at >= end) return { kind: 'end' };
  if (end - at < RECORD_HEADER_BYTES) return isAllZero(bytes.subarray(at, end)) ? { kind: 'end' } : { kind: 'torn' };
  const view = viewOf(bytes);
  const length = view.getUint32(at + 4, true);
  const storedCrc = view.getUint32(at, true);
  if (storedCrc === 0 && length === 0 && isAllZero(bytes.subarray(at, end))) return { kind: 'end' };
  if (length > MAX_RECORD_PAYLOAD_BYTES || at + RECORD_HEADER_BYTES + length > end) return { kind: 'torn' };
  return { kind: 'frame', storedCrc, next: at + RECORD_HEADER_BYTES + length };
}

function recordOf(bytes: Uint8Array, at: number, next: number): RecordResult {
  const seq = getUint64(viewOf(bytes), at + 8);
  if (!Number.isFinite(seq)) return { kind: 'torn' };
  return { kind: 'record', seq, type: bytes[at + 16]!, payloadStart: at + RECORD_HEADER_BYTES, payloadEnd: next, next };
}

/** What {@link decodeRecordOps} found: {@link RecordResult}, with the operations of an ops record (and each value's CRC-32C). */
export type RecordOpsResult =
  | { kind: 'record'; seq: number; type: number; next: number; ops: DecodedOp[] | undefined }
  | { kind: 'malformed'; seq: number; next: number; message: string }
  | { kind: 'end' }
  | { kind: 'torn' };

/**
 * {@link decodeRecord} and {@link decodeOps} in one pass over the record's bytes, for replay: each
 * value's CRC-32C is computed and combined into the record's checksum instead of summing the
 * value twice. `ops` is undefined for a record type other than {@link RECORD_TYPE_OPS}, and
 * `malformed` means a valid checksum over a payload that does not decode (a writer bug).
 */
export function decodeRecordOps(bytes: Uint8Array, at: number, end = bytes.byteLength): RecordOpsResult {
  const frame = decodeFrame(bytes, at, end);
  if (frame.kind !== 'frame') return frame;
  const payloadStart = at + RECORD_HEADER_BYTES;
  let ops: DecodedOp[] | undefined;
  let problem: string | undefined;
  if (bytes[at + 16] === RECORD_TYPE_OPS) {
    try {
      ops = decodeOps(bytes, payloadStart, frame.next);
    } catch (error) {
      problem = (error as Error).message;
    }
  }
  const puts: { offset: number; length: number; crc: number; op: DecodedOp & { type: 'put' } }[] = [];
  for (const op of ops ?? []) if (op.type === 'put') puts.push({ offset: op.valueStart, length: op.valueLength, crc: 0, op });
  const crc = ops ? checksumRecord(bytes, at + 4, frame.next, puts, 0) : crc32c(bytes.subarray(at + 4, frame.next));
  if (crc !== frame.storedCrc) return { kind: 'torn' };
  const record = recordOf(bytes, at, frame.next);
  if (record.kind !== 'record') return record;
  if (problem !== undefined) return { kind: 'malformed', seq: record.seq, next: record.next, message: problem };
  for (const put of puts) put.op.valueCrc = put.crc;
  return { kind: 'record', seq: record.seq, type: record.type, next: record.next, ops };
}

/** One decoded operation: the value is referenced by position, not copied. */
export type DecodedOp =
  | { type: 'put'; key: string; valueStart: number; valueLength: number; expiresAt: number; /** Set by {@link decodeRecordOps}. */ valueCrc?: number }
  | { type: 'del'; key: string };

/**
 * Decode the operations of a {@link RECORD_TYPE_OPS} payload.
 *
 * @throws TypeError when the payload is malformed (a writer bug or a foreign writer: the checksum was valid).
 */
export function decodeOps(bytes: Uint8Array, payloadStart: number, payloadEnd: number): DecodedOp[] {
  const view = viewOf(bytes);
  const fail = (): never => {
    throw new TypeError(`malformed record payload at ${payloadStart}`);
  };
  if (payloadEnd - payloadStart < 4) fail();
  const count = view.getUint32(payloadStart, true);
  const ops: DecodedOp[] = [];
  let at = payloadStart + 4;
  for (let i = 0; i < count; i++) {
    if (at + 5 > payloadEnd) fail();
    const kind = bytes[at];
    const keyLength = view.getUint32(at + 1, true);
    at += 5;
    if (at + keyLength > payloadEnd) fail();
    const key = decodeUtf8At(bytes, at, keyLength);
    at += keyLength;
    if (kind === OP_PUT || kind === OP_PUT_EXPIRING) {
      let expiresAt = 0;
      if (kind === OP_PUT_EXPIRING) {
        if (at + 8 > payloadEnd) fail();
        expiresAt = view.getFloat64(at, true);
        at += 8;
      }
      if (at + 4 > payloadEnd) fail();
      const valueLength = view.getUint32(at, true);
      at += 4;
      if (at + valueLength > payloadEnd) fail();
      ops.push({ type: 'put', key, valueStart: at, valueLength, expiresAt });
      at += valueLength;
    } else if (kind === OP_DEL) {
      ops.push({ type: 'del', key });
    } else {
      fail();
    }
  }
  if (at !== payloadEnd) fail();
  return ops;
}
