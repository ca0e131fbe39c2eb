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

test("db.on('write') announces other tabs' writes (decoded, marked remote) and this tab's own once", async ({ harness: a, profile }) => {
  const name = storeName('level-events');
  const b = await profile.page();
  await b.evaluate(async (name) => (await window.harness.level()).openShared(name, true), name);
  await a.evaluate(async (name) => (await window.harness.level()).openShared(name, false), name);
  const write = (page: typeof a, kind: 'put' | 'del' | 'batch', key: string) => page.evaluate(async ({ kind, key }) => (await window.harness.level()).write(kind, key), { kind, key });
  await write(a, 'put', 'x');
  await write(b, 'put', 'mine');
  await write(a, 'batch', 'y');
  await write(a, 'del', 'x');
  await expect.poll(async () => (await b.evaluate(async () => (await window.harness.level()).events())).length).toBe(4);
  expect(await b.evaluate(async () => (await window.harness.level()).events())).toEqual([
    [{ type: 'put', key: 'x', value: { from: 'x' }, remote: true }],
    [{ type: 'put', key: 'mine', value: { from: 'mine' }, remote: false }],
    [{ type: 'put', key: 'y.1', value: 1, remote: true }, { type: 'del', key: 'y.2', remote: true }],
    [{ type: 'del', key: 'x', remote: true }],
  ]);
  // Nothing more comes (no echo of its own write).
  await b.waitForTimeout(300);
  expect((await b.evaluate(async () => (await window.harness.level()).events())).length).toBe(4);
  await b.evaluate(async () => (await window.harness.level()).closeShared());
  await a.evaluate(async () => (await window.harness.level()).closeShared());
  await b.close();
});
