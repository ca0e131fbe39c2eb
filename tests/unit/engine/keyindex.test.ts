/** The index as opening builds it: a binary search over the snapshot's footer under an overlay, then the B-tree. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSnapshotLayout, readSnapshotIndex, SnapshotEncoder, SNAPSHOT_HEADER_BYTES, SNAPSHOT_TRAILER_BYTES } from '../../../src/format/snapshot.js';
import { KeyIndex } from '../../../src/engine/keyindex.js';
import { ledgerKey } from '../../../src/engine/ledger.js';
import type { Source, ValueLocation } from '../../../src/engine/location.js';

const source: Source = { name: 'snap-0000000000000001.db', file: undefined as never };

/** A snapshot of `keys` (sorted, distinct), some expired by `now` = 1000; its index read in place. */
function snapshotIndex(keys: string[], expiredEvery = 0) {
  const encoder = new SnapshotEncoder(1);
  const chunks = [encoder.header()];
  keys.forEach((key, i) => chunks.push(encoder.value(key, Uint8Array.of(i & 0xff), i + 1, undefined, expiredEvery && i % expiredEvery === 0 ? 500 : 0)));
  chunks.push(encoder.finish());
  const file = new Uint8Array(encoder.bytes);
  let at = 0;
  for (const chunk of chunks) (file.set(chunk, at), (at += chunk.byteLength));
  const layout = decodeSnapshotLayout(file.subarray(0, SNAPSHOT_HEADER_BYTES), file.subarray(file.byteLength - SNAPSHOT_TRAILER_BYTES), file.byteLength);
  if (typeof layout === 'string') throw new Error(layout);
  const read = readSnapshotIndex(file.subarray(layout.indexOffset, file.byteLength - 16), layout, 1000);
  if (read === 'damaged') throw new Error('damaged');
  return { view: read, expired: read.expired };
}

const at = (seq: number): ValueLocation => ({ source, offset: seq, length: 1, crc: 0, seq, expiresAt: 0 });
const sorted = (keys: Iterable<string>) => [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('KeyIndex', () => {
  it('leaves out entries expired at open and finds the others by binary search', () => {
    const keys = sorted(Array.from({ length: 300 }, (_, i) => `k${i}`));
    const { view, expired } = snapshotIndex(keys, 3);
    expect(expired).toBe(100);
    const index = KeyIndex.ofSnapshot(view, source);
    expect(index.built).toBe(false);
    expect(index.size).toBe(200);
    keys.forEach((key, i) => expect(index.get(key)?.seq).toBe(i % 3 === 0 ? undefined : i + 1));
    expect(index.get('k')).toBeUndefined();
    expect(index.get('zzz')).toBeUndefined();
    expect([...index.tree().keys()]).toEqual(keys.filter((_, i) => i % 3 !== 0));
  });

  const key = fc.constantFrom('', 'a', 'b', 'b/1', 'c', 'é', '\u{1F600}', '\uffff', 'x'.repeat(70), ledgerKey('tab-1'), ledgerKey('tab-2'), '\u0000a');
  const op = fc.oneof(fc.record({ put: key, seq: fc.nat(1000) }), fc.record({ del: key }), fc.constant({ build: true }), fc.constant({ slice: true }));

  it('behaves like a Map before, during and after building the tree (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(key), fc.array(op, { maxLength: 40 }), async (initial, ops) => {
        const keys = sorted(initial);
        const index = KeyIndex.ofSnapshot(snapshotIndex(keys).view, source);
        const model = new Map(keys.map((k, i) => [k, i + 1]));
        const check = () => {
          for (const k of ['', 'a', 'b', 'b/1', 'c', 'é', '\u{1F600}', '\uffff', 'x'.repeat(70), ledgerKey('tab-1'), ledgerKey('tab-2'), '\u0000a', 'zz']) expect(index.get(k)?.seq).toBe(model.get(k));
          expect(index.size).toBe(model.size);
          expect(index.reservedCount()).toBe([...model.keys()].filter((k) => k.startsWith('\u0000walden:')).length);
        };
        let building: Promise<void> | undefined;
        for (const o of ops) {
          if ('put' in o) (index.set(o.put, at(o.seq)), model.set(o.put, o.seq));
          else if ('del' in o) (index.delete(o.del), model.delete(o.del));
          else if ('build' in o) index.tree();
          else building ??= index.buildInBackground(0, () => Promise.resolve(), () => false);
          check();
        }
        await building;
        expect([...index.tree().entries()].map(([k, v]) => [k, v.seq])).toEqual(sorted(model.keys()).map((k) => [k, model.get(k)]));
        check();
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a snapshot that lists keys out of order when it builds the tree', () => {
    const { view } = snapshotIndex(['b', 'a']);
    const index = KeyIndex.ofSnapshot(view, source);
    expect(() => index.tree()).toThrow(expect.objectContaining({ code: 'STORE_CORRUPTION', message: expect.stringContaining('out of order') }));
  });
});
