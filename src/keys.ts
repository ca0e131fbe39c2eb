/** Pure key helpers both sides use: what a valid key is, ranges, and the prefix reserved for Walden's own entries. */
import type { ScanRange } from './protocol.js';

/** Keys Walden keeps for itself (the request-id ledger) start with this; no app key may. */
export const RESERVED_PREFIX = '\u0000walden:';

/** Largest UTF-8 key accepted (64 KiB). */
export const MAX_KEY_BYTES = 64 * 1024;

const utf8 = new TextEncoder();

/** Whether `key` is one of Walden's reserved keys. */
export function isReserved(key: string): boolean {
  return key.startsWith(RESERVED_PREFIX);
}

/** Whether `key` falls in `range` (its `limit` and `reverse` do not apply); reserved keys never do. */
export function keyInRange(key: string, range: ScanRange): boolean {
  if (isReserved(key)) return false;
  if (range.prefix !== undefined && !key.startsWith(range.prefix)) return false;
  if (range.gt !== undefined && !(key > range.gt)) return false;
  if (range.gte !== undefined && !(key >= range.gte)) return false;
  if (range.lt !== undefined && !(key < range.lt)) return false;
  if (range.lte !== undefined && !(key <= range.lte)) return false;
  return true;
}

/**
 * Throw a TypeError unless `key` is a valid key: a non-empty, well-formed string of at most
 * {@link MAX_KEY_BYTES} UTF-8 bytes, outside the reserved prefix.
 */
export function assertKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`${what} must be a string, got ${key === null ? 'null' : typeof key}`);
  if (key.length === 0) throw new TypeError(`${what} must not be empty`);
  if (key.startsWith(RESERVED_PREFIX)) throw new TypeError(`${what} must not start with "\\u0000walden:" (reserved for Walden's own entries)`);
  if (!key.isWellFormed()) throw new TypeError(`${what} contains a lone surrogate`);
  if (key.length * 3 > MAX_KEY_BYTES && utf8.encode(key).byteLength > MAX_KEY_BYTES) throw new TypeError(`${what} is longer than ${MAX_KEY_BYTES} UTF-8 bytes`);
}

const SCAN_KEYS = ['prefix', 'gt', 'gte', 'lt', 'lte'] as const;

/** Throw a TypeError unless `range` is a valid {@link ScanRange}: string bounds, a non-negative integer `limit`. */
export function assertScanRange(range: unknown): asserts range is ScanRange {
  if (typeof range !== 'object' || range === null) throw new TypeError('scan range must be an object');
  const r = range as Record<string, unknown>;
  for (const k of SCAN_KEYS) if (r[k] !== undefined && typeof r[k] !== 'string') throw new TypeError(`scan ${k} must be a string`);
  if (r.limit !== undefined && !(Number.isInteger(r.limit) && (r.limit as number) >= 0)) throw new TypeError('scan limit must be a non-negative integer');
}
