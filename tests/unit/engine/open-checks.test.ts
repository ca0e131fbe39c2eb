/** Opening reads only a snapshot's index; the B-tree and the whole-file checksum come after. */
import { describe, expect, it } from 'vitest';
import type { StoreError } from '../../../src/errors.js';
import { SnapshotEncoder } from '../../../src/format/snapshot.js';
import { del, dump, machine, openEngine, put, STORE, text, untext } from '../support/engine.js';

/** 200 keys compacted into a snapshot, then a log of overwrites and deletes on top. */
async function compactedStore() {
  const m = machine();
  const engine = await openEngine(m);
  const model = new Map<string, string>();
  await engine.commit([Array.from({ length: 200 }, (_, i) => put(`k${String(i).padStart(3, '0')}`, `v${i}`))]);
  for (let i = 0; i < 200; i++) model.set(`k${String(i).padStart(3, '0')}`, `v${i}`);
  await engine.compact();
  await engine.commit([[put('k005', 'new'), del('k006'), put('new', 'n')]], { client: 'tab-1', n: 1 });
  model.set('k005', 'new').delete('k006');
  model.set('new', 'n');
  await engine.close();
  return { m, model };
}

describe('open checks after the open', () => {
  it('answers from the snapshot index before the tree is built, and the same after', async () => {
    const { m, model } = await compactedStore();
    // Nothing runs in the background while the gate is shut: every call sees the unbuilt index.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const engine = await openEngine(m, { yieldToEvents: () => gate });
    const read = (key: string) => {
      const value = engine.get(key);
      return value && untext.decode(value);
    };
    for (const key of [...model.keys(), 'k006', 'absent', '']) expect(read(key)).toBe(model.get(key));
    expect(engine.info().keys).toBe(model.size);
    await engine.commit([[put('k007', 'changed'), del('k008'), put('k008', 'back'), del('k009'), put('zzz', 'z')]], { client: 'tab-1', n: 2 });
    model.set('k007', 'changed').set('k008', 'back').set('zzz', 'z').delete('k009');
    for (const key of ['k007', 'k008', 'k009', 'zzz']) expect(read(key)).toBe(model.get(key));
    expect(engine.info().keys).toBe(model.size); // the ledger entry is not counted
    expect(await engine.commit([[put('k007', 'changed')]], { client: 'tab-1', n: 2 })).toEqual([3]); // the ledger is read lazily too
    expect(dump(engine)).toEqual(new Map([...model].sort(([a], [b]) => (a < b ? -1 : 1)))); // a scan builds the tree
    release();
    await engine.afterOpen;
    expect(engine.info().keys).toBe(model.size);
    await engine.close();
  });

  it('finds a damaged value region after the open, drops the row, and the next open falls back a generation', async () => {
    const m = machine();
    let engine = await openEngine(m);
    await engine.commit([[put('a', 'first'), put('b', 'second')]]);
    await engine.compact();
    await engine.commit([[put('c', 'third')]]);
    await engine.compact();
    await engine.close();
    const newest = 'snap-0000000000000002.db';
    const bytes = m.dir.bytes(newest)!;
    const at = Buffer.from(bytes).indexOf('second');
    bytes[at]! ^= 0x01;
    m.dir.setBytes(newest, bytes);

    const damage: StoreError[] = [];
    engine = await openEngine(m, { onSnapshotDamaged: (error) => damage.push(error) });
    expect(engine.info().snapshotSeq).toBe(2); // the index is intact, so the open went ahead
    expect(() => engine.get('b')).toThrow(expect.objectContaining({ code: 'STORE_CORRUPTION' })); // never served as data
    expect(untext.decode(engine.get('a'))).toBe('first');
    await engine.afterOpen;
    expect(damage.map((e) => e.code)).toEqual(['STORE_CORRUPTION']);
    expect(damage[0]!.message).toContain(newest);
    expect((await m.catalog.list(STORE)).map((row) => row.file)).not.toContain(newest);
    await engine.close();

    engine = await openEngine(m);
    expect(engine.info()).toMatchObject({ seq: 2, snapshotSeq: 1 });
    expect(dump(engine)).toEqual(new Map([['a', 'first'], ['b', 'second'], ['c', 'third']]));
    expect(await m.dir.list()).not.toContain(newest);
    await engine.close();
  });

  it('reports nothing for an intact snapshot', async () => {
    const { m } = await compactedStore();
    const damage: StoreError[] = [];
    const errors: unknown[] = [];
    const engine = await openEngine(m, { onSnapshotDamaged: (error) => damage.push(error), onBackgroundError: (error) => errors.push(error) });
    await engine.afterOpen;
    expect([damage, errors]).toEqual([[], []]);
    expect((await m.catalog.list(STORE)).length).toBe(1);
    await engine.close();
  });

  it('checks a snapshot no catalog row vouches for whole, key order included', async () => {
    const m = machine();
    // A checksum-valid snapshot whose index lists "b" before "a": only a bad writer makes one.
    const encoder = new SnapshotEncoder(2);
    const chunks = [encoder.header(), encoder.value('b', text.encode('2'), 2), encoder.value('a', text.encode('1'), 1), encoder.finish()];
    const name = 'snap-0000000000000002.db';
    m.dir.setBytes(name, Uint8Array.from(chunks.flatMap((chunk) => [...chunk])));
    const engine = await openEngine(m);
    expect(engine.info().recovery.damagedFiles).toEqual([{ file: name, reason: 'the index lists keys out of order' }]);
    expect(dump(engine)).toEqual(new Map());
    await engine.close();
  });
});
