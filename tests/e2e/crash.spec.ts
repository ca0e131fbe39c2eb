/**
 * Real crashes mid-write: terminate the worker, crash the renderer (CDP Page.crash), SIGKILL the
 * browser of a persistent profile. After each, reopen and check every acknowledged write, every
 * batch whole, no hole and no invented key, seqs dense; 20 crashes per method, with automatic
 * compactions (some of them interrupted) along the way.
 */
import { expect, test } from '@playwright/test';
import { backend, chromiumOnly, crashPage, engine, Profile } from './support/browser.js';

const CRASHES = 20;
type Method = 'worker.terminate()' | 'Page.crash' | 'SIGKILL browser';

for (const method of ['worker.terminate()', 'Page.crash', 'SIGKILL browser'] as Method[]) {
  test(`${method}: ${CRASHES} crashes mid-write lose no acknowledged write`, async () => {
    if (method === 'Page.crash') chromiumOnly('CDP Page.crash', 'worker.terminate() and SIGKILL of the browser, both run on Firefox');
    // Seen once in CI (2026-12-04): after a SIGKILL of Chromium, the relaunched browser had no
    // IndexedDB data for the origin at all (the store and its catalog row gone: most likely
    // Chromium's recovery of a backing store it found damaged), so every write of the round was
    // lost. The OPFS backend keeps its files outside IndexedDB and rebuilds the catalog; the
    // fallback cannot. Not reproduced in 80 more kills; docs/engines.md. Runs on Firefox and WebKit.
    test.skip(method === 'SIGKILL browser' && engine() === 'chromium' && backend() === 'indexeddb', 'Chromium may reset an origin\'s IndexedDB after a SIGKILL of the browser (seen once): the fallback cannot survive that');
    // Each round of a SIGKILL relaunches the browser. Firefox, timed per round on 2026-12-08:
    // launch 3.9–4.9 s and the first page 1.1–1.8 s, against about 1 s for the open and the
    // checks and 0.1–0.5 s of writes; the 20 rounds took 2.3–3.1 min alone and passed the
    // default 3 min while CI ran another project beside them.
    if (method === 'SIGKILL browser') test.setTimeout(CRASHES * 18_000);
    const profile = new Profile();
    await profile.launch();
    const name = `crash-${method.replace(/\W+/g, '-')}`;
    const acked: number[] = [];
    const survived: number[] = [];
    let page = await profile.page();
    try {
      for (let round = 0; round <= CRASHES; round++) {
        const state = await page.evaluate(
          async ({ name, acked }) => {
            const info = await window.harness.open(name, { compactThresholdBytes: 48 * 1024 });
            const counts: number[] = [];
            for (let r = 0; r < acked.length; r++) counts.push(await window.harness.verifyRound(r, acked[r]!));
            return { info, counts };
          },
          { name, acked },
        );
        survived.splice(0, survived.length, ...state.counts);
        // Seqs are dense: one record per surviving write, nothing else.
        expect(state.info.seq).toBe(state.counts.reduce((a, b) => a + b, 0));
        if (round === CRASHES) {
          // Automatic compactions ran (and crashes interrupted some) without losing anything.
          expect(state.info.snapshotSeq).toBeGreaterThan(0);
          break;
        }
        const target = 20 + Math.floor(Math.random() * 180);
        await page.evaluate((round) => window.harness.startWriter(round, 4), round);
        await page.waitForFunction((target) => (window.harness.writer?.acked ?? 0) >= target || window.harness.writer?.error, target);
        if (method === 'worker.terminate()') {
          acked.push(
            await page.evaluate(() => {
              const n = window.harness.writer!.acked;
              window.harness.worker!.terminate();
              window.harness.writer!.running = false;
              return n;
            }),
          );
        } else {
          const error = await page.evaluate(() => window.harness.writer!.error);
          expect(error).toBeUndefined();
          acked.push(await page.evaluate(() => window.harness.writer!.acked));
          if (method === 'Page.crash') {
            await crashPage(page);
          } else {
            await profile.kill();
            await profile.launch();
          }
          page = await profile.page();
        }
      }
      const extra = survived.map((n, r) => n - acked[r]!);
      console.log(`${method}: ${CRASHES} crashes, acknowledged ${acked.reduce((a, b) => a + b, 0)} writes, all present; ${extra.reduce((a, b) => a + b, 0)} unacknowledged writes also landed whole`);
    } finally {
      await profile.close();
      profile.remove();
    }
  });
}
