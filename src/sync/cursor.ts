/**
 * Where sync stands, kept inside the store: a reserved entry `\u0000walden:sync:<stream>` put in
 * every record that sync commits, so that applying remote records and moving the cursor are one
 * local commit. Records that carry it came from the stream and are never published again.
 */
import { decodeUtf8, encodeUtf8 } from '../format/bytes.js';
import { RESERVED_PREFIX } from '../keys.js';
import type { EncodedOp } from '../protocol.js';

/** Every sync cursor key starts with this. */
export const SYNC_CURSOR_PREFIX = `${RESERVED_PREFIX}sync:`;

/** The cursor of one stream. */
export interface SyncCursor {
  /** This device's id in the stream's subjects. */
  device: string;
  /** The last stream seq applied here. */
  pulled: number;
  /** The highest local seq of this device seen coming back from the stream. */
  ownSeen: number;
}

/** The reserved key of the cursor for `stream`. */
export function cursorKey(stream: string): string {
  return `${SYNC_CURSOR_PREFIX}${stream}`;
}

/** Whether a committed record came from a sync stream (it carries a cursor). */
export function fromStream(ops: readonly EncodedOp[]): boolean {
  return ops.some((op) => op.key.startsWith(SYNC_CURSOR_PREFIX));
}

/** The put that saves `cursor` for `stream`. */
export function cursorOp(stream: string, cursor: SyncCursor): EncodedOp {
  return { type: 'put', key: cursorKey(stream), value: encodeUtf8(JSON.stringify({ v: 1, ...cursor })) };
}

/** Decode a cursor value; undefined for none or a value this build does not read. */
export function decodeCursor(bytes: Uint8Array | undefined): SyncCursor | undefined {
  if (!bytes) return undefined;
  try {
    const c = JSON.parse(decodeUtf8(bytes)) as Partial<SyncCursor> & { v?: number };
    if (c.v !== 1 || typeof c.device !== 'string' || !Number.isSafeInteger(c.pulled) || !Number.isSafeInteger(c.ownSeen)) return undefined;
    return { device: c.device, pulled: c.pulled!, ownSeen: c.ownSeen! };
  } catch {
    return undefined;
  }
}

/** A new random device id (16 characters of base32). */
export function newDeviceId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let id = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      id += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return id;
}
