/**
 * `walden/yjs`: two tabs editing one Y.Doc live through the change feed, compaction, a reload,
 * a renderer crash in the middle of updates, and bad input.
 */
import type { Page } from '@playwright/test';
import { crashPage, engine } from './support/browser.js';
import { expect, storeName, test } from './support/fixtures.js';

const tokensOf = (text: string) => text.split(';').filter(Boolean);

test('two tabs edit one Y.Doc: each sees the other\'s edits live, both converge, compaction keeps few keys, a reload restores the text', async ({ harness: a, profile }) => {
  const name = storeName('yjs-tabs');
  const b = await profile.page();
  for (const page of [a, b]) await page.evaluate(async (name) => (await window.harness.yjs()).open(name, 'notes', 10), name);
  const type = (page: Page, who: string) =>
    page.evaluate(async (who) => {
      const yjs = await window.harness.yjs();
      for (let i = 0; i < 30; i++) {
        await yjs.append(`${who}${i};`);
        await new Promise((r) => setTimeout(r, 3));
      }
    }, who);
  await Promise.all([type(a, 'A'), type(b, 'B')]);
  const text = (page: Page) => page.evaluate(async () => (await window.harness.yjs()).text());
  await expect.poll(async () => (await text(a)) === (await text(b)) && tokensOf(await text(a)).length === 60).toBe(true);
  const tokens = tokensOf(await text(a));
  for (const who of ['A', 'B']) for (let i = 0; i < 30; i++) expect(tokens).toContain(`${who}${i}`);
  // Each tab's own edits stay in their order.
  for (const who of ['A', 'B']) expect(tokens.filter((t) => t.startsWith(who))).toEqual(Array.from({ length: 30 }, (_, i) => `${who}${i}`));
  // 60 updates stored, compacted every 10 stored or received: a handful of keys, not 60.
  const stored = await a.evaluate(async () => (await window.harness.yjs()).storedKeys('notes'));
  expect(stored).toBeLessThan(20);
  const before = await text(a);
  await a.evaluate(async () => (await window.harness.yjs()).close());
  await a.reload();
  await a.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  expect(await a.evaluate(async (name) => (await window.harness.yjs()).open(name, 'notes', 10), name)).toBe(before);
  expect(await a.evaluate(async () => (await window.harness.yjs()).errors())).toEqual([]);
  await b.close();
});

test('a crash in the middle of updates (the renderer on Chromium, the whole browser on Firefox): every durable update is back, in order, and the document loads', async ({ harness: page, profile }) => {
  const name = storeName('yjs-crash');
  let acked = -1;
  await page.exposeFunction('ackEdit', (i: number) => (acked = i));
  await page.evaluate(async (name) => (await window.harness.yjs()).open(name, 'draft', 25), name);
  void page
    .evaluate(async () => {
      const yjs = await window.harness.yjs();
      for (let i = 0; ; i++) {
        await yjs.append(`e${i};`);
        await (window as unknown as { ackEdit(i: number): Promise<void> }).ackEdit(i);
      }
    })
    .catch(() => {});
  await expect.poll(() => acked, { timeout: 30_000 }).toBeGreaterThanOrEqual(60);
  // Firefox has no Page.crash: SIGKILL the whole browser there (a harder crash) and relaunch the profile.
  if (engine() === 'chromium') await crashPage(page);
  else {
    await profile.kill();
    await profile.launch();
  }
  const after = await profile.page();
  const text = await after.evaluate(async (name) => (await window.harness.yjs()).open(name, 'draft', 25), name);
  const tokens = tokensOf(text);
  // Nothing acknowledged is lost, and what is there is a prefix of the edits, in order.
  expect(tokens.length).toBeGreaterThanOrEqual(acked + 1);
  expect(tokens).toEqual(Array.from({ length: tokens.length }, (_, i) => `e${i}`));
  expect(await after.evaluate(async () => (await window.harness.yjs()).errors())).toEqual([]);
  await after.close();
});

test('walden/yjs: TypeError for bad arguments; a stored value that is no update is refused with an error event and changes nothing', async ({ harness: page }) => {
  const name = storeName('yjs-bad');
  await page.evaluate(async (name) => {
    const yjs = await window.harness.yjs();
    await yjs.open(name, 'doc');
    await yjs.append('kept;');
  }, name);
  expect(await page.evaluate(async () => (await window.harness.yjs()).misuse())).toEqual(['TypeError', 'TypeError', 'TypeError']);
  const outcome = await page.evaluate(async () => {
    const yjs = await window.harness.yjs();
    await yjs.forge('doc');
    for (let i = 0; i < 100 && yjs.errors().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    return { errors: yjs.errors(), text: yjs.text() };
  });
  expect(outcome.text).toBe('kept;');
  expect(outcome.errors).toHaveLength(1);
  expect(outcome.errors[0]).toMatch(/TypeError: yjs:doc\/u\/forged\/0 does not hold a Yjs update/);
  // clearData deletes everything stored for the document (the forged key too).
  expect(await page.evaluate(async () => (await window.harness.yjs()).clearData('doc'))).toBe(0);
});
