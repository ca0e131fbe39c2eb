/** Pure key helpers both sides use: what a valid key is, and the prefix reserved for Walden's own entries. */

/** Keys Walden keeps for itself (the request-id ledger) start with this; no app key may. */
export const RESERVED_PREFIX = '\u0000walden:';

/** Largest UTF-8 key accepted (64 KiB). */
export const MAX_KEY_BYTES = 64 * 1024;

const utf8 = new TextEncoder();

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
