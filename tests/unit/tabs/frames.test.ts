/** The follower's frame ring: contiguous runs only; a gap restarts it; reads outside it miss. */
import { describe, expect, it } from 'vitest';
import { FrameRing } from '../../../src/tabs/frames.js';
import type { EncodedChange } from '../../../src/protocol.js';

const change = (seq: number, key = `k${seq}`): EncodedChange => ({ seq, ops: [{ type: 'del', key }] });
const seqs = (changes: EncodedChange[]) => changes.map((c) => c.seq);

describe('FrameRing', () => {
  it('serves records after a cursor it covers, filtered by range', async () => {
    const ring = new FrameRing();
    ring.add(1, [change(5), change(6, 'other'), change(7)]);
    const read = await ring.read(4, {}, 10, 0);
    expect(read.kind === 'changes' && seqs(read.changes)).toEqual([5, 6, 7]);
    const filtered = await ring.read(4, { prefix: 'k' }, 10, 0);
    expect(filtered).toEqual({ kind: 'changes', changes: [change(5), change(7)], next: 7 });
    expect(await ring.read(5, {}, 1, 0)).toEqual({ kind: 'changes', changes: [change(6, 'other')], next: 6 });
  });

  it('misses a cursor before its first record or past its last', async () => {
    const ring = new FrameRing();
    ring.add(1, [change(5), change(6)]);
    expect(await ring.read(3, {}, 10, 0)).toEqual({ kind: 'miss' });
    expect(await ring.read(7, {}, 10, 0)).toEqual({ kind: 'miss' });
    expect(await new FrameRing().read(0, {}, 10, 0)).toEqual({ kind: 'miss' });
  });

  it('restarts at a gap (expected 7, got 9) instead of serving across the hole', async () => {
    const ring = new FrameRing();
    ring.add(1, [change(5), change(6)]);
    ring.add(1, [change(9), change(10)]);
    expect(ring.gaps).toBe(1);
    expect([ring.first, ring.last]).toEqual([9, 10]);
    expect(await ring.read(6, {}, 10, 0)).toEqual({ kind: 'miss' }); // 7 and 8 come from the leader
    const read = await ring.read(8, {}, 10, 0);
    expect(read.kind === 'changes' && seqs(read.changes)).toEqual([9, 10]);
  });

  it('drops repeats, ignores an older epoch and starts afresh on a newer one', () => {
    const ring = new FrameRing();
    ring.add(2, [change(5), change(6)]);
    ring.add(2, [change(6), change(7)]);
    expect([ring.first, ring.last, ring.gaps]).toEqual([5, 7, 0]);
    ring.add(1, [change(8)]);
    expect(ring.last).toBe(7);
    ring.add(3, [change(20)]);
    expect([ring.first, ring.last]).toEqual([20, 20]);
  });

  it('keeps at most its capacity, dropping the oldest', () => {
    const ring = new FrameRing(3);
    ring.add(1, [1, 2, 3, 4, 5].map((s) => change(s)));
    expect([ring.first, ring.last]).toEqual([3, 5]);
  });

  it('a caught-up read waits for the next frame, or returns empty after waitMs', async () => {
    const ring = new FrameRing();
    ring.add(1, [change(1)]);
    const waiting = ring.read(1, {}, 10, 5_000);
    setTimeout(() => ring.add(1, [change(2)]), 10);
    const read = await waiting;
    expect(read.kind === 'changes' && seqs(read.changes)).toEqual([2]);
    expect(await ring.read(2, {}, 10, 10)).toEqual({ kind: 'changes', changes: [], next: 2 });
  });
});
