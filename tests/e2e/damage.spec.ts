/** Damaged and foreign files in a store's OPFS directory: the documented error, and nothing lost. */
import { expect, storeName, test } from './support/fixtures.js';

test('a flipped byte mid-log is STORE_CORRUPTION naming file and offset; restoring the byte loses nothing', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    const dirOf = async () => (await (await navigator.storage.getDirectory()).getDirectoryHandle('walden')).getDirectoryHandle(name);
    const readFile = async (file: string) => new Uint8Array(await (await (await (await dirOf()).getFileHandle(file)).getFile()).arrayBuffer());
    const writeFile = async (file: string, bytes: Uint8Array) => {
      const writable = await (await (await dirOf()).getFileHandle(file, { create: true })).createWritable();
      await writable.write(bytes as Uint8Array<ArrayBuffer>);
      await writable.close();
    };
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
    const names: string[] = [];
    for await (const key of (await dirOf()) as unknown as AsyncIterable<[string, unknown]>) names.push(key[0]);
    return { corrupt, foreign, restored, names };
  }, name);
  expect(r.corrupt.code).toBe('STORE_CORRUPTION');
  expect(r.corrupt.message).toMatch(/wal-0000000000000001\.log at offset \d+/);
  expect(r.foreign).toMatchObject({ code: 'STORE_CORRUPTION', message: expect.stringContaining('not a Walden WAL segment') });
  expect(r.restored).toEqual({ ok: 50 });
  expect(r.names).toContain('notes.txt');
});

test('relaxed durability: writes resolve and survive a worker kill', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    const opened = await window.harness.open(name, { durability: 'relaxed' });
    const seqs = await Promise.all(Array.from({ length: 100 }, (_, i) => window.harness.store!.put(`k${i}`, i)));
    window.harness.worker!.terminate();
    const reopened = await window.harness.open(name, { durability: 'relaxed' });
    return { durability: opened.durability, last: seqs[99], reopened, k99: await window.harness.store!.get('k99') };
  }, name);
  expect(r).toMatchObject({ durability: 'relaxed', last: 100, reopened: { seq: 100, keys: 100 }, k99: 99 });
});
