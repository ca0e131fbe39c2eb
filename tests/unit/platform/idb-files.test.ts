/**
 * The IndexedDB backend (fake-indexeddb in Node): files across reopen and page boundaries, the
 * engine on it (acknowledged = durable, compaction, a crash), the fence inside each flush's
 * transaction, and a failed flush that undoes the commit and loses nothing.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../src/engine/engine.js';
import { Fence, FencedOut } from '../../../src/engine/fence.js';
import { MemoryCatalog } from '../../../src/engine/memory.js';
import { IDB_PAGE_BYTES, idbStoreExists, openIdbDirectory, removeIdbStore } from '../../../src/platform/idb-files.js';
import { dump, put, STORE } from '../support/engine.js';

let n = 0;
const unique = () => `idb-${n++}-${Math.random().toString(36).slice(2)}`;
const bytes = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);

describe('IndexedDB files', () => {
  it('keep what was flushed across pages, growth and truncation; lose what was not', async () => {
    const store = unique();
    const dir = await openIdbDirectory(store);
    const file = await dir.open('f', { create: true });
    const big = bytes(IDB_PAGE_BYTES * 2 + 100, 1);
    file.write(big, { at: 10 });
    file.truncate(IDB_PAGE_BYTES + 5);
    file.write(Uint8Array.of(9, 9), { at: IDB_PAGE_BYTES - 1 });
    file.flush();
    await dir.settled();
    file.write(Uint8Array.of(1, 2, 3), { at: 0 }); // never flushed: as after a crash, it is gone
    const again = await (await openIdbDirectory(store)).open('f');
    expect(again.getSize()).toBe(IDB_PAGE_BYTES + 5);
    const read = new Uint8Array(IDB_PAGE_BYTES + 5);
    expect(again.read(read, { at: 0 })).toBe(IDB_PAGE_BYTES + 5);
    const expected = new Uint8Array(IDB_PAGE_BYTES + 5);
    expected.set(big.subarray(0, IDB_PAGE_BYTES + 5 - 10), 10);
    expected.set([9, 9], IDB_PAGE_BYTES - 1);
    expect(read).toEqual(expected);
    expect(await dir.list()).toEqual(['f']);
    expect(await idbStoreExists(store)).toBe(true);
    await removeIdbStore(store);
    expect(await idbStoreExists(store)).toBe(false);
    // Its pages are gone too (the API cannot tell: a file made again with the name reads its size, 0).
    const raw = await openDB('walden-files');
    expect(await raw.count('pages', IDBKeyRange.bound([store, ''], [store, '\uffff']))).toBe(0);
    raw.close();
    await expect(dir.open('f')).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('hold an engine: acknowledged writes survive a crash, compaction and reopen; info() names the backend', async () => {
    const store = unique();
    const catalog = new MemoryCatalog();
    let engine = await Engine.open(await openIdbDirectory(store), catalog, STORE, { durability: 'strict', compactThresholdBytes: 4096 });
    expect(engine.info().backend).toBe('indexeddb');
    for (let i = 0; i < 200; i++) await engine.commit([[put(`k${i % 50}`, `v${i}`)]]);
    await engine.compact();
    await engine.commit([[put('after', 'compaction')]]);
    const before = dump(engine);
    engine.halt(); // a crash: nothing closed, nothing more flushed
    engine = await Engine.open(await openIdbDirectory(store), catalog, STORE, { durability: 'strict' });
    expect(dump(engine)).toEqual(before);
    expect(engine.info()).toMatchObject({ seq: 201, keys: 51 });
    expect(engine.info().snapshotSeq).toBeGreaterThan(0);
    await engine.close();
  });

  it('refuse to acknowledge anything more from a leader replaced by a newer epoch; what it wrote late lies past the seal', async () => {
    const store = unique();
    const catalog = new MemoryCatalog();
    const oldDir = await openIdbDirectory(store);
    const oldFence = await Fence.open(oldDir);
    oldFence.claim(1);
    const old = await Engine.open(oldDir, catalog, STORE, { durability: 'strict', fence: () => oldFence.check(1) });
    await old.commit([[put('a', 'by the old leader')]]);
    // A newer leader claims the fence and takes over (the old one's thread was frozen meanwhile).
    const newDir = await openIdbDirectory(store);
    const newFence = await Fence.open(newDir);
    newFence.claim(2);
    const fresh = await Engine.open(newDir, catalog, STORE, { durability: 'strict', fence: () => newFence.check(2), takeoverEpoch: 2 });
    // The old leader wakes: its flush lands in its own segment, and it is told it was replaced.
    await expect(old.commit([[put('b', 'too late')]])).rejects.toBeInstanceOf(FencedOut);
    await expect(old.commit([[put('c', 'later still')]])).rejects.toBeInstanceOf(FencedOut);
    // Neither can it change the fence or remove a file.
    oldFence.release(1);
    await expect(oldDir.settled()).rejects.toBeInstanceOf(FencedOut);
    await expect(oldDir.remove((await newDir.list()).find((f) => f.startsWith('wal-'))!)).rejects.toBeInstanceOf(FencedOut);
    expect(dump(fresh)).toEqual(new Map([['a', 'by the old leader']]));
    await fresh.commit([[put('d', 'new leader')]]);
    expect(fresh.info().seq).toBe(2);
    await fresh.close();
    const reopened = await Engine.open(await openIdbDirectory(store), catalog, STORE, { durability: 'strict' });
    expect(dump(reopened)).toEqual(new Map([['a', 'by the old leader'], ['d', 'new leader']]));
    expect(reopened.info().recovery.droppedRecords).toBeGreaterThanOrEqual(1);
    expect((await Fence.open(await openIdbDirectory(store))).state()).toEqual({ epoch: 2, released: false });
    await reopened.close();
  });

  it('a claim over a fence that changed after it was read (a predecessor\'s late release) is refused; read again, it holds', async () => {
    const store = unique();
    const leaving = await Fence.open(await openIdbDirectory(store));
    leaving.claim(1);
    await leaving.settled();
    const next = await Fence.open(await openIdbDirectory(store));
    expect(next.state()).toEqual({ epoch: 1, released: false });
    leaving.release(1);
    await leaving.settled();
    next.claim(2);
    await expect(next.settled()).rejects.toBeInstanceOf(FencedOut);
    const again = await Fence.open(await openIdbDirectory(store));
    expect(again.state()).toEqual({ epoch: 1, released: true });
    again.claim(2);
    await again.settled();
    expect((await Fence.open(await openIdbDirectory(store))).state()).toEqual({ epoch: 2, released: false });
  });

  it('a failed flush rejects the commit and undoes it; the next commit works and nothing acknowledged is lost', async () => {
    const store = unique();
    const catalog = new MemoryCatalog();
    const dir = await openIdbDirectory(store);
    const engine = await Engine.open(dir, catalog, STORE, { durability: 'strict' });
    await engine.commit([[put('kept', '1')]]);
    const transaction = dir.db.transaction.bind(dir.db);
    let failNext = true;
    (dir.db as { transaction: unknown }).transaction = ((...args: Parameters<typeof transaction>) => {
      if (failNext && args[1] === 'readwrite') {
        failNext = false;
        throw new DOMException('quota', 'QuotaExceededError');
      }
      return transaction(...args);
    }) as typeof transaction;
    await expect(engine.commit([[put('refused', 'x')]])).rejects.toMatchObject({ code: 'STORE_QUOTA_EXCEEDED' });
    expect(engine.get('refused')).toBeUndefined();
    expect(await engine.commit([[put('next', '2')]])).toEqual([2]);
    engine.halt();
    const reopened = await Engine.open(await openIdbDirectory(store), catalog, STORE, { durability: 'strict' });
    expect(dump(reopened)).toEqual(new Map([['kept', '1'], ['next', '2']]));
    await reopened.close();
  });
});
