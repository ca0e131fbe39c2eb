/** Expiry and restart reconciliation in real Chromium, on real OPFS and IndexedDB. */
import { Profile } from './support/browser.js';
import { expect, storeName, test } from './support/fixtures.js';

test('expired keys are invisible at once and dropped at open, reported in info().recovery', async ({ harness }, info) => {
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    await window.harness.open(name);
    const store = window.harness.store!;
    await store.put('session', { token: 'abc' }, { ttlMs: 300 });
    await store.batch([{ type: 'put', key: 'flash', value: 'hi', expiresAt: new Date(Date.now() + 300) }, { type: 'put', key: 'stays', value: 1 }]);
    const before = [await store.get('session'), await store.get('flash')];
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = [await store.get('session'), await store.get('flash'), await store.get('stays')];
    const scanned: string[] = [];
    for await (const [key] of store.scan()) scanned.push(key);
    await store.close();
    const reopened = await window.harness.open(name);
    return { before, after, scanned, reopened };
  }, name);
  expect(r.before).toEqual([{ token: 'abc' }, 'hi']);
  expect(r.after).toEqual([undefined, undefined, 1]);
  expect(r.scanned).toEqual(['stays']);
  expect(r.reopened.recovery.expiredKeys).toBe(2);
  expect(r.reopened.keys).toBe(1);
});

test('files deleted behind the store: STORE_DATA_LOST, never an empty store; IndexedDB cleared: reopens from the files', async ({}, info) => {
  // A profile of its own: deleting the database waits for every connection of the origin to close.
  const profile = new Profile();
  await profile.launch();
  const harness = await profile.page();
  const name = storeName(info.title);
  const r = await harness.evaluate(async (name) => {
    const codeOf = async () => {
      try {
        const info = await window.harness.open(name);
        await window.harness.store!.close();
        return { info };
      } catch (error) {
        return { code: (error as { code: string }).code, message: (error as Error).message };
      }
    };
    await window.harness.open(name);
    for (let i = 0; i < 100; i++) await window.harness.store!.put(`k${i}`, i);
    await window.harness.store!.compact();
    await window.harness.store!.put('tail', 1);
    await window.harness.store!.close();
    // IndexedDB cleared (the catalog and the creation mark gone), the files kept.
    await new Promise((resolve, reject) => {
      const request = indexedDB.deleteDatabase('walden');
      request.onsuccess = resolve;
      request.onerror = reject;
      request.onblocked = () => reject(new Error('deleting the database is blocked by an open connection'));
    });
    const fromFiles = await codeOf();
    // Now the files go while IndexedDB remembers the store (a partial eviction).
    await window.harness.storeFiles.removeAll(name);
    const lost = await codeOf();
    const again = await codeOf(); // still refused: nothing was reinitialised
    await window.harness.deleteStore(name);
    const fresh = await codeOf();
    return { fromFiles, lost, again, fresh };
  }, name);
  expect(r.fromFiles.info).toMatchObject({ seq: 101, keys: 101, snapshotSeq: 100 });
  expect(r.lost).toMatchObject({ code: 'STORE_DATA_LOST', message: expect.stringContaining('files are gone') });
  expect(r.again).toMatchObject({ code: 'STORE_DATA_LOST' });
  expect(r.fresh.info).toMatchObject({ seq: 0, keys: 0 });
  await profile.close();
  profile.remove();
});
