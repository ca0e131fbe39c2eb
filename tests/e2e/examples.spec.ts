/** The runnable examples under docs/examples/ work and keep their promises. */
import { expect, test } from './support/fixtures.js';

test('01-derived-counter: derived counts survive reloads and match a full scan', async ({ profile }) => {
  const page = await profile.context!.newPage();
  const url = 'http://127.0.0.1:47123/docs/examples/01-derived-counter/index.html';
  const ready = () => page.waitForFunction(() => document.getElementById('check')?.textContent === 'ready');
  // Wait until the writes of the clicks have landed and the consumer has caught up with them.
  const settled = async (expected: { total: number; done: number }) => {
    let r: { derived: object; scanned: object } | undefined;
    for (let i = 0; i < 100; i++) {
      r = (await page.evaluate(() => (window as unknown as { verify: () => Promise<{ derived: object; scanned: object }> }).verify())) as { derived: object; scanned: object };
      if (JSON.stringify(r.derived) === JSON.stringify(expected) && JSON.stringify(r.scanned) === JSON.stringify(expected)) return r;
      await page.waitForTimeout(50);
    }
    throw new Error(`derived counts never reached ${JSON.stringify(expected)}: ${JSON.stringify(r)}`);
  };
  await page.goto(url);
  await ready();
  for (let round = 1; round <= 3; round++) {
    await page.click('#add');
    await page.click('#add');
    await settled({ total: 20 * round, done: 5 * (round - 1) });
    await page.click('#done');
    await settled({ total: 20 * round, done: 5 * round });
    // After a reload the counts come back from the checkpoint plus the changes after it.
    await page.reload();
    await ready();
    await settled({ total: 20 * round, done: 5 * round });
  }
  await page.close();
});

test('03-zustand-storage: the persisted zustand state, a Map and a Date in it, comes back exactly after reloads', async ({ profile }) => {
  const page = await profile.context!.newPage();
  const url = 'http://127.0.0.1:47123/docs/examples/03-zustand-storage/index.html';
  const ready = () => page.waitForFunction(() => document.getElementById('check')?.textContent === 'ready');
  const text = (id: string) => page.textContent(`#${id}`);
  await page.goto(url);
  await ready();
  for (let round = 1; round <= 3; round++) {
    await page.click('#add');
    await page.click('#add');
    await page.waitForFunction((n) => document.getElementById('count')?.textContent === String(n), 2 * round);
    const last = await text('last');
    // zustand does not wait for its storage: let the write land before the reload (close() would wait for it).
    await page.waitForTimeout(300);
    await page.reload();
    await ready();
    expect(await text('count')).toBe(String(2 * round));
    expect(await text('last')).toBe(last);
    expect(await text('isDate')).toBe('true');
  }
  await page.close();
});

test('04-react-todos: what one tab adds or removes shows in the other at once, Dates intact, and survives a reload', async ({ profile }) => {
  const url = 'http://127.0.0.1:47123/docs/examples/04-react-todos/index.html';
  const [a, b] = [await profile.context!.newPage(), await profile.context!.newPage()];
  const state = (page: typeof a) => page.textContent('#state');
  const items = (page: typeof a) => page.$$eval('#list li', (lis) => lis.map((li) => li.firstChild!.textContent));
  for (const page of [a, b]) {
    await page.goto(url);
    await page.waitForSelector('#add');
  }
  const before = (await items(a)).length;
  await a.fill('#title', 'buy milk');
  await a.click('#add');
  await expect.poll(() => items(b)).toContain('buy milk (a Date) ');
  expect(await state(b)).toBe(`${before + 1} todos · last added: buy milk`);
  await b.fill('#title', 'call home');
  await b.click('#add');
  await expect.poll(() => items(a)).toContain('call home (a Date) ');
  // Remove the milk in tab b: tab a follows.
  await b.locator('#list li', { hasText: 'buy milk' }).locator('button').click();
  await expect.poll(() => items(a)).not.toContain('buy milk (a Date) ');
  await a.reload();
  await a.waitForSelector('#add');
  expect(await items(a)).toContain('call home (a Date) ');
  expect(await items(a)).not.toContain('buy milk (a Date) ');
  await a.close();
  await b.close();
});

test('05-yjs-shared-list: items added in two tabs show in both, live, and after a reload', async ({ profile }) => {
  const url = 'http://127.0.0.1:47123/docs/examples/05-yjs-shared-list/index.html';
  const [a, b] = [await profile.context!.newPage(), await profile.context!.newPage()];
  const items = (page: typeof a) => page.$$eval('#items li', (lis) => lis.map((li) => li.textContent));
  for (const page of [a, b]) {
    await page.goto(url);
    await page.waitForFunction(() => /^\d+ items$/.test(document.getElementById('state')?.textContent ?? ''));
  }
  await a.fill('#text', 'from a');
  await a.click('#add');
  await b.fill('#text', 'from b');
  await b.click('#add');
  for (const page of [a, b]) await expect.poll(() => items(page)).toEqual(expect.arrayContaining(['from a', 'from b']));
  expect(await items(a)).toEqual(await items(b));
  const before = await items(a);
  await a.reload();
  await a.waitForFunction((n) => document.getElementById('state')?.textContent === `${n} items`, before.length);
  expect(await items(a)).toEqual(before);
  await a.close();
  await b.close();
});

test('06-level-visits: each reload adds a visit; the reverse iterator lists the last ones', async ({ profile }) => {
  const page = await profile.context!.newPage();
  const url = 'http://127.0.0.1:47123/docs/examples/06-level-visits/index.html';
  await page.goto(url);
  await page.waitForFunction(() => /^visit \d+$/.test(document.getElementById('count')?.textContent ?? ''));
  const first = Number((await page.textContent('#count'))!.slice(6));
  for (let i = 1; i <= 2; i++) {
    await page.reload();
    await page.waitForFunction((n) => document.getElementById('count')?.textContent === `visit ${n}`, first + i);
  }
  const listed = await page.$$eval('#last li', (lis) => lis.map((li) => li.textContent));
  expect(listed.slice(0, 3)).toEqual([first + 2, first + 1, first].map((n) => `${String(n).padStart(8, '0')}: visit ${n}`));
  await page.close();
});
