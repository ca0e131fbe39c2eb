/** Restart reconciliation: catalog against files, vanished files reported, never a silent empty store. */
import { describe, expect, it } from 'vitest';
import { dump, machine, openEngine, put } from '../support/engine.js';

async function storeWithSnapshots() {
  const m = machine();
  const engine = await openEngine(m);
  for (let i = 0; i < 3; i++) {
    await engine.commit([[put(`k${i}`, `v${i}`)]]);
    await engine.compact();
  }
  await engine.commit([[put('tail', 't')]]);
  await engine.close();
  return m;
}

describe('reconciliation at open', () => {
  it('a store whose files all vanished is STORE_DATA_LOST, and the catalog is left as it was', async () => {
    const m = await storeWithSnapshots();
    const rows = await m.catalog.list('test');
    for (const name of await m.dir.list()) await m.dir.remove(name);
    await expect(openEngine(m)).rejects.toMatchObject({ code: 'STORE_DATA_LOST', message: expect.stringContaining('files are gone') });
    expect(await m.catalog.list('test')).toEqual(rows);
  });

  it('a store written without compaction whose log vanished is STORE_DATA_LOST too', async () => {
    const m = machine();
    const engine = await openEngine(m);
    await engine.commit([[put('a', '1')]]);
    await engine.close();
    await m.dir.remove('wal-0000000000000001.log');
    await expect(openEngine(m)).rejects.toMatchObject({ code: 'STORE_DATA_LOST' });
  });

  it('snapshots gone but a later log left is STORE_DATA_LOST naming the gap', async () => {
    const m = await storeWithSnapshots();
    for (const name of await m.dir.list()) if (name.startsWith('snap-')) await m.dir.remove(name);
    await expect(openEngine(m)).rejects.toMatchObject({ code: 'STORE_DATA_LOST', message: expect.stringMatching(/seq \d+ is needed/) });
  });

  it('with the catalog cleared, opens from the files themselves and writes the row again', async () => {
    const m = await storeWithSnapshots();
    m.catalog.forget('test');
    const engine = await openEngine(m);
    expect(dump(engine)).toEqual(new Map([['k0', 'v0'], ['k1', 'v1'], ['k2', 'v2'], ['tail', 't']]));
    expect((await m.catalog.list('test')).map((r) => r.seq)).toEqual([3]);
    expect(engine.info().recovery.removedFiles).toEqual(['snap-0000000000000002.db']);
  });

  it('orphan snapshot files (no catalog row) are removed and reported', async () => {
    const m = await storeWithSnapshots();
    const newest = (await m.catalog.list('test')).at(-1)!;
    await m.catalog.delete('test', newest.seq);
    const engine = await openEngine(m);
    expect(engine.info().recovery.removedFiles).toContain(newest.file);
    expect(dump(engine).get('tail')).toBe('t');
  });

  it('a brand-new store opens empty, and reopening an empty store is fine', async () => {
    const m = machine();
    const engine = await openEngine(m);
    await engine.close();
    const again = await openEngine(m);
    expect(again.info()).toMatchObject({ seq: 0, keys: 0 });
  });
});
