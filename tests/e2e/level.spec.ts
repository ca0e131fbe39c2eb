/**
 * `walden/level` against abstract-level's own compliance suite (the tests shipped in the
 * package, run by tape in the page), in real Chromium over real OPFS.
 */
import { expect, storeName, test } from './support/fixtures.js';

test("abstract-level's own test suite passes against WaldenLevel (utf8, view and the transcoded encodings, sublevels)", async ({ harness: page }) => {
  test.setTimeout(600_000);
  const result = await page.evaluate(async (name) => (await window.harness.level()).runSuite(name), storeName('level-suite'));
  console.log(`abstract-level suite: ${result.tests} tests, ${result.assertions} assertions, ${result.passed} passed, ${result.failed} failed in ${result.ms} ms`);
  expect(result.failures).toEqual([]);
  expect(result.failed).toBe(0);
  // The whole suite ran (not a part of it that stopped early).
  expect(result.tests).toBeGreaterThan(1000);
  expect(result.assertions).toBeGreaterThan(3000);
});

test('WaldenLevel in a store of its own: what was written is there after close and reopen, binary and empty keys in bytewise order', async ({ harness: page }) => {
  const got = await page.evaluate(async (name) => (await window.harness.level()).ownStore(name), storeName('level-own'));
  expect(got.entries).toEqual([
    [[], 'empty'],
    [[0, 1], '0001'],
    [[0x80], '80'],
    [[0xff], 'ff'],
  ]);
  expect(got.status).toEqual(['open', true, false]);
});
