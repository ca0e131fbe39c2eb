import CRC32C from 'crc-32/crc32c.js';

/** The CRC-32C polynomial, bit-reflected. */
export const CRC32C_POLYNOMIAL = 0x82f63b78;

/** From this size on, {@link crc32c} uses the summer installed by {@link useLargeBufferCrc32c}, if any. */
export const LARGE_BUFFER_BYTES = 64 * 1024;

/** The unseeded CRC-32C of a large buffer, by faster code than the tables below (crc32c-wasm.ts). */
let sumLarge: ((bytes: Uint8Array) => number) | undefined;

/**
 * Sum buffers of {@link LARGE_BUFFER_BYTES} or more with `sum` (which must give the same
 * unseeded CRC-32C). The worker installs a WebAssembly one; the page keeps the tables only.
 */
export function useLargeBufferCrc32c(sum: (bytes: Uint8Array) => number): void {
  sumLarge = sum;
}

/** Which code sums large buffers now (tests, diagnostics). */
export function crc32cImplementation(): 'installed' | 'tables' {
  return sumLarge ? 'installed' : 'tables';
}

/**
 * CRC-32C (Castagnoli) of `bytes`, as an unsigned 32-bit integer.
 *
 * @param bytes The data to checksum.
 * @param seed A previous result, to continue a running checksum over several chunks.
 * @returns The checksum, in `[0, 2^32)`.
 */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  if (sumLarge && bytes.byteLength >= LARGE_BUFFER_BYTES) {
    const crc = sumLarge(bytes);
    return seed === 0 ? crc : crc32cCombine(seed >>> 0, crc, bytes.byteLength);
  }
  // crc-32 takes and returns the signed form; `>>> 0` makes it unsigned, `| 0` makes the seed signed again.
  return CRC32C.buf(bytes, seed | 0) >>> 0;
}

/** a(x)·b(x) modulo the polynomial, both bit-reflected (zlib's `multmodp`). */
function multiplyModP(a: number, b: number): number {
  let m = 0x8000_0000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ CRC32C_POLYNOMIAL : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0..31. */
const X_TO_2_TO_K: number[] = [];
for (let k = 0, p = 0x4000_0000; k < 32; k++, p = multiplyModP(p, p)) X_TO_2_TO_K.push(p);

/** Recent {@link shiftFor} results: the values of a workload tend to share a few lengths. */
const shifts = new Map<number, number>();

/** x^(8·bytes) modulo the polynomial: what shifting a checksum past `bytes` bytes multiplies it by. */
function shiftFor(bytes: number): number {
  const known = shifts.get(bytes);
  if (known !== undefined) return known;
  if (shifts.size >= 64) shifts.clear();
  let p = 0x8000_0000;
  for (let k = 3, n = bytes; n > 0; k++, n = Math.floor(n / 2)) if (n % 2) p = multiplyModP(X_TO_2_TO_K[k % 32]!, p);
  shifts.set(bytes, p);
  return p;
}

/**
 * Below this size, summing a value a second time is cheaper than a combination (about 0.2 µs
 * without the cache, as much as summing 150 bytes): callers combine only values this large.
 */
export const COMBINE_MIN_BYTES = 256;

/**
 * The CRC-32C of A followed by B, from the CRC-32C of each and B's length (zlib's
 * `crc32_combine`, for this polynomial; no npm package offers it). It lets a record's checksum be
 * computed while each value's own checksum is, in one pass over the bytes.
 */
export function crc32cCombine(crcA: number, crcB: number, lengthB: number): number {
  return (multiplyModP(shiftFor(lengthB), crcA) ^ crcB) >>> 0;
}
