/**
 * The value contract as a property, in real Chromium: thousands of random values of every
 * storable type, each read back on every path a value comes out (get, getMany, scan both ways,
 * watch, consume, a follower tab, after compaction, after a reload, after export and import)
 * and compared with structuredClone of the original. The seed is printed on failure; run one
 * again with `WALDEN_VALUE_SEED=<seed>`.
 */
import { expect, storeName, test } from './support/fixtures.js';

const COUNT = Number(process.env.WALDEN_VALUE_COUNT ?? 2000);

test('random values of every type come back as structuredClone gives them, on every path', async ({ harness }, info) => {
  test.setTimeout(240_000);
  const seed = Number(process.env.WALDEN_VALUE_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const name = storeName(info.title);
  console.log(`values property: seed ${seed}`);
  const written = await harness.evaluate(({ name, seed, count }) => window.harness.writeAndCheckValues(name, seed, count), { name, seed, count: COUNT });
  expect(written.failures, `seed ${seed}`).toEqual([]);
  expect(written.scanned).toEqual([COUNT, COUNT, 1, Math.min(COUNT, 513)]);
  expect([written.watched, written.consumed, written.followerScanned, written.afterCompaction]).toEqual([COUNT, COUNT, COUNT, COUNT]);
  expect(written.followerRole).toBe('follower');
  await harness.reload();
  await harness.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  // Should it ever hang, say where (seen once, under load).
  const watchdog = setTimeout(() => void harness.evaluate(() => window.harness.valuesProgress.step).then((step) => console.log(`values property (seed ${seed}): still at "${step}" after 120 s`), () => {}), 120_000);
  const reopened = await harness.evaluate(({ name, seed, count }) => window.harness.reopenAndCheckValues(name, `${name}-copy`, seed, count), { name, seed, count: COUNT }).finally(() => clearTimeout(watchdog));
  expect(reopened.failures, `seed ${seed}`).toEqual([]);
  expect([reopened.reopened, reopened.afterImport]).toEqual([COUNT, COUNT]);
  console.log(`values property (seed ${seed}): ${written.checked + reopened.checked} comparisons of ${COUNT} values with structuredClone, none differ`);
});
