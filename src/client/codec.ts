/**
 * Values to bytes and back (msgpackr, with records defined inside each value so the bytes
 * stand alone), and the argument checks that run before anything is sent to the worker.
 */
import { Packr } from 'msgpackr';
import { RESERVED_PREFIX } from '../engine/ledger.js';

/** Largest encoded value accepted by `put` (64 MiB). */
export const MAX_VALUE_BYTES = 64 * 1024 * 1024;
/** Largest UTF-8 key accepted (64 KiB). */
export const MAX_KEY_BYTES = 64 * 1024;
/** Largest total of encoded values in one `batch` (128 MiB). */
export const MAX_BATCH_BYTES = 128 * 1024 * 1024;

// Options are fixed for the format's lifetime: changing them changes the bytes on disk.
const packrOptions = () => ({ structuredClone: true, useRecords: true, mapsAsObjects: false, maxSharedStructures: 0, moreTypes: true, int64AsType: 'bigint' as const });
const packr = new Packr(packrOptions());

const CLONABLE_TAGS = new Set([
  '[object Object]', '[object Array]', '[object Date]', '[object RegExp]', '[object Map]', '[object Set]',
  '[object ArrayBuffer]', '[object DataView]', '[object Int8Array]', '[object Uint8Array]', '[object Uint8ClampedArray]',
  '[object Int16Array]', '[object Uint16Array]', '[object Int32Array]', '[object Uint32Array]', '[object Float32Array]',
  '[object Float64Array]', '[object BigInt64Array]', '[object BigUint64Array]', '[object Boolean]', '[object Number]', '[object String]',
]);

/** Throw a TypeError unless `value` is made only of what the codec round-trips exactly. */
function assertClonable(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string': case 'number': case 'boolean': case 'bigint': case 'undefined':
      return;
    case 'function': case 'symbol':
      throw new TypeError(`value${path} is a ${typeof value}, which cannot be stored`);
  }
  if (value === null || seen.has(value as object)) return;
  const tag = Object.prototype.toString.call(value);
  if (!CLONABLE_TAGS.has(tag)) throw new TypeError(`value${path} is ${tag.slice(8, -1)}, which cannot be stored`);
  seen.add(value as object);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      assertClonable(k, `${path}<key>`, seen);
      assertClonable(v, `${path}.get(…)`, seen);
    }
  } else if (value instanceof Set) {
    for (const v of value) assertClonable(v, `${path}<item>`, seen);
  } else if (Array.isArray(value) || tag === '[object Object]') {
    for (const k of Object.keys(value as object)) assertClonable((value as Record<string, unknown>)[k], `${path}.${k}`, seen);
  }
}

/**
 * Encode a value for storage.
 *
 * @throws TypeError for `undefined`, functions, symbols, platform objects and anything else
 *   that would not come back exactly; and for values over {@link MAX_VALUE_BYTES}.
 */
export function encodeValue(value: unknown): Uint8Array {
  if (value === undefined) throw new TypeError('value must not be undefined (use delete to remove a key)');
  assertClonable(value, '', new Set());
  const bytes = packr.pack(value);
  if (bytes.byteLength > MAX_VALUE_BYTES) throw new TypeError(`value is ${bytes.byteLength} bytes encoded; the limit is ${MAX_VALUE_BYTES}`);
  return bytes;
}

/** Encoded values at least this large get a buffer of their own and are transferred to the worker, not copied. */
export const TRANSFER_VALUE_BYTES = 64 * 1024;

/**
 * The encoded value as it should cross to the worker. msgpackr returns views into a shared
 * buffer, and structured clone copies a view's whole buffer: a large value gets its own
 * (exactly sized) buffer so that it can be transferred; small ones stay views, since one copy
 * of their shared buffer is cheaper than many transfers.
 */
export function forTransfer(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength < TRANSFER_VALUE_BYTES || (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)) return bytes;
  return bytes.slice();
}

/** Decode bytes written by {@link encodeValue}. */
export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

const utf8 = new TextEncoder();

/**
 * Throw a TypeError unless `key` is a valid key: a non-empty, well-formed string of at most
 * {@link MAX_KEY_BYTES} UTF-8 bytes.
 */
export function assertKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`${what} must be a string, got ${key === null ? 'null' : typeof key}`);
  if (key.length === 0) throw new TypeError(`${what} must not be empty`);
  if (key.startsWith(RESERVED_PREFIX)) throw new TypeError(`${what} must not start with "\\u0000walden:" (reserved for Walden's own entries)`);
  if (!key.isWellFormed()) throw new TypeError(`${what} contains a lone surrogate`);
  if (key.length * 3 > MAX_KEY_BYTES && utf8.encode(key).byteLength > MAX_KEY_BYTES) throw new TypeError(`${what} is longer than ${MAX_KEY_BYTES} UTF-8 bytes`);
}
