/** Shared little-endian helpers for the on-disk codecs. Seqs and offsets are integers below 2^53. */

const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true });

/** Encode a (well-formed) string as UTF-8. */
export function encodeUtf8(text: string): Uint8Array {
  return UTF8_ENCODER.encode(text);
}

/** The length of `text` in UTF-8 (a lone surrogate counts as U+FFFD, 3 bytes, as TextEncoder writes it). */
export function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) length += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      length += 2; // a pair: 2 units, 4 bytes
      i++;
    } else length += 2;
  }
  return length;
}

/**
 * Write `text` as UTF-8 into `target` at `at` (which must have room: 3 bytes per UTF-16 unit),
 * returning the bytes written. ASCII is copied char by char; anything else goes through
 * `TextEncoder.encodeInto`. No array is allocated either way.
 */
export function encodeUtf8Into(text: string, target: Uint8Array, at: number): number {
  let i = 0;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) break;
    target[at + i] = code;
  }
  if (i === text.length) return i;
  return i + UTF8_ENCODER.encodeInto(text.slice(i), target.subarray(at + i)).written;
}

/** Short ASCII strings (most keys) skip TextDecoder, whose per-call cost dominates at this size. */
const ASCII_FAST_PATH_MAX = 64;

/** Decode UTF-8 bytes; throws a TypeError on malformed input. */
export function decodeUtf8(bytes: Uint8Array): string {
  return decodeUtf8At(bytes, 0, bytes.byteLength);
}

/**
 * Decode the UTF-8 bytes `bytes[start, start + length)`; throws a TypeError on malformed input.
 * Short ASCII runs are built char by char, without the subarray and the call into TextDecoder
 * that cost more than the decoding itself when a snapshot's 100,000 keys are read at open.
 */
export function decodeUtf8At(bytes: Uint8Array, start: number, length: number): string {
  if (length <= ASCII_FAST_PATH_MAX) {
    let text = '';
    let i = start;
    const end = start + length;
    for (; i < end; i++) {
      const byte = bytes[i]!;
      if (byte > 0x7f) break;
      text += String.fromCharCode(byte);
    }
    if (i === end) return text;
  }
  return UTF8_DECODER.decode(bytes.subarray(start, start + length));
}

/** Write an unsigned integer below 2^53 as 8 bytes little-endian. */
export function setUint64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 0x1_0000_0000, true);
  view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

/** Read 8 bytes little-endian as a number; values of 2^53 and above come back as NaN. */
export function getUint64(view: DataView, at: number): number {
  const low = view.getUint32(at, true);
  const high = view.getUint32(at + 4, true);
  if (high >= 0x20_0000) return Number.NaN;
  return high * 0x1_0000_0000 + low;
}

/** A DataView over exactly the bytes of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Compare two byte arrays for equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether every byte of `bytes` is zero (a preallocated, never-written region). */
export function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.byteLength; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Format a seq as 16 lowercase hex digits, the way file names carry it. */
export function seqHex(seq: number): string {
  return seq.toString(16).padStart(16, '0');
}

/**
 * Write `value` (a safe non-negative integer) as an unsigned LEB128 varint, 7 bits a byte, low
 * first, at `at` in `out` (which needs room for 8 bytes); returns where it ends.
 */
export function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/**
 * The unsigned LEB128 varint at `reader.at` in `bytes`, moving `reader.at` past it; undefined
 * when the bytes end first or it runs past 9 bytes.
 */
export function readVarint(bytes: Uint8Array, reader: { at: number }): number | undefined {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[reader.at++];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 0x80;
    if (scale > 2 ** 56) return undefined;
  }
}
