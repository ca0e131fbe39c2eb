/** The snapshot format's worked example (docs/format.md) as golden bytes, and its index reader. */
import { describe, expect, it } from 'vitest';
import { decodeSnapshotLayout, readSnapshotIndex, SnapshotEncoder } from '../../../src/format/snapshot.js';
import { crc32c } from '../../../src/format/crc32c.js';

const bytes = (hex: string) => Uint8Array.from(hex.trim().split(/\s+/).map((h) => Number.parseInt(h, 16)));

const GOLDEN_SNAPSHOT = bytes(`
  57 41 4c 44 4e 53 4e 50 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00
  02
  01 00 00 00 01 00 00 00 18 00 00 00 00 00 00 00 a6 23 46 b3 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 62
  19 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 f4 45 3f 61 a9 0b 6b 98 57 41 4c 44 4e 45 4e 44`);

describe('snapshot format (docs/format.md)', () => {
  it('encodes the worked example exactly and decodes it', () => {
    const encoder = new SnapshotEncoder(2);
    const file = new Uint8Array([...encoder.header(), ...encoder.value('b', Uint8Array.of(2), 2), ...encoder.finish()]);
    expect([...file]).toEqual([...GOLDEN_SNAPSHOT]);
    expect(encoder.checksum).toBe(0x986b0ba9);
    const layout = decodeSnapshotLayout(file.subarray(0, 24), file.subarray(file.byteLength - 32), file.byteLength);
    expect(layout).toEqual({ seq: 2, indexOffset: 25, count: 1, indexCrc: 0x613f45f4, fileCrc: 0x986b0ba9 });
    if (typeof layout === 'string') throw new Error();
    const index = file.subarray(25, file.byteLength - 16);
    expect(crc32c(index, crc32c(file.subarray(0, 24)))).toBe(layout.indexCrc);
    const view = readSnapshotIndex(index, layout);
    if (view === 'damaged') throw new Error('damaged');
    expect([view.length, view.keyAt(0), view.entryAt(0)]).toEqual([1, 'b', { valueOffset: 24, valueLength: 1, valueCrc: crc32c(Uint8Array.of(2)), seq: 2, expiresAt: 0 }]);
    expect(readSnapshotIndex(index.subarray(0, index.byteLength - 1), layout)).toBe('damaged');
  });
});
