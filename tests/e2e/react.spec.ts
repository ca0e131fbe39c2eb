/**
 * `walden/react` with React 19 and `react-dom` in real Chromium: live results from this tab and
 * another, stable identities, no change missed or doubled between a component's first read and
 * the live feed, Strict Mode, bad input.
 */
import type { Page } from '@playwright/test';
import { expect, storeName, test } from './support/fixtures.js';

/** What probe `id` rendered last: its value, its scan's keys, and how many renders. */
const lastOf = (page: Page, id: string) =>
  page.evaluate(async (id) => {
    const probe = (await window.harness.react()).probe(id)!;
    const scan = probe.scans.at(-1);
    return { value: probe.values.at(-1) as unknown, keys: scan?.map(([key]) => key), renders: probe.values.length, error: probe.error, open: probe.store !== undefined };
  }, id);

test('useValue and useScan show writes from this tab and from another tab; results keep their identity until a change touches them', async ({ harness: page, profile }) => {
  const name = storeName('react-live');
  await page.evaluate(async (name) => (await window.harness.react()).mount('a', name, 'todo:1', 'todo:'), name);
  await expect.poll(() => lastOf(page, 'a')).toMatchObject({ value: undefined, keys: [], open: true });

  await page.evaluate(async () => {
    const store = (await window.harness.react()).probe('a')!.store!;
    await store.put('todo:1', { title: 'one', at: new Date(5) });
  });
  await expect.poll(async () => (await lastOf(page, 'a')).value).toEqual({ title: 'one', at: new Date(5) });

  const identities = await page.evaluate(async () => {
    const probe = (await window.harness.react()).probe('a')!;
    const next = async (write: () => Promise<unknown>) => {
      const renders = probe.values.length;
      await write();
      // A write outside what the probe reads renders nothing: make it render to compare.
      await new Promise((r) => setTimeout(r, 100));
      probe.rerender();
      for (let i = 0; i < 100 && probe.values.length === renders; i++) await new Promise((r) => setTimeout(r, 10));
      return { value: probe.values.at(-1), scan: probe.scans.at(-1)! };
    };
    const before = { value: probe.values.at(-1), scan: probe.scans.at(-1)! };
    const outside = await next(() => probe.store!.put('other', 2));
    const inRange = await next(() => probe.store!.put('todo:2', 'two'));
    return {
      outsideKeepsValue: outside.value === before.value,
      outsideKeepsScan: outside.scan === before.scan,
      inRangeNewScan: inRange.scan !== before.scan,
      inRangeKeepsUntouchedEntry: inRange.scan[0] === before.scan[0],
      inRangeKeepsValue: inRange.value === before.value,
      keys: inRange.scan.map(([key]) => key),
    };
  });
  expect(identities).toEqual({ outsideKeepsValue: true, outsideKeepsScan: true, inRangeNewScan: true, inRangeKeepsUntouchedEntry: true, inRangeKeepsValue: true, keys: ['todo:1', 'todo:2'] });

  // Another tab writes (through whichever tab leads): the first tab's components follow.
  const other = await profile.page();
  await other.evaluate(async (name) => {
    await window.harness.open(name);
    await window.harness.store!.put('todo:3', 'from the other tab');
    await window.harness.store!.delete('todo:2');
    await window.harness.store!.put('todo:1', { title: 'edited elsewhere' });
  }, name);
  await expect.poll(() => lastOf(page, 'a')).toMatchObject({ value: { title: 'edited elsewhere' }, keys: ['todo:1', 'todo:3'] });
  await other.close();
});

test('components mounted while another worker writes end at the final state, values in order, lists well formed (every interleaving: tests/unit/adapters/live.test.ts)', async ({ harness: page }) => {
  const name = storeName('react-race');
  const result = await page.evaluate(async (name) => {
    const react = await window.harness.react();
    await window.harness.open(name);
    const writer = window.harness.store!;
    const WRITES = 300;
    const writing = (async () => {
      // Each write also adds a key that is never written again: a change missed is missed for good.
      for (let i = 1; i <= WRITES; i++) {
        const item = `item:${String(i).padStart(4, '0')}`;
        if (i % 5 === 0) await writer.batch([{ type: 'put', key: 'n', value: i }, { type: 'put', key: item, value: i }, { type: 'del', key: `item:${String(i - 50).padStart(4, '0')}` }]);
        else await writer.batch([{ type: 'put', key: 'n', value: i }, { type: 'put', key: item, value: i }]);
      }
    })();
    const ids: string[] = [];
    for (let p = 0; p < 10; p++) {
      ids.push(`race${p}`);
      // A range of its own for each (the same keys): each makes its own first read.
      react.mount(`race${p}`, name, 'n', 'item:', false, `item:9${'9'.repeat(p)}`);
      await new Promise((r) => setTimeout(r, 25 + p * 7));
    }
    await writing;
    const expected = (await writer.scanAt({ prefix: 'item:' })).entries.map(([key]) => key);
    const deadline = Date.now() + 10_000;
    const settled = () => ids.every((id) => {
      const probe = react.probe(id)!;
      return probe.values.at(-1) === WRITES && JSON.stringify(probe.scans.at(-1)?.map(([k]) => k)) === JSON.stringify(expected);
    });
    while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return ids.map((id) => {
      const probe = react.probe(id)!;
      const values = probe.values.filter((v) => v !== undefined) as number[];
      const scans = probe.scans.filter((s) => s !== undefined);
      return {
        last: values.at(-1),
        inOrder: values.every((v, i) => i === 0 || v >= values[i - 1]!),
        // A doubled or misplaced insert would show a key twice or out of order.
        scansWellFormed: scans.every((s) => s.every(([key], i) => i === 0 || key > s[i - 1]![0])),
        finalScan: JSON.stringify(scans.at(-1)?.map(([k]) => k)) === JSON.stringify(expected),
        error: probe.error,
      };
    });
  }, name);
  expect(result).toHaveLength(10);
  for (const probe of result) expect(probe).toEqual({ last: 300, inOrder: true, scansWellFormed: true, finalScan: true, error: undefined });
});

test('walden/react: Strict Mode mounts share one store and close it after unmounting; TypeError for bad input', async ({ harness: page }) => {
  const name = storeName('react-strict');
  await page.evaluate(async (name) => {
    const react = await window.harness.react();
    react.mount('strict', name, 'x', 'x', true);
    react.mount('bad-key', name, 42, 'x');
  }, name);
  await expect.poll(() => lastOf(page, 'strict')).toMatchObject({ open: true, keys: [] });
  await page.evaluate(async () => (await window.harness.react()).probe('strict')!.store!.put('x', 'written'));
  await expect.poll(async () => (await lastOf(page, 'strict')).value).toBe('written');
  expect((await lastOf(page, 'bad-key')).error).toMatch(/^TypeError: key must be a string/);
  const afterUnmount = await page.evaluate(async () => {
    const react = await window.harness.react();
    const store = react.probe('strict')!.store!;
    react.unmountAll();
    await new Promise((r) => setTimeout(r, 200));
    return store.get('x').then(
      () => 'still open',
      (error: { code?: string }) => error.code,
    );
  });
  expect(afterUnmount).toBe('STORE_CLOSED');
});
