/** Change feed and checkpoints in real Chromium: resume after reload and real crashes, resets, filters, backpressure. */
import { expect, storeName, test } from './support/fixtures.js';
import { chromiumOnly, crashPage } from './support/browser.js';

test('watch delivers every record after since, across reload and compactions, no gap and no duplicate', async ({ harness }, info) => {
  const name = storeName(info.title);
  await harness.evaluate(async (name) => {
    await window.harness.open(name, { compactThresholdBytes: 8 * 1024 });
    const store = window.harness.store!;
    for (let i = 0; i < 120; i++) await store.put(`todo:${i}`, { i, text: 'x'.repeat(40) });
    // A checkpoint stream at 120 makes compaction keep the history after it.
    await store.checkpoints.save('reader', { sequence: 120 });
    for (let i = 120; i < 300; i++) await store.put(`todo:${i}`, { i, text: 'x'.repeat(40) });
    // Automatic compactions ran along the way; one more makes sure one covers seq 120.
    await store.compact();
    await store.close();
  }, name);
  await harness.reload();
  await harness.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  const r = await harness.evaluate(async (name) => {
    const info = await window.harness.open(name, { compactThresholdBytes: 8 * 1024 });
    const store = window.harness.store!;
    const seen: number[] = [];
    let batchOps = 0;
    const iterator = store.watch({ since: 120 });
    // History first, then live writes made while watching (including a batch).
    const live = (async () => {
      await store.batch([{ type: 'put', key: 'todo:b1', value: 1 }, { type: 'put', key: 'todo:b2', value: 2 }]);
      for (let i = 0; i < 50; i++) await store.put(`todo:live${i}`, i);
    })();
    for await (const change of iterator) {
      if (change.type !== 'change') throw new Error('unexpected reset');
      seen.push(change.seq);
      if (change.ops.length === 2) batchOps++;
      if (change.seq === 351) break;
    }
    await live;
    return { info, seen, batchOps };
  }, name);
  expect(r.info.snapshotSeq).toBeGreaterThan(120); // compactions ran; the history came from kept segments
  expect(r.seen).toEqual(Array.from({ length: 231 }, (_, i) => 121 + i));
  expect(r.batchOps).toBe(1);
});

test('history that is gone gives reset, then the full state, then live changes', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    await window.harness.open(name);
    const store = window.harness.store!;
    for (let i = 0; i < 10; i++) await store.put(`k${i}`, i);
    for (let round = 0; round < 3; round++) {
      await store.delete(`k${round}`);
      await store.compact();
    }
    const events: string[] = [];
    const iterator = store.watch({ since: 2, prefix: 'k' });
    let count = 0;
    for await (const change of iterator) {
      events.push(change.type === 'reset' ? `reset@${change.seq}` : `${change.seq}:${change.ops.map((o) => `${o.type} ${o.key}`).join(',')}`);
      if (++count === 8) void store.put('k99', 99);
      if (count === 9) break;
    }
    return events;
  }, name);
  expect(r).toEqual(['reset@13', '13:put k3', '13:put k4', '13:put k5', '13:put k6', '13:put k7', '13:put k8', '13:put k9', '14:put k99']);
});

test('prefix and range filters skip records with no matching op, never reported as gaps', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    await window.harness.open(name);
    const store = window.harness.store!;
    await store.put('note:1', 'a');
    await store.put('todo:1', 'b');
    await store.batch([{ type: 'put', key: 'note:2', value: 'c' }, { type: 'put', key: 'todo:2', value: 'd' }]);
    await store.delete('todo:1');
    const collect = async (options: Parameters<typeof store.watch>[0], n: number) => {
      const out: string[] = [];
      for await (const change of store.watch(options)) {
        if (change.type === 'change') out.push(`${change.seq}:${change.ops.map((o) => o.key).join(',')}`);
        if (out.length === n) break;
      }
      return out;
    };
    return { todo: await collect({ since: 0, prefix: 'todo:' }, 3), range: await collect({ since: 0, gte: 'note:', lt: 'note:2' }, 1) };
  }, name);
  expect(r.todo).toEqual(['2:todo:1', '3:todo:2', '4:todo:1']);
  expect(r.range).toEqual(['1:note:1']);
});

test('a consumer that never reads does not grow memory', async ({ harness }, info) => {
  chromiumOnly('--js-flags=--expose-gc (to collect before measuring the heap)');
  const name = storeName(info.title);
  const measure = (rounds: number) => harness.evaluate(async ([name, ROUNDS]) => {
    await window.harness.open(name!);
    const store = window.harness.store!;
    const stalled = store.watch({ since: 0 });
    await store.put('first', 1);
    await stalled.next(); // subscribed, then never read again
    const heap = () => {
      (globalThis as unknown as { gc: () => void }).gc();
      return (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;
    };
    const big = 'x'.repeat(4096);
    const before = heap();
    for (let round = 0; round < ROUNDS; round++) await Promise.all(Array.from({ length: 500 }, (_, i) => store.put(`k${round}:${i}`, big)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const grown = heap() - before;
    await stalled.return(undefined);
    const written = (await store.info()).seq;
    await store.close();
    return { grownMB: grown / 1e6, written };
  }, [`${name}-${rounds}`, rounds] as const);
  const small = await measure(10);
  const large = await measure(50);
  expect(small.written).toBe(5_001);
  expect(large.written).toBe(25_001);
  // 20 MB, then 100 MB were written behind the stalled reader: a buffering feed would grow by
  // the difference (80 MB); one page is at most ~1 MB, so the heap must not follow the writes.
  console.log(`heap growth behind a stalled watcher: ${small.grownMB.toFixed(1)} MB after 20 MB written, ${large.grownMB.toFixed(1)} MB after 100 MB`);
  expect(large.grownMB - small.grownMB).toBeLessThan(30);
});

test('checkpoints: newest N kept per stream, eviction oldest first, durable rows, malformed bytes refused', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    await window.harness.open(name, { maxCheckpointsPerStream: 3 });
    const cps = window.harness.store!.checkpoints;
    for (const sequence of [10, 20, 30, 40, 50]) {
      await cps.save('search-index', { sequence, watermark: 1_700_000_000_000 + sequence, eventCount: sequence, operatorStates: { tokens: new Uint8Array([sequence]) }, sourceOffsets: { 'todo-feed': sequence }, metadata: { version: '3' } });
    }
    await cps.save('counter', { sequence: 5 });
    const list = (await cps.list('search-index')).map((c) => c.sequence);
    const latest = await cps.latest('search-index');
    await cps.deleteBefore('search-index', 50);
    const afterDelete = (await cps.list('search-index')).map((c) => c.sequence);
    const streams = await cps.streams();
    const missing = await cps.latest('nope');
    const { encodeCheckpoint, decodeCheckpoint } = window.harness;
    const bytes = encodeCheckpoint(latest!);
    const roundTrip = decodeCheckpoint(bytes);
    const errors: string[] = [];
    const codes: string[] = [];
    for (const bad of [bytes.slice(0, bytes.length - 1), bytes.slice(0, 10), (() => { const b = bytes.slice(); b[30]! ^= 1; return b; })(), new Uint8Array(40), (() => { const b = bytes.slice(); b[4] = 9; return b; })()]) {
      try {
        decodeCheckpoint(bad);
        errors.push('decoded');
      } catch (error) {
        errors.push(`${(error as Error).name}: ${(error as Error).message}`);
        codes.push((error as { code?: string }).code ?? '');
      }
    }
    let typeError = '';
    try {
      await cps.save('s', { sequence: -1 });
    } catch (error) {
      typeError = (error as Error).name;
    }
    return { list, latest, afterDelete, streams, missing, codes, roundTripEqual: JSON.stringify({ ...roundTrip, operatorStates: { tokens: [...roundTrip.operatorStates.tokens!] } }) === JSON.stringify({ ...latest, operatorStates: { tokens: [...latest!.operatorStates.tokens!] } }), errors, typeError };
  }, name);
  expect(r.list).toEqual([30, 40, 50]);
  expect(r.latest).toMatchObject({ stream: 'search-index', sequence: 50, eventCount: 50, sourceOffsets: { 'todo-feed': 50 }, metadata: { version: '3' } });
  expect(r.afterDelete).toEqual([50]);
  expect(r.streams).toEqual(['counter', 'search-index']);
  expect(r.missing).toBeUndefined();
  expect(r.roundTripEqual).toBe(true);
  expect(r.errors.every((e) => e.startsWith('StoreError: '))).toBe(true);
  expect(r.codes.every((c) => c === 'STORE_INVALID_CHECKPOINT')).toBe(true);
  expect(r.errors.join('\n')).toMatch(/truncated/);
  expect(r.errors.join('\n')).toMatch(/checksum/);
  expect(r.errors.join('\n')).toMatch(/version 9/);
  expect(r.typeError).toBe('TypeError');
});

for (const method of ['reload', 'worker.terminate()', 'Page.crash'] as const) {
  test(`consume resumes after ${method}: each change applied exactly once, across compactions`, async ({ harness, profile }, info) => {
    if (method === 'Page.crash') chromiumOnly('CDP Page.crash', 'the reload and worker.terminate() variants');
    const name = storeName(info.title);
    let page = harness;
    const start = (page: typeof harness) =>
      page.evaluate(async (name) => {
        await window.harness.open(name, { compactThresholdBytes: 16 * 1024 });
        window.harness.consumer = window.harness.startSeqConsumer('seqs', 'todo:');
        window.harness.startWriter(Date.now() % 100_000, 2, 'todo:');
      }, name);
    await start(page);
    for (let crash = 0; crash < 5; crash++) {
      await page.waitForFunction((n) => (window.harness.consumer?.state.seqs.length ?? 0) > n, 60 + crash * 60);
      if (method === 'reload') {
        await page.reload();
      } else if (method === 'worker.terminate()') {
        await page.evaluate(() => {
          window.harness.worker!.terminate();
          window.harness.writer!.running = false;
        });
        await page.close();
        page = await profile.page();
      } else {
        await crashPage(page);
        page = await profile.page();
      }
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
      await start(page);
    }
    const final = await page.evaluate(async () => {
      window.harness.writer!.running = false;
      await window.harness.writer!.done;
      const info = await window.harness.store!.info();
      const { state } = window.harness.consumer!;
      const deadline = performance.now() + 20_000;
      while (state.seqs[state.seqs.length - 1] !== info.seq && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return { seq: info.seq, seqs: state.seqs, resets: state.resets, snapshotSeq: info.snapshotSeq };
    });
    // Every write is a todo: record, so the consumer must have applied seqs 1..seq, each once.
    expect(final.resets).toBe(0);
    expect(final.snapshotSeq).toBeGreaterThan(0);
    expect(final.seqs.length).toBe(final.seq);
    expect(final.seqs).toEqual(Array.from({ length: final.seq }, (_, i) => i + 1));
  });
}
