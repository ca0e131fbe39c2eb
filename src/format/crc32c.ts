import CRC32C from 'crc-32/crc32c.js';

/**
 * CRC-32C (Castagnoli) of `bytes`, as an unsigned 32-bit integer.
 *
 * @param bytes The data to checksum.
 * @param seed A previous result, to continue a running checksum over several chunks.
 * @returns The checksum, in `[0, 2^32)`.
 */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  // crc-32 takes and returns the signed form; `>>> 0` makes it unsigned, `| 0` makes the seed signed again.
  return CRC32C.buf(bytes, seed | 0) >>> 0;
}
