import { describe, expect, it } from 'vitest';
import { decodeOps, decodeRecord, decodeSegmentHeader, encodeRecords, encodeSegmentHeader, WAL_HEADER_BYTES } from '../../../src/format/wal.js';
import CRC32C from 'crc-32/crc32c.js';
import { crc32c, crc32cCombine, crc32cImplementation } from '../../../src/format/crc32c.js';
import { installWasmCrc32c } from '../../../src/format/crc32c-wasm.js';
import fc from 'fast-check';

const bytes = (hex: string) => Uint8Array.from(hex.trim().split(/\s+/).map((h) => Number.parseInt(h, 16)));

// The worked example of docs/format.md, byte for byte.
const GOLDEN_SEGMENT = bytes(`
  57 41 4c 44 4e 57 41 4c 01 00 00 00 01 00 00 00 00 00 00 00 56 17 ec 9b
  a6 6d 34 48 0f 00 00 00 01 00 00 00 00 00 00 00 01 01 00 00 00 01 01 00 00 00 61 01 00 00 00 01
  9c d9 f2 6c 15 00 00 00 02 00 00 00 00 00 00 00 01 02 00 00 00 01 01 00 00 00 62 01 00 00 00 02 02 01 00 00 00 61`);
describe('CRC-32C', () => {
  it('matches the standard check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('sums large buffers in WebAssembly with the same results as the JavaScript tables, seeded or not (property)', async () => {
    await installWasmCrc32c();
    expect(crc32cImplementation()).toBe('installed');
    const js = (bytes: Uint8Array, seed = 0) => CRC32C.buf(bytes, seed | 0) >>> 0;
    const big = new Uint8Array(300_000).map((_, i) => (i * 2654435761) >>> 24);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 64 * 1024 - 2, max: 100_000 }), fc.nat({ max: 0xffff_ffff }), (from, length, seed) => {
        const bytes = big.subarray(from, from + length);
        expect(crc32c(bytes)).toBe(js(bytes));
        expect(crc32c(bytes, seed)).toBe(js(bytes, seed));
      }),
      { numRuns: 50 },
    );
  });
});

describe('WAL format (docs/format.md)', () => {
  it('encodes the worked example exactly', () => {
    const { bytes: records } = encodeRecords([
      { seq: 1, ops: [{ type: 'put', key: 'a', value: Uint8Array.of(1) }] },
      { seq: 2, ops: [{ type: 'put', key: 'b', value: Uint8Array.of(2) }, { type: 'del', key: 'a' }] },
    ]);
    const segment = new Uint8Array([...encodeSegmentHeader(1), ...records]);
    expect([...segment]).toEqual([...GOLDEN_SEGMENT]);
  });

  it('decodes the worked example, zero fill as the end', () => {
    const file = new Uint8Array(GOLDEN_SEGMENT.byteLength + 100);
    file.set(GOLDEN_SEGMENT);
    expect(decodeSegmentHeader(file)).toEqual({ kind: 'header', firstSeq: 1 });
    const first = decodeRecord(file, WAL_HEADER_BYTES);
    expect(first).toMatchObject({ kind: 'record', seq: 1, type: 1, next: 56 });
    const second = decodeRecord(file, 56);
    expect(second).toMatchObject({ kind: 'record', seq: 2, next: 94 });
    if (second.kind !== 'record') throw new Error();
    expect(decodeOps(file, second.payloadStart, second.payloadEnd)).toEqual([
      { type: 'put', key: 'b', valueStart: 87, valueLength: 1, expiresAt: 0 },
      { type: 'del', key: 'a' },
    ]);
    expect(decodeRecord(file, 94)).toEqual({ kind: 'end' });
  });

  it('calls a truncated or flipped record torn, never a record', () => {
    for (let cut = 25; cut < 56; cut++) expect(decodeRecord(GOLDEN_SEGMENT.subarray(0, cut), 24).kind).toBe('torn');
    for (let i = 24; i < 56; i++) {
      const damaged = GOLDEN_SEGMENT.slice();
      damaged[i]! ^= 0x04;
      expect(decodeRecord(damaged, 24).kind).toBe('torn');
    }
  });

  it('tells foreign, damaged and newer headers apart', () => {
    const header = encodeSegmentHeader(7);
    expect(decodeSegmentHeader(header.subarray(0, 10))).toEqual({ kind: 'torn' });
    expect(decodeSegmentHeader(new Uint8Array(24))).toEqual({ kind: 'torn' });
    const foreign = header.slice();
    foreign[0] = 0x53;
    expect(decodeSegmentHeader(foreign)).toEqual({ kind: 'foreign' });
    const damaged = header.slice();
    damaged[13]! ^= 1;
    expect(decodeSegmentHeader(damaged)).toEqual({ kind: 'damaged' });
    const newer = header.slice();
    newer[8] = 2;
    new DataView(newer.buffer).setUint32(20, crc32c(newer.subarray(0, 20)), true);
    expect(decodeSegmentHeader(newer)).toEqual({ kind: 'unsupported', version: 2 });
  });
});

describe('CRC-32C combination', () => {
  it('gives the checksum of A then B from those of A and B (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        const whole = new Uint8Array(a.byteLength + b.byteLength);
        whole.set(a);
        whole.set(b, a.byteLength);
        expect(crc32cCombine(crc32c(a), crc32c(b), b.byteLength)).toBe(crc32c(whole));
      }),
    );
    const big = new Uint8Array(5_000_000).map((_, i) => (i * 31) & 0xff);
    expect(crc32cCombine(crc32c(big.subarray(0, 7)), crc32c(big.subarray(7)), big.byteLength - 7)).toBe(crc32c(big));
  });
});
