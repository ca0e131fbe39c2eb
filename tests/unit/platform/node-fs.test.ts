/** `walden/node` over the real file system: the API, values, reopen, compaction, a torn tail. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../src/node.js';

const dirs: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'walden-node-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('walden/node', () => {
  it('stores and reads back values as structuredClone gives them, across a reopen and a compaction', async () => {
    const dir = folder();
    const value = { at: new Date(7), tags: new Set(['a']), bytes: new Uint8Array(new ArrayBuffer(8), 2, 3), zero: -0, holes: [1, , 3] };
    let store = await openStore('s', { dir });
    expect(store.role).toBe('leader');
    expect(await store.put('k', value)).toBe(1);
    expect(await store.batch([{ type: 'put', key: 'a', value: 1 }, { type: 'put', key: 'b', value: 2 }, { type: 'del', key: 'a' }])).toBe(2);
    await store.compact();
    await store.put('c', 'after the snapshot');
    await store.close();
    store = await openStore('s', { dir });
    const back = (await store.get('k')) as typeof value;
    expect(back).toEqual(structuredClone(value));
    expect([back.bytes.byteOffset, back.bytes.buffer.byteLength, Object.is(back.zero, -0), 1 in back.holes]).toEqual([2, 8, true, false]);
    const keys: string[] = [];
    for await (const [key] of store.scan()) keys.push(key);
    expect(keys).toEqual(['b', 'c', 'k']);
    expect(await store.info()).toMatchObject({ seq: 3, keys: 3, snapshotSeq: 2 });
    expect(readdirSync(join(dir, 's')).sort()).toEqual(['catalog.json', 'snap-0000000000000002.db', 'wal-0000000000000001.log', 'wal-0000000000000003.log']);
    await store.close();
  });

  it('cuts a torn tail at open and reports it', async () => {
    const dir = folder();
    const store = await openStore('s', { dir, durability: 'strict' });
    await store.put('a', 'x'.repeat(100));
    await store.put('b', 'y'.repeat(100));
    await store.close();
    const wal = join(dir, 's', 'wal-0000000000000001.log');
    // Cut into the last record, as a crash in the middle of its write would.
    const bytes = new Uint8Array(readFileSync(wal));
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0) end--;
    truncateSync(wal, end - 20);
    const reopened = await openStore('s', { dir });
    expect(await reopened.get('a')).toBe('x'.repeat(100));
    expect(await reopened.get('b')).toBeUndefined();
    expect((await reopened.info()).recovery.tornBytes).toBeGreaterThan(0);
    expect(statSync(wal).size).toBeGreaterThan(0);
    await reopened.close();
  });

  it('refuses what it cannot do here clearly', async () => {
    const store = await openStore('s', { dir: folder() });
    await expect(store.put('blob', new Blob(['x']))).rejects.toThrow(TypeError);
    await expect(store.export()).rejects.toMatchObject({ code: 'STORE_UNSUPPORTED' });
    await store.close();
    await expect(openStore('a/b', { dir: folder() })).rejects.toThrow(TypeError);
    await expect(openStore('s', {} as never)).rejects.toThrow(TypeError);
  });
});
