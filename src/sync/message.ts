/**
 * The messages sync publishes to, and reads from, a JetStream stream: one local record per
 * message (the WAL record bytes of `format/wal.ts`, checksum included), split into parts when it
 * is larger than the server takes. Everything read from the stream is untrusted: this file
 * checks size, checksum and shape and never throws on bad input.
 */
import { decodeRecord, decodeOps, encodeRecords, RECORD_TYPE_OPS } from '../format/wal.js';
import { decodeValue } from '../format/value.js';
import { assertKey } from '../keys.js';
import type { EncodedOp } from '../protocol.js';

/** Header naming a part of a split record: `<index>/<count>`, from `1/<count>`. */
export const PART_HEADER = 'Walden-Part';
/** Room left in each message for the subject, headers and protocol framing. */
export const MESSAGE_OVERHEAD_BYTES = 1024;
/** Largest record sync reassembles from parts (the largest a batch can be, with its headers). */
export const MAX_SYNC_RECORD_BYTES = 129 * 1024 * 1024;
/** Device ids: what a subject token may safely hold. */
const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** One message to publish: its body, its message id (deduplicated by the server) and, when split, its part. */
export interface OutgoingMessage {
  body: Uint8Array;
  msgId: string;
  part?: { index: number; count: number };
}

/** A record of another device (or this one) as read from the stream: its local seq there and its ops. */
export interface IncomingRecord {
  device: string;
  seq: number;
  ops: EncodedOp[];
}

/** Whether `device` is a valid device id. */
export function isDeviceId(device: string): boolean {
  return DEVICE_ID.test(device);
}

/**
 * The messages that carry local record `seq` with `ops` (Walden's reserved entries already
 * removed): one, or parts of at most `maxPayload` bytes each.
 */
export function encodeOutgoing(device: string, seq: number, ops: readonly EncodedOp[], maxPayload: number): OutgoingMessage[] {
  const { bytes } = encodeRecords([{ seq, ops }]);
  const room = Math.max(1024, maxPayload - MESSAGE_OVERHEAD_BYTES);
  if (bytes.byteLength <= room) return [{ body: bytes, msgId: `${device}-${seq}` }];
  const count = Math.ceil(bytes.byteLength / room);
  return Array.from({ length: count }, (_, i) => ({
    body: bytes.subarray(i * room, Math.min(bytes.byteLength, (i + 1) * room)),
    msgId: `${device}-${seq}-${i + 1}`,
    part: { index: i + 1, count },
  }));
}

/** What a message read from the stream is: a whole record, a part of one, or refused (`why`). */
export type Incoming =
  | { kind: 'record'; record: IncomingRecord }
  | { kind: 'part'; device: string; index: number; count: number; body: Uint8Array }
  | { kind: 'invalid'; why: string };

/** The device a subject `<prefix>.<device>` names, if it is one. */
export function deviceOfSubject(subject: string, prefix: string): string | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  const device = subject.slice(prefix.length + 1);
  return isDeviceId(device) ? device : undefined;
}

/** Read one message of the stream (its subject, its `Walden-Part` header if any, its body). */
export function decodeIncoming(subject: string, prefix: string, partHeader: string | undefined, body: Uint8Array): Incoming {
  const device = deviceOfSubject(subject, prefix);
  if (device === undefined) return { kind: 'invalid', why: `subject ${JSON.stringify(subject.slice(0, 200))} does not name a device under ${prefix}` };
  if (partHeader) {
    const match = /^(\d{1,6})\/(\d{1,6})$/.exec(partHeader);
    const index = Number(match?.[1]);
    const count = Number(match?.[2]);
    if (!match || index < 1 || count < 2 || index > count) return { kind: 'invalid', why: `bad ${PART_HEADER} header ${JSON.stringify(partHeader.slice(0, 40))}` };
    return { kind: 'part', device, index, count, body };
  }
  return decodeRecordBody(device, body);
}

/** Check and decode the bytes of one whole record from `device`. */
export function decodeRecordBody(device: string, body: Uint8Array): Incoming {
  if (body.byteLength > MAX_SYNC_RECORD_BYTES) return { kind: 'invalid', why: `a record of ${body.byteLength} bytes is over the ${MAX_SYNC_RECORD_BYTES}-byte limit` };
  const record = decodeRecord(body, 0);
  if (record.kind !== 'record') return { kind: 'invalid', why: 'the record fails its checksum or is cut short' };
  if (record.next !== body.byteLength) return { kind: 'invalid', why: 'bytes after the record' };
  if (record.type !== RECORD_TYPE_OPS) return { kind: 'invalid', why: `record type ${record.type} is not one this build reads` };
  if (!Number.isSafeInteger(record.seq) || record.seq < 1) return { kind: 'invalid', why: `record seq ${record.seq} is out of range` };
  const ops: EncodedOp[] = [];
  try {
    for (const op of decodeOps(body, record.payloadStart, record.payloadEnd)) {
      assertKey(op.key);
      if (op.type === 'del') {
        ops.push({ type: 'del', key: op.key });
        continue;
      }
      const value = body.slice(op.valueStart, op.valueStart + op.valueLength);
      decodeValue(value);
      if (op.expiresAt !== 0 && !Number.isFinite(op.expiresAt)) throw new TypeError(`expiry of ${JSON.stringify(op.key)} is not a finite time`);
      ops.push(op.expiresAt ? { type: 'put', key: op.key, value, expiresAt: op.expiresAt } : { type: 'put', key: op.key, value });
    }
  } catch (error) {
    return { kind: 'invalid', why: (error as Error).message };
  }
  if (ops.length === 0) return { kind: 'invalid', why: 'a record with no operations' };
  return { kind: 'record', record: { device, seq: record.seq, ops } };
}

/**
 * Joins the parts of split records, per device, in stream order. A part out of order (a device
 * that restarted a record from its first part after a crash) starts the record again.
 */
export class Reassembler {
  readonly #open = new Map<string, { count: number; parts: Uint8Array[]; bytes: number; firstStreamSeq: number }>();

  /** The stream seq of the oldest first part whose record is not complete yet: a cursor must stay below it. */
  oldestOpen(): number | undefined {
    let oldest: number | undefined;
    for (const open of this.#open.values()) oldest = Math.min(oldest ?? open.firstStreamSeq, open.firstStreamSeq);
    return oldest;
  }

  /** Give up on every incomplete record (its device died mid-record; it sends it again from its first part). */
  abandon(): void {
    this.#open.clear();
  }

  /** Add a part read at `streamSeq`; returns the record once its last part is in, `invalid` when the parts do not fit. */
  add(part: Extract<Incoming, { kind: 'part' }>, streamSeq: number): Incoming | undefined {
    let open = this.#open.get(part.device);
    if (part.index === 1) {
      open = { count: part.count, parts: [], bytes: 0, firstStreamSeq: streamSeq };
      this.#open.set(part.device, open);
    }
    if (!open || open.count !== part.count || open.parts.length !== part.index - 1) {
      this.#open.delete(part.device);
      return { kind: 'invalid', why: `part ${part.index}/${part.count} of device ${part.device} does not follow the parts before it` };
    }
    open.parts.push(part.body);
    open.bytes += part.body.byteLength;
    if (open.bytes > MAX_SYNC_RECORD_BYTES) {
      this.#open.delete(part.device);
      return { kind: 'invalid', why: `a split record over the ${MAX_SYNC_RECORD_BYTES}-byte limit` };
    }
    if (part.index < part.count) return undefined;
    this.#open.delete(part.device);
    const whole = new Uint8Array(open.bytes);
    let at = 0;
    for (const p of open.parts) (whole.set(p, at), (at += p.byteLength));
    return decodeRecordBody(part.device, whole);
  }
}
