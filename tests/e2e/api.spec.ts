/** The public API end to end in real Chromium, on real OPFS and IndexedDB. */
import { expect, storeName, test } from './support/fixtures.js';

test('a new store starts at seq 0; writes get dense seqs and read back', async ({ harness }, info) => {
  const name = storeName(info.title);
  const result = await harness.evaluate(async (name) => {
    const first = await window.harness.open(name);
    const store = window.harness.store!;
    const seqs = [await store.put('todo:1', { title: 'milk' }), await store.put('todo:2', 'bread'), await store.delete('todo:2'), await store.delete('never-there')];
    const batchSeq = await store.batch([{ type: 'put', key: 'a', value: 1 }, { type: 'del', key: 'todo:1' }, { type: 'put', key: 'b', value: [2] }]);
    const sameTick = await Promise.all([store.put('x', 1), store.put('y', 2), store.delete('x')]);
    return {
      first: first.seq,
      seqs,
      batchSeq,
      sameTick,
      values: [await store.get('todo:1'), await store.get('a'), await store.get('b'), await store.get('nope')],
      many: await store.getMany(['b', 'missing', 'a', 'y']),
      info: await store.info(),
    };
  }, name);
  expect(result.first).toBe(0);
  expect(result.seqs).toEqual([1, 2, 3, 4]);
  expect(result.batchSeq).toBe(5);
  expect(result.sameTick).toEqual([6, 7, 8]);
  expect(result.values).toEqual([undefined, 1, [2], undefined]);
  expect(result.many).toEqual([[2], undefined, 1, 2]);
  expect(result.info).toMatchObject({ seq: 8, keys: 3, durability: 'strict', snapshotSeq: 0, recovery: { tornBytes: 0, droppedRecords: 0, removedFiles: [], droppedCatalogRows: 0 } });
});

test('values round-trip exactly, every structured-clone type', async ({ harness }, info) => {
  const name = storeName(info.title);
  const checks = await harness.evaluate(async (name) => {
    await window.harness.open(name);
    const store = window.harness.store!;
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const values: Record<string, unknown> = {
      object: { a: 1, nested: { b: [1, 'two', null, true] } },
      array: [1, undefined, 3],
      string: 'héllo \u{1F600}',
      number: 3.141592653589793,
      big: 2 ** 53 - 1,
      negative: -42,
      nan: Number.NaN,
      infinity: Number.NEGATIVE_INFINITY,
      bool: false,
      null: null,
      date: new Date(1_700_000_000_123),
      map: new Map<unknown, unknown>([['k', 1], [2, { deep: new Set([1]) }]]),
      set: new Set(['a', 1, 'b']),
      regexp: /ab+c/gi,
      bigint: 12345678901234567890123n,
      negBigint: -(2n ** 64n),
      u8: new Uint8Array([0, 255, 7]),
      f64: new Float64Array([1.5, -0.25]),
      i32: new Int32Array([-1, 2 ** 31 - 1]),
      u8c: new Uint8ClampedArray([3]),
      bi64: new BigInt64Array([-5n]),
      buffer: new Uint8Array([9, 8, 7]).buffer,
      cyclic,
    };
    for (const [key, value] of Object.entries(values)) await store.put(key, value);
    await store.close();
    await window.harness.open(name);
    const reopened = window.harness.store!;
    const results: Record<string, boolean> = {};
    for (const [key, value] of Object.entries(values)) {
      const got = await reopened.get(key);
      const tag = (v: unknown) => Object.prototype.toString.call(v);
      const show = (v: unknown): string =>
        JSON.stringify(v, (_k, x) =>
          typeof x === 'bigint' ? `${x}n` : x instanceof Map ? { map: [...x] } : x instanceof Set ? { set: [...x] } : x instanceof RegExp ? { re: String(x) } : ArrayBuffer.isView(x) ? { view: tag(x), bytes: [...new Uint8Array(x.buffer, x.byteOffset, x.byteLength)] } : x instanceof ArrayBuffer ? { ab: [...new Uint8Array(x)] } : Number.isNaN(x) ? 'NaN' : x === Number.NEGATIVE_INFINITY ? '-Inf' : x,
        );
      if (key === 'cyclic') results[key] = (got as { self: unknown }).self === got && (got as { name: string }).name === 'loop';
      else results[key] = tag(got) === tag(value) && show(got) === show(value) && (!(value instanceof Date) || (got as Date).getTime() === value.getTime());
    }
    return results;
  }, name);
  for (const [key, ok] of Object.entries(checks)) expect(ok, key).toBe(true);
});

test('scan: key order, prefix and bounds intersect, limit counts in iteration order', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    await window.harness.open(name);
    const store = window.harness.store!;
    const keys = ['b', 'a', 'todo:2', 'todo:10', 'todo:1', 'Z', 'é', 'todo;', '\u{1F600}', 'ｆ'];
    await Promise.all(keys.map((k) => store.put(k, k)));
    for (let i = 0; i < 1200; i++) await store.put(`many:${String(i).padStart(4, '0')}`, i);
    const collect = async (range?: Parameters<typeof store.scan>[0]) => {
      const out: string[] = [];
      for await (const [key] of store.scan(range)) out.push(key);
      return out;
    };
    const all = await collect();
    return {
      all: all.filter((k) => !k.startsWith('many:')),
      allCount: all.length,
      prefix: await collect({ prefix: 'todo:' }),
      prefixGt: await collect({ prefix: 'todo:', gt: 'todo:1' }),
      reverseLimit: await collect({ prefix: 'todo:', reverse: true, limit: 2 }),
      bounds: await collect({ gte: 'a', lt: 'm' }),
      lte: await collect({ lte: 'b', reverse: true }),
      zero: await collect({ limit: 0 }),
      paged: (await collect({ prefix: 'many:' })).length,
      pagedReverse: (await collect({ prefix: 'many:', reverse: true, limit: 700 })).slice(0, 2),
      pagedLimit: (await collect({ prefix: 'many:', limit: 513 })).length,
    };
  }, name);
  const sorted = ['Z', 'a', 'b', 'todo:1', 'todo:10', 'todo:2', 'todo;', 'é', 'ｆ', '\u{1F600}'].sort();
  expect(r.all).toEqual(sorted); // JavaScript (UTF-16 code unit) order, as IndexedDB
  expect(r.all.indexOf('ｆ')).toBeGreaterThan(r.all.indexOf('\u{1F600}')); // U+FF46 sorts after the surrogate pair
  expect(r.allCount).toBe(1210);
  expect(r.prefix).toEqual(['todo:1', 'todo:10', 'todo:2']);
  expect(r.prefixGt).toEqual(['todo:10', 'todo:2']);
  expect(r.reverseLimit).toEqual(['todo:2', 'todo:10']);
  expect(r.bounds).toEqual(['a', 'b']);
  expect(r.lte).toEqual(['b', 'a', 'Z']);
  expect(r.zero).toEqual([]);
  expect(r.paged).toBe(1200);
  expect(r.pagedReverse).toEqual(['many:1199', 'many:1198']);
  expect(r.pagedLimit).toBe(513);
});

test('bad input is a TypeError and writes nothing', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    await window.harness.open(name);
    const store = window.harness.store! as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const cryptoKey = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const directory = await navigator.storage.getDirectory();
    const messages: string[] = [];
    const attempts: [string, () => unknown][] = [
      ['number key', () => store.put!(1, 'v')],
      ['empty key', () => store.put!('', 'v')],
      ['lone surrogate', () => store.put!('a\uD800', 'v')],
      ['CryptoKey value', () => store.put!('k', { keys: [cryptoKey] })],
      ['FileSystemHandle value', () => store.put!('k', { dir: directory })],
      ['MessagePort value', () => store.put!('k', new Map([['port', new MessageChannel().port1]]))],
      ['SharedArrayBuffer view', () => store.put!('k', new Uint8Array(new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer))],
      ['function value', () => store.put!('k', { f() {} })],
      ['symbol value', () => store.put!('k', Symbol('s'))],
      ['weakmap value', () => store.put!('k', new WeakMap())],
      ['promise value', () => store.put!('k', Promise.resolve())],
      ['empty batch', () => store.batch!([])],
      ['bad batch op', () => store.batch!([{ type: 'put', key: 'ok', value: 1 }, { type: 'frob', key: 'x' }])],
      ['batch with unclonable', () => store.batch!([{ type: 'put', key: 'ok', value: 1 }, { type: 'put', key: 'x', value: () => 1 }])],
      ['get non-string', () => store.get!(null)],
      ['getMany non-array', () => store.getMany!('a')],
      ['scan bad limit', () => (store.scan as unknown as (r: object) => AsyncGenerator).call(store, { limit: -1 }).next()],
    ];
    const out: Record<string, string> = {};
    for (const [label, attempt] of attempts) {
      try {
        await attempt();
        out[label] = 'no error';
      } catch (error) {
        out[label] = (error as Error).name;
        messages.push((error as Error).message);
      }
    }
    let badName = 'no error';
    try {
      await window.harness.openStore('a/b');
    } catch (error) {
      badName = (error as Error).name;
    }
    const info = await window.harness.store!.info();
    return { out, badName, seq: info.seq, keys: info.keys, messages };
  }, name);
  // What cannot be written as bytes is named, with where it sits in the value.
  expect(r.messages).toEqual(expect.arrayContaining(['value.keys.0 is CryptoKey, which cannot be stored (it cannot be written as bytes)', expect.stringMatching(/^value\.dir is FileSystemDirectoryHandle/), expect.stringMatching(/^value\.get\(…\) is MessagePort/)]));
  for (const [label, errorName] of Object.entries(r.out)) expect(errorName, label).toBe('TypeError');
  expect(r.badName).toBe('TypeError');
  expect(r.seq).toBe(0);
  expect(r.keys).toBe(0);
});

test('a second open follows the first; STORE_LOCKED for delete while open, STORE_CLOSED after close, codes survive the worker boundary', async ({ harness, profile }, info) => {
  const name = storeName(info.title);
  await harness.evaluate(async (name) => {
    await window.harness.open(name);
    await window.harness.store!.put('first', 'from the leader');
  }, name);
  expect(await harness.evaluate(() => window.harness.store!.role)).toBe('leader');
  // A second open, in this page or another tab, is a follower: same data, its writes go to the leader.
  const follow = (page: typeof harness) =>
    page.evaluate(async (name) => {
      const store = await window.harness.openStore(name, { worker: window.harness.newWorker() });
      const seq = await store.put('from-follower', store.role);
      const out = { role: store.role, seq, first: await store.get('first'), keys: (await store.info()).keys };
      await store.close();
      return out;
    }, name);
  expect(await follow(harness)).toEqual({ role: 'follower', seq: 2, first: 'from the leader', keys: 2 });
  const other = await profile.page();
  expect(await follow(other)).toEqual({ role: 'follower', seq: 3, first: 'from the leader', keys: 2 });
  const deleteCode = await other.evaluate(async (name) => {
    try {
      await window.harness.deleteStore(name);
      return 'no error';
    } catch (error) {
      return `${(error as Error).name}:${(error as { code?: string }).code}:${error instanceof window.harness.StoreError}`;
    }
  }, name);
  expect(deleteCode).toBe('StoreError:STORE_LOCKED:true');
  const afterClose = await harness.evaluate(async () => {
    const store = window.harness.store!;
    await store.put('k', 1);
    await store.close();
    const codes: string[] = [];
    for (const call of [() => store.put('k', 2), () => store.get('k'), () => store.info()]) {
      try {
        await call();
        codes.push('no error');
      } catch (error) {
        codes.push((error as { code: string }).code);
      }
    }
    return codes;
  });
  expect(afterClose).toEqual(['STORE_CLOSED', 'STORE_CLOSED', 'STORE_CLOSED']);
  // Closed here, so the other tab may now open it and sees the write.
  const seen = await other.evaluate(async (name) => {
    await window.harness.open(name);
    return window.harness.store!.get('k');
  }, name);
  expect(seen).toBe(1);
  await other.close();
});

test('persists across reload and browser restart, with a clean recovery report', async ({ harness, profile }, info) => {
  const name = storeName(info.title);
  await harness.evaluate(async (name) => {
    await window.harness.open(name);
    const store = window.harness.store!;
    for (let i = 0; i < 100; i++) await store.put(`k${i}`, { i });
    await store.batch([{ type: 'put', key: 'batch', value: 'yes' }, { type: 'del', key: 'k0' }]);
  }, name);
  await harness.reload();
  await harness.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  const afterReload = await harness.evaluate(async (name) => {
    const info = await window.harness.open(name);
    const store = window.harness.store!;
    const r = { info, k1: await store.get('k1'), k0: await store.get('k0'), batch: await store.get('batch') };
    await store.close();
    return r;
  }, name);
  expect(afterReload.info).toMatchObject({ seq: 101, keys: 100, recovery: { tornBytes: 0, removedFiles: [], droppedCatalogRows: 0 } });
  expect(afterReload).toMatchObject({ k1: { i: 1 }, k0: undefined, batch: 'yes' });
  await profile.close();
  await profile.launch();
  const page = await profile.page();
  const afterRestart = await page.evaluate(async (name) => {
    const info = await window.harness.open(name);
    return { info, k99: await window.harness.store!.get('k99') };
  }, name);
  expect(afterRestart.info.seq).toBe(101);
  expect(afterRestart.k99).toEqual({ i: 99 });
});

test('compact runs alongside writes and the store reopens from the snapshot', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    await window.harness.open(name);
    const store = window.harness.store!;
    await Promise.all(Array.from({ length: 5000 }, (_, i) => store.put(`k${i}`, { i, pad: 'p'.repeat(50) })));
    const compaction = store.compact();
    let during = 0;
    let maxLatency = 0;
    let finished = false;
    compaction.then(() => (finished = true));
    while (!finished) {
      const t = performance.now();
      await store.put(`during${during}`, during);
      maxLatency = Math.max(maxLatency, performance.now() - t);
      during++;
    }
    await compaction;
    const info = await store.info();
    await store.close();
    const reopened = await window.harness.open(name);
    return { info, reopened, during, maxLatency, k4999: await window.harness.store!.get('k4999'), lastDuring: await window.harness.store!.get(`during${during - 1}`) };
  }, name);
  expect(r.during).toBeGreaterThan(0);
  // The snapshot holds everything committed before compact() was called, and perhaps a little more.
  expect(r.info.snapshotSeq).toBeGreaterThanOrEqual(5000);
  expect(r.info.snapshotSeq).toBeLessThan(5000 + r.during);
  expect(r.reopened).toMatchObject({ seq: 5000 + r.during, snapshotSeq: r.info.snapshotSeq, keys: 5000 + r.during });
  expect(r.k4999).toEqual({ i: 4999, pad: 'p'.repeat(50) });
  expect(r.lastDuring).toBe(r.during - 1);
  console.log(`compaction of 5000 keys: ${r.during} writes landed meanwhile, slowest ${r.maxLatency.toFixed(1)} ms`);
});

test('deleteStore removes everything', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    await window.harness.open(name);
    await window.harness.store!.put('k', 1);
    await window.harness.store!.compact();
    await window.harness.store!.close();
    await window.harness.deleteStore(name);
    const info = await window.harness.open(name);
    return { info, k: await window.harness.store!.get('k') };
  }, name);
  expect(r.info.seq).toBe(0);
  expect(r.k).toBeUndefined();
});

test('values of every size written in one tick keep their bytes, and the caller keeps its own', async ({ harness }, info) => {
  const name = storeName(info.title);
  const result = await harness.evaluate(async (name) => {
    await window.harness.open(name);
    const store = window.harness.store!;
    const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
    const sizes = [1, 100, 65_535, 65_536, 300_000, 7];
    const inputs = sizes.map((n, i) => pattern(n, i));
    // All in one tick: one commit group with small values (packed into one buffer) and large ones (moved).
    await Promise.all([
      ...inputs.map((value, i) => store.put(`v${i}`, value)),
      store.batch([
        { type: 'put', key: 'b-large', value: pattern(200_000, 9) },
        { type: 'put', key: 'b-small', value: { text: 'x', n: 1 } },
      ]),
    ]);
    const same = (a: unknown, b: Uint8Array) => a instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
    const back = await store.getMany(sizes.map((_, i) => `v${i}`));
    return {
      readBack: back.map((value, i) => same(value, inputs[i]!)),
      callerIntact: inputs.map((value, i) => value.byteLength === sizes[i] && same(value, pattern(sizes[i]!, i))),
      batchLarge: same(await store.get('b-large'), pattern(200_000, 9)),
      batchSmall: await store.get('b-small'),
    };
  }, name);
  expect(result.readBack).toEqual([true, true, true, true, true, true]);
  expect(result.callerIntact).toEqual([true, true, true, true, true, true]);
  expect(result.batchLarge).toBe(true);
  expect(result.batchSmall).toEqual({ text: 'x', n: 1 });
});
