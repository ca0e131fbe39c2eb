/** The checkpoint byte form (docs/format.md, "Checkpoints"): golden bytes, and every refusal. */
import { describe, expect, it } from 'vitest';
import { encodeCheckpoint, readCheckpoint, type CheckpointData } from '../../../src/format/checkpoint.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const EXAMPLE: CheckpointData = {
  stream: 's',
  sequence: 2,
  watermark: 0,
  eventCount: 3,
  savedAt: 0,
  operatorStates: { n: Uint8Array.of(7) },
  sourceOffsets: { s: 2 },
  metadata: { v: '1' },
};

describe('checkpoint bytes', () => {
  it('encodes a small checkpoint byte for byte', () => {
    const bytes = encodeCheckpoint(EXAMPLE);
    const body =
      '01000000' + '73' + // stream "s"
      '0200000000000000' + // sequence 2
      '0000000000000000' + // watermark 0
      '0300000000000000' + // event count 3
      '0000000000000000' + // saved at 0
      '01000000' + '01000000' + '6e' + '01000000' + '07' + // one state: "n" = 07
      '01000000' + '01000000' + '73' + '0000000000000040' + // one offset: "s" = 2.0
      '01000000' + '01000000' + '76' + '01000000' + '31'; // one metadata entry: "v" = "1"
    expect(hex(bytes.subarray(0, 8))).toBe('57434b5001000000'); // "WCKP", version 1, reserved
    expect(bytes.subarray(8, 12)).toEqual(Uint8Array.of(body.length / 2, 0, 0, 0));
    expect(hex(bytes.subarray(16))).toBe(body);
    const read = readCheckpoint(bytes);
    expect(read).toEqual({ kind: 'checkpoint', checkpoint: EXAMPLE });
  });

  it('says why bytes are not a checkpoint, without throwing', () => {
    const good = encodeCheckpoint(EXAMPLE);
    const flipped = good.slice();
    flipped[20]! ^= 1;
    const newer = good.slice();
    newer[4] = 2;
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 10), /truncated/],
      [good.subarray(0, good.length - 1), /header says/],
      [Uint8Array.of(...good, 0), /header says/],
      [flipped, /checksum/],
      [newer, /version 2/],
      [new Uint8Array(40), /magic/],
    ];
    for (const [bytes, reason] of cases) {
      const result = readCheckpoint(bytes);
      expect(result.kind).toBe('invalid');
      expect(result.kind === 'invalid' && result.reason).toMatch(reason);
    }
  });
});
