/** Damaged and foreign files among a store's files (OPFS, or IndexedDB in the fallback's projects): the documented error, and nothing lost. */
import { backend } from './support/browser.js';
import { expect, storeName, test } from './support/fixtures.js';

test('a flipped byte mid-log is STORE_CORRUPTION naming file and offset; restoring the byte loses nothing', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    const files = window.harness.storeFiles;
    const readFile = (file: string) => files.read(name, file);
    const writeFile = (file: string, bytes: Uint8Array) => files.write(name, file, bytes);
    const tryOpen = async () => {
      try {
        const info = await window.harness.open(name);
        const keys = info.keys;
        await window.harness.store!.close();
        return { ok: keys };
      } catch (error) {
        return { code: (error as { code: string }).code, message: (error as Error).message };
      }
    };
    await window.harness.open(name);
    for (let i = 0; i < 50; i++) await window.harness.store!.put(`k${i}`, { i, text: 'some text '.repeat(3) });
    await window.harness.store!.close();
    const wal = 'wal-0000000000000001.log';
    const original = await readFile(wal);
    // Damage record 10 of 50: not the tail, so it is reported, not cut.
    const damaged = original.slice();
    damaged[24 + 10 * 70]! ^= 0x20;
    await writeFile(wal, damaged);
    const corrupt = await tryOpen();
    // A foreign file under a Walden name is refused too.
    await writeFile(wal, new TextEncoder().encode('SQLite format 3\u0000 and then some bytes that are not a WAL'));
    const foreign = await tryOpen();
    // A file of another name is left alone; the original log opens whole.
    await writeFile('notes.txt', new TextEncoder().encode('mine'));
    await writeFile(wal, original);
    const restored = await tryOpen();
    return { corrupt, foreign, restored, names: await files.list(name) };
  }, name);
  expect(r.corrupt.code).toBe('STORE_CORRUPTION');
  expect(r.corrupt.message).toMatch(/wal-0000000000000001\.log at offset \d+/);
  expect(r.foreign).toMatchObject({ code: 'STORE_CORRUPTION', message: expect.stringContaining('not a Walden WAL segment') });
  expect(r.restored).toEqual({ ok: 50 });
  expect(r.names).toContain('notes.txt');
});

test('relaxed durability: writes resolve and survive a worker kill (on IndexedDB: those flushed, a prefix)', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    const opened = await window.harness.open(name, { durability: 'relaxed' });
    const seqs = await Promise.all(Array.from({ length: 100 }, (_, i) => window.harness.store!.put(`k${i}`, i)));
    // Some flushed (within 50 ms, and on IndexedDB once its transaction completes), some not yet.
    let flushed = 0;
    for (const started = performance.now(); flushed < 100 && performance.now() - started < 10_000; ) {
      await new Promise((r) => setTimeout(r, 10));
      flushed = (await window.harness.store!.info()).durableSeq;
    }
    await Promise.all(Array.from({ length: 100 }, (_, i) => window.harness.store!.put(`k${100 + i}`, 100 + i)));
    window.harness.worker!.terminate();
    const reopened = await window.harness.open(name, { durability: 'relaxed' });
    const values = await window.harness.store!.getMany(Array.from({ length: 200 }, (_, i) => `k${i}`));
    return { durability: opened.durability, last: seqs[99], flushed, reopened, present: values.map((v) => v !== undefined) };
  }, name);
  expect(r).toMatchObject({ durability: 'relaxed', last: 100, flushed: 100 });
  // OPFS: what write() handed to the file survives the worker. IndexedDB: what was flushed does,
  // and what survives is a prefix of the log.
  const kept = r.reopened.seq;
  if (backend() === 'opfs') expect(kept).toBe(200);
  else expect(kept).toBeGreaterThanOrEqual(100);
  expect(r.reopened.keys).toBe(kept);
  expect(r.present).toEqual(Array.from({ length: 200 }, (_, i) => i < kept));
});

test("a snapshot whose values are damaged is found just after the open, and the store reopens from the previous generation by itself, losing nothing", async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    const storeFiles = window.harness.storeFiles;
    const list = () => storeFiles.list(name);
    const store = async () => window.harness.store!;
    await window.harness.open(name);
    for (let i = 0; i < 200; i++) await (await store()).put(`k${i}`, { i, text: `value ${i} `.repeat(4) });
    await (await store()).compact();
    for (let i = 200; i < 220; i++) await (await store()).put(`k${i}`, { i, text: `value ${i} `.repeat(4) });
    await (await store()).compact();
    for (let i = 220; i < 230; i++) await (await store()).put(`k${i}`, { i, text: `value ${i} `.repeat(4) });
    await (await store()).close();
    const newest = (await list()).filter((n) => n.startsWith('snap-')).pop()!;
    const bytes = await storeFiles.read(name, newest);
    bytes[24 + 1000]! ^= 0x01; // a byte of a value in the middle of the values, far from the index
    await storeFiles.write(name, newest, bytes);

    const opened = await window.harness.open(name);
    const started = performance.now();
    let now = opened;
    while (now.recovery.damagedFiles.length === 0 && performance.now() - started < 10_000) {
      await new Promise((r) => setTimeout(r, 20));
      now = await (await store()).info();
    }
    // Wait for the reopen (its new epoch) before reading everything.
    while (now.epoch === opened.epoch && performance.now() - started < 10_000) {
      await new Promise((r) => setTimeout(r, 20));
      now = await (await store()).info();
    }
    const values = await (await store()).getMany(Array.from({ length: 230 }, (_, i) => `k${i}`));
    const wrong = values.flatMap((v, i) => ((v as { i?: number } | undefined)?.i === i ? [] : [i]));
    const files = await list();
    await (await store()).close();
    return { opened: { snapshotSeq: opened.snapshotSeq, damaged: opened.recovery.damagedFiles.length }, now, newest, wrong, files, foundMs: performance.now() - started };
  }, name);
  // The open itself succeeds (it checks the index only); the check that follows finds the
  // damage, before or just after the open answers, depending on how fast it runs.
  expect([200, 220]).toContain(r.opened.snapshotSeq);
  expect(r.now.recovery.damagedFiles).toEqual([{ file: r.newest, reason: expect.stringContaining('checksum') }]);
  expect(r.now.snapshotSeq).toBe(200); // the previous generation
  expect(r.now).toMatchObject({ seq: 230, keys: 230, role: 'leader' });
  expect(r.wrong).toEqual([]);
  expect(r.files).not.toContain(r.newest);
});

test('a flipped byte inside a stored Blob is STORE_CORRUPTION; restored, the Blob reads back byte for byte', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    const files = window.harness.storeFiles;
    const readFile = (file: string) => files.read(name, file);
    const writeFile = (file: string, bytes: Uint8Array) => files.write(name, file, bytes);
    const photo = new Uint8Array(4096).fill(0x5a);
    await window.harness.open(name);
    await window.harness.store!.put('photo', { photo: new File([photo], 'cat.png', { type: 'image/png', lastModified: 7 }), caption: 'a cat' });
    // Later records, so the damage is not a torn tail.
    for (let i = 0; i < 5; i++) await window.harness.store!.put(`k${i}`, i);
    await window.harness.store!.close();
    const wal = 'wal-0000000000000001.log';
    const original = await readFile(wal);
    const at = original.indexOf(0x5a) + 2000;
    const damaged = original.slice();
    damaged[at]! ^= 0x01;
    await writeFile(wal, damaged);
    let corrupt: { code?: string; message?: string } = {};
    try {
      await window.harness.open(name);
    } catch (error) {
      corrupt = { code: (error as { code: string }).code, message: (error as Error).message };
    }
    await writeFile(wal, original);
    await window.harness.open(name);
    const value = (await window.harness.store!.get('photo')) as { photo: File; caption: string };
    const bytes = new Uint8Array(await value.photo.arrayBuffer());
    await window.harness.store!.close();
    return { corrupt, isFile: value.photo instanceof File, name: value.photo.name, type: value.photo.type, lastModified: value.photo.lastModified, intact: bytes.length === 4096 && bytes.every((b) => b === 0x5a), caption: value.caption };
  }, name);
  expect(r.corrupt.code).toBe('STORE_CORRUPTION');
  expect(r.corrupt.message).toMatch(/wal-0000000000000001\.log at offset \d+/);
  expect(r).toMatchObject({ isFile: true, name: 'cat.png', type: 'image/png', lastModified: 7, intact: true, caption: 'a cat' });
});
