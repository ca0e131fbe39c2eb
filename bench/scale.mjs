// Scale probe: write 1,000,000 keys (100-byte values), then open the store in a fresh worker and
// report open time, the time until its B-tree is built, and the worker heap with it.
// Usage: node bench/scale.mjs [keys]
import { openHarness } from './harness.mjs';
import { workerHeaps } from './worker-heap.mjs';

const KEYS = Number(process.argv[2] ?? 1_000_000);
const { context, page, close } = await openHarness();
try {
  const load = await page.evaluate(async (keys) => {
    await window.harness.open('scale');
    const store = window.harness.store;
    const value = 'v'.repeat(96);
    const started = performance.now();
    for (let i = 0; i < keys; i += 1000) {
      const ops = [];
      for (let j = i; j < Math.min(keys, i + 1000); j++) ops.push({ type: 'put', key: `key:${String(j).padStart(8, '0')}`, value });
      await store.batch(ops);
    }
    await store.compact();
    const info = await store.info();
    await store.close();
    window.harness.worker.terminate();
    return { loadMs: performance.now() - started, info };
  }, KEYS);
  const reopen = await page.evaluate(async () => {
    const started = performance.now();
    const info = await window.harness.open('scale');
    const first = await window.harness.store.get('key:00000000');
    const openToFirstValueMs = performance.now() - started;
    // The B-tree is built after the open; a scan needs it, so the heap below includes it.
    for await (const _ of window.harness.store.scan({ limit: 1 }));
    return { openToFirstValueMs, indexBuiltMs: performance.now() - started, info, first: typeof first };
  });
  const heaps = await workerHeaps(context);
  const result = {
    keys: KEYS,
    loadSeconds: +(load.loadMs / 1000).toFixed(1),
    workerOpenMs: Math.round(reopen.info.openMs),
    openToFirstValueMs: Math.round(reopen.openToFirstValueMs),
    indexBuiltMs: Math.round(reopen.indexBuiltMs),
    workerHeapMB: heaps.map((h) => +(h.usedBytes / 1e6).toFixed(1)),
    walBytes: reopen.info.walBytes,
    snapshotSeq: reopen.info.snapshotSeq,
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await close();
}
