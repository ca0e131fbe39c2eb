// Backup probe: a ~100 MB store exported to a Blob and imported as a new store.
// Reports times and peak heaps (page, and the worker doing each step). Usage: node bench/backup.mjs [MB]
import { openHarness } from './harness.mjs';
import { workerHeaps } from './worker-heap.mjs';

const MB = Number(process.argv[2] ?? 100);
const { context, page, close } = await openHarness(['--enable-precise-memory-info']);
const peaks = { page: 0, worker: 0 };
let sampling = true;
try {
  await page.evaluate(async (mb) => {
    await window.harness.open('backup-src');
    const value = new Uint8Array(64 * 1024).map((_, i) => i * 31);
    for (let i = 0; i < (mb * 1024 * 1024) / value.length; i += 16) {
      await Promise.all(Array.from({ length: 16 }, (_, j) => window.harness.store.put(`blob:${String(i + j).padStart(6, '0')}`, value)));
    }
  }, MB);
  // Sample heaps while the export and import run.
  const sampler = (async () => {
    while (sampling) {
      const pageHeap = await page.evaluate(() => performance.memory.usedJSHeapSize).catch(() => 0);
      const workers = await workerHeaps(context).catch(() => []);
      peaks.page = Math.max(peaks.page, pageHeap);
      for (const w of workers) peaks.worker = Math.max(peaks.worker, w.usedBytes);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const result = await page.evaluate(async () => {
    const t0 = performance.now();
    const blob = await window.harness.store.export();
    const t1 = performance.now();
    const info = await window.harness.importStore('backup-copy', blob, { worker: window.harness.newWorker() });
    const t2 = performance.now();
    return { artifactMB: blob.size / 1048576, exportSeconds: (t1 - t0) / 1000, importSeconds: (t2 - t1) / 1000, keys: info.keys };
  });
  sampling = false;
  await sampler;
  console.log(JSON.stringify({ ...result, peakPageHeapMB: +(peaks.page / 1e6).toFixed(1), peakWorkerHeapMB: +(peaks.worker / 1e6).toFixed(1) }, null, 2));
} finally {
  sampling = false;
  await close();
}
