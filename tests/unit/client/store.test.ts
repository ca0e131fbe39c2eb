/** The page side without a browser: argument checks, values through the worker's codec, and one message per tick. */
import { describe, expect, it } from 'vitest';
import type { Remote } from 'comlink';
import { Store } from '../../../src/client/store.js';
import { assertKey } from '../../../src/keys.js';
import { withValueCodec } from '../../../src/host/values.js';
import { Engine } from '../../../src/engine/engine.js';
import { MemoryCatalog, MemoryDirectory } from '../../../src/engine/memory.js';
import type { EngineApi, RecordApi } from '../../../src/protocol.js';

/** A Store over an in-process engine, counting commit messages. */
async function storeOverEngine() {
  const dir = new MemoryDirectory();
  const engine = await Engine.open(dir, new MemoryCatalog(dir), 's', { durability: 'strict', preallocateBytes: 0 });
  const calls: string[] = [];
  const core = {
    commit: async (writes: Parameters<Engine['commit']>[0]) => (calls.push(`commit:${writes.length}`), engine.commit(writes)),
    get: async (key: string) => (calls.push('get'), engine.get(key)),
    getMany: async (keys: string[]) => engine.getMany(keys),
    scan: async (range: object, size: number) => engine.scan(range, size),
    info: async () => engine.info(),
    compact: async () => engine.compact(),
    close: async () => engine.close(),
  } as unknown as RecordApi;
  const remote = withValueCodec(core) as unknown as Remote<EngineApi>;
  return { store: new Store('s', 'strict', remote, () => {}), calls, dir };
}

describe('Store', () => {
  it('sends the writes of one tick as one commit, with one flush', async () => {
    const { store, calls, dir } = await storeOverEngine();
    const flushesBefore = dir.flushes;
    const seqs = await Promise.all([store.put('a', 1), store.put('b', 2), store.delete('a'), store.batch([{ type: 'put', key: 'c', value: 3 }])]);
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(calls).toEqual(['commit:4']);
    expect(dir.flushes - flushesBefore).toBe(1);
    await store.put('d', 4);
    expect(calls).toEqual(['commit:4', 'commit:1']);
  });

  it('sends pending writes before a read, so the read sees them', async () => {
    const { store, calls } = await storeOverEngine();
    const write = store.put('k', 'v');
    expect(await store.get('k')).toBe('v');
    expect(await write).toBe(1);
    expect(calls).toEqual(['commit:1', 'get']);
  });

  it('throws TypeError synchronously for bad arguments and sends nothing', async () => {
    const { store, calls } = await storeOverEngine();
    expect(() => store.put(42 as unknown as string, 1)).toThrow(TypeError);
    expect(() => store.batch([])).toThrow(TypeError);
    expect(() => store.batch([{ type: 'put', key: 'x', value: 1 }, { type: 'put', key: '', value: 1 }])).toThrow(TypeError);
    await Promise.resolve();
    expect(calls).toEqual([]);
  });
});

describe('values', () => {
  it('come back as structured clone gives them', async () => {
    const { store } = await storeOverEngine();
    const value = { m: new Map<unknown, unknown>([[1, { x: new Set([2n]) }]]), d: new Date(5), r: /x/y, t: new Int16Array([-3]), u: undefined, z: -0 };
    await store.put('k', value);
    expect(await store.get('k')).toEqual(value);
    expect(Object.is(((await store.get('k')) as typeof value).z, -0)).toBe(true);
  });

  it('that cannot be written as bytes are a TypeError at put, naming where they are', async () => {
    const { store, calls } = await storeOverEngine();
    for (const bad of [() => 1, Symbol('s'), { nested: [1, () => 2] }, new WeakSet(), Promise.resolve(), { get x() { return Symbol('y'); } }, new Uint8Array(new SharedArrayBuffer(2))]) {
      expect(() => store.put('k', bad)).toThrow(TypeError);
    }
    expect(() => store.put('k', { a: { b: [0, new WeakMap()] } })).toThrow(/value\.a\.b\.1 is WeakMap/);
    expect(() => store.batch([{ type: 'put', key: 'k', value: 1 }, { type: 'put', key: 'j', value: () => 1 }])).toThrow(/batch\[1\]/);
    await Promise.resolve();
    expect(calls).toEqual([]);
  });

  it('over the size limit reject that put alone, with a TypeError', async () => {
    const { store } = await storeOverEngine();
    const [small, large] = await Promise.allSettled([store.put('a', 1), store.put('b', new Uint8Array(65 * 1024 * 1024))]);
    expect(small).toEqual({ status: 'fulfilled', value: 1 });
    expect(large.status === 'rejected' && large.reason).toBeInstanceOf(TypeError);
    expect(await store.get('b')).toBeUndefined();
  });
});

describe('keys', () => {
  it('checks keys', () => {
    expect(() => assertKey('ok')).not.toThrow();
    for (const bad of ['', 7, null, 'a\uDC00', 'x'.repeat(70_000)]) expect(() => assertKey(bad)).toThrow(TypeError);
  });
});
