/**
 * `walden/storage` under the real libraries that persist into async storage — TanStack Query's
 * async-storage persister, zustand's `persist`, redux-persist — each storing objects without a
 * JSON round trip: persist, reload the page, restore; and bad input.
 */
import { HARNESS_URL, Profile } from './support/browser.js';
import { expect, test } from './support/fixtures.js';

test('TanStack Query, zustand and redux-persist persist into walden/storage and restore after a reload, values exact', async () => {
  const profile = new Profile();
  try {
    const context = await profile.launch();
    const page = await context.newPage();
    await page.goto(HARNESS_URL);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    const name = `storage-${Date.now().toString(36)}`;
    await page.evaluate(async (name) => (await window.harness.adapters()).write(name), name);
    await page.reload();
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    const restored = await page.evaluate(async (name) => {
      const got = await (await window.harness.adapters()).read(name);
      // Compared in the page: Dates, Maps, typed arrays and -0 do not survive the trip to Node.
      const same = (a: unknown, b: unknown): boolean => {
        if (Object.is(a, b)) return true;
        if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
        if (a instanceof Map && b instanceof Map) return a.size === b.size && [...a].every(([k, v]) => b.has(k) && same(v, b.get(k)));
        if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
        if (a && b && typeof a === 'object' && typeof b === 'object' && Object.getPrototypeOf(a) === Object.getPrototypeOf(b)) {
          const ka = Object.keys(a);
          return ka.length === Object.keys(b).length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
        }
        return false;
      };
      const query = got.query as { id: number; title: string; extra: unknown } | undefined;
      return {
        query: query && { id: query.id, title: query.title, exact: same(query.extra, got.expected) },
        zustand: { count: got.zustand.count, exact: same(got.zustand.extra, got.expected) },
        redux: { items: got.redux.items, exact: same(got.redux.extra, got.expected) },
        keys: got.keys,
      };
    }, name);
    expect(restored).toEqual({
      query: { id: 1, title: 'persisted', exact: true },
      zustand: { count: 7, exact: true },
      redux: { items: ['one', 'two'], exact: true },
      keys: ['redux:persist:root', 'tanstack:REACT_QUERY_OFFLINE_CACHE', 'zustand:counter'],
    });
  } finally {
    await profile.close();
    profile.remove();
  }
});

test('walden/storage: TypeError for wrong arguments, StoreError once the store is closed, nothing written by a refused call', async ({ harness: page }) => {
  const thrown = await page.evaluate(async (name) => (await window.harness.adapters()).misuse(name), `misuse-${Date.now().toString(36)}`);
  expect(thrown).toEqual(['TypeError', 'TypeError', 'TypeError', 'TypeError', 'keys ["kept"]', 'StoreError STORE_CLOSED']);
});
