/** Bit flips, foreign files and missing files: damage is cut as a torn tail or reported, never returned as data. */
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/errors.js';
import { encodeSegmentHeader } from '../../../src/format/wal.js';
import type { EncodedOp } from '../../../src/protocol.js';
import { applyModel, del, dump, machine, openEngine, put } from '../support/engine.js';

const RECORDS: EncodedOp[][] = [[put('a', 'alpha')], [put('b', 'beta'), put('c', 'gamma')], [del('a')], [put('d', 'delta')]];

async function buildStore(compactAfter?: number) {
  const m = machine();
  const engine = await openEngine(m);
  for (let i = 0; i < RECORDS.length; i++) {
    await engine.commit([RECORDS[i]!]);
    if (i + 1 === compactAfter) await engine.compact();
  }
  await engine.close();
  return m;
}

describe('damage', () => {
  it.each([undefined, 2])('every single bit flip is cut as a tail or reported (compacted after %s)', async (compactAfter) => {
    const pristine = await buildStore(compactAfter);
    const files = await pristine.dir.list();
    let reported = 0;
    let cut = 0;
    for (const file of files) {
      const bytes = pristine.dir.bytes(file)!;
      for (let i = 0; i < bytes.byteLength; i++) {
        const m = await buildStore(compactAfter);
        const damaged = bytes.slice();
        damaged[i]! ^= 1 << (i % 8);
        m.dir.setBytes(file, damaged);
        let state: Map<string, string>;
        let seq: number;
        try {
          const engine = await openEngine(m);
          seq = engine.info().seq;
          state = dump(engine);
        } catch (error) {
          expect(error).toBeInstanceOf(StoreError);
          expect(['STORE_CORRUPTION', 'STORE_UNSUPPORTED']).toContain((error as StoreError).code);
          expect((error as StoreError).message).toMatch(/(wal|snap)-[0-9a-f]{16}\.(log|db)/);
          reported++;
          continue;
        }
        // Opened: what it returns must be exactly a prefix of the history.
        expect(state).toEqual(applyModel(new Map(), RECORDS.slice(0, seq)));
        if (seq < RECORDS.length) cut++;
      }
    }
    expect(reported).toBeGreaterThan(0);
    console.log(`bit flips: ${reported} reported, ${cut} cut as a torn tail`);
  });

  it('refuses a segment of an unknown version or foreign magic, and loses nothing', async () => {
    const m = await buildStore();
    const name = (await m.dir.list())[0]!;
    const original = m.dir.bytes(name)!;
    const newer = original.slice();
    newer.set(encodeSegmentHeader(1));
    newer[8] = 9; // version 9, then a valid header checksum for it
    const { crc32c } = await import('../../../src/format/crc32c.js');
    new DataView(newer.buffer).setUint32(20, crc32c(newer.subarray(0, 20)), true);
    m.dir.setBytes(name, newer);
    await expect(openEngine(m)).rejects.toMatchObject({ code: 'STORE_UNSUPPORTED' });
    const foreign = original.slice();
    foreign.set(new TextEncoder().encode('SQLite f'), 0);
    m.dir.setBytes(name, foreign);
    await expect(openEngine(m)).rejects.toMatchObject({ code: 'STORE_CORRUPTION', message: expect.stringContaining(name) });
    // Nothing was deleted or rewritten: putting the original back opens the full store.
    m.dir.setBytes(name, original);
    const engine = await openEngine(m);
    expect(dump(engine)).toEqual(applyModel(new Map(), RECORDS));
  });

  it('leaves files with unknown names alone', async () => {
    const m = await buildStore();
    m.dir.setBytes('notes.txt', new TextEncoder().encode('mine'));
    const engine = await openEngine(m);
    expect(engine.info().recovery.removedFiles).toEqual([]);
    expect(await m.dir.list()).toContain('notes.txt');
  });

  it('drops catalog rows whose snapshot vanished and reports missing history', async () => {
    const m = await buildStore(2);
    const snap = (await m.dir.list()).find((n) => n.startsWith('snap-'))!;
    await m.dir.remove(snap);
    // The log since seq 1 is still there, so nothing is lost; the row is dropped and reported.
    const engine = await openEngine(m);
    expect(engine.info().recovery.droppedCatalogRows).toBe(1);
    expect(dump(engine)).toEqual(applyModel(new Map(), RECORDS));
  });

  it('falls back to the older generation when the newest snapshot is damaged', async () => {
    const m = machine();
    let engine = await openEngine(m);
    await engine.commit([[put('a', '1')]]);
    await engine.compact();
    await engine.commit([[put('b', '2')]]);
    await engine.compact();
    await engine.close();
    const newest = 'snap-0000000000000002.db';
    const bytes = m.dir.bytes(newest)!;
    bytes[30]! ^= 0xff;
    m.dir.setBytes(newest, bytes);
    engine = await openEngine(m);
    expect(engine.info()).toMatchObject({ seq: 2, snapshotSeq: 1 });
    expect(engine.info().recovery.damagedFiles).toEqual([{ file: newest, reason: expect.any(String) }]);
    expect(dump(engine)).toEqual(new Map([['a', '1'], ['b', '2']]));
  });

  it('a value damaged after open is STORE_CORRUPTION on read, not data', async () => {
    const m = machine();
    const engine = await openEngine(m);
    await engine.commit([[put('k', 'value')], [put('other', 'fine')]]);
    const name = (await m.dir.list())[0]!;
    const bytes = m.dir.bytes(name)!;
    const at = Buffer.from(bytes).indexOf('value');
    bytes[at]! ^= 0x10;
    m.dir.setBytes(name, bytes); // under the open engine, as a failing disk would
    expect(() => engine.get('k')).toThrow(expect.objectContaining({ code: 'STORE_CORRUPTION', message: expect.stringContaining(`${name} at offset ${at}`) }));
    expect(new TextDecoder().decode(engine.get('other'))).toBe('fine');
  });
});
