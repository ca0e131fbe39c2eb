/** Quota and persistence in real Chromium: a full origin fails writes cleanly and recovers. */
import { Profile, chromiumOnly, engine } from './support/browser.js';
import { expect, storeName, test } from './support/fixtures.js';

test('a write over the quota is STORE_QUOTA_EXCEEDED; reads go on; writes work again once space is freed', async ({ harness, profile }, info) => {
  chromiumOnly('CDP Storage.overrideQuotaForOrigin (a small quota)', 'none: Firefox sets quotas by preference at launch');
  const name = storeName(info.title);
  const cdp = await profile.context!.newCDPSession(harness);
  const origin = 'http://127.0.0.1:47123';
  const usage = async () => harness.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  await harness.evaluate(async (name) => {
    await window.harness.open(name, { compactThresholdBytes: 1 << 30 });
  }, name);
  // Leave about 3 MB of room.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: (await usage()) + 3 * 1024 * 1024 });
  const full = await harness.evaluate(async () => {
    const store = window.harness.store!;
    const big = 'q'.repeat(64 * 1024);
    let acked = 0;
    let error: { name: string; code?: string; message: string } | undefined;
    for (let i = 0; i < 200 && !error; i++) {
      try {
        await store.put(`big${i}`, big);
        acked++;
      } catch (e) {
        error = { name: (e as Error).name, code: (e as { code?: string }).code, message: (e as Error).message };
      }
    }
    const info = await store.info();
    const readBack = await store.get('big0');
    let compactCode = '';
    try {
      await store.compact();
      compactCode = 'compacted';
    } catch (e) {
      compactCode = (e as { code: string }).code;
    }
    return { acked, error, seq: info.seq, readOk: readBack === big, quota: info.storage.quota, compactCode };
  });
  expect(full.error).toMatchObject({ name: 'StoreError', code: 'STORE_QUOTA_EXCEEDED' });
  expect(full.acked).toBeGreaterThan(10);
  expect(full.seq).toBe(full.acked); // the failed write took no seq
  expect(full.readOk).toBe(true);
  expect(full.compactCode).toBe('STORE_QUOTA_EXCEEDED'); // no headroom for a snapshot: it does not start
  // Space is freed (here: the quota is raised); the same store takes writes again.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 10 * 1024 * 1024 * 1024 });
  const after = await harness.evaluate(async () => {
    const store = window.harness.store!;
    const seq = await store.put('after', 'space');
    await store.compact();
    await store.close();
    const info = await window.harness.open(window.harness.store!.name);
    const keys: string[] = [];
    for await (const [key] of window.harness.store!.scan()) keys.push(key);
    return { seq, info, keys: keys.length, tornBytes: info.recovery.tornBytes };
  });
  expect(after.seq).toBe(full.acked + 1);
  expect(after.info.seq).toBe(full.acked + 1);
  expect(after.keys).toBe(full.acked + 1);
  expect(after.tornBytes).toBe(0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
});

test('persist: true asks for persistent storage and info() reports it with the estimate', async ({}, info) => {
  chromiumOnly('CDP Browser.grantPermissions', 'the Firefox test of persist: true below, with the permission pref on and off');
  // A fresh profile: Chromium may grant persistence by itself to a site used a lot.
  const profile = new Profile();
  await profile.launch();
  const harness = await profile.page();
  const name = storeName(info.title);
  const cdp = await profile.context!.browser()!.newBrowserCDPSession();
  const before = await harness.evaluate(async (name) => {
    const info = await window.harness.open(name, { persist: true });
    await window.harness.store!.close();
    return { persisted: info.persisted };
  }, name);
  // Headless Chromium says no unless the permission is granted (a test-only switch).
  await cdp.send('Browser.grantPermissions', { permissions: ['durableStorage'], origin: 'http://127.0.0.1:47123' });
  const after = await harness.evaluate(async (name) => {
    const info = await window.harness.open(name, { persist: true });
    return { persisted: info.persisted, storage: info.storage };
  }, name);
  expect(before.persisted).toBe(false);
  expect(after.persisted).toBe(true);
  expect(after.storage.quota).toBeGreaterThan(0);
  expect(after.storage.usage).toBeGreaterThan(0);
  await profile.close();
  profile.remove();
});

// Firefox's persistent-storage permission is a prompt: `persist()` waits for the person (headless:
// forever). Its own test prefs answer the prompt; without them nobody ever does.
for (const answer of ['granted', 'denied', 'never answered'] as const) {
  test(`Firefox, permission ${answer}: openStore with persist: true does not wait for the prompt; the persist event and info() tell the answer`, async ({}, info) => {
    test.skip(engine() !== 'firefox', "Firefox's persistent-storage prompt (Chromium answers without one: the test above)");
    const prefs: Record<string, boolean> = answer === 'never answered' ? {} : { 'dom.storageManager.prompt.testing': true, 'dom.storageManager.prompt.testing.allow': answer === 'granted' };
    const profile = new Profile();
    try {
      await profile.launch({ firefoxUserPrefs: prefs });
      const page = await profile.page();
      const got = await page.evaluate(async (name) => {
        const started = performance.now();
        const store = await window.harness.openStore(name, { persist: true, worker: window.harness.newWorker() });
        const openMs = performance.now() - started;
        const event = await new Promise<unknown>((resolve) => {
          store.addEventListener('persist', (e) => resolve((e as CustomEvent<{ persisted: boolean }>).detail.persisted));
          setTimeout(() => resolve('no answer'), 3_000);
        });
        const { persisted } = await store.info();
        await store.put('k', 1);
        await store.close();
        return { opened: openMs < 10_000, event, persisted };
      }, storeName(info.title));
      expect(got).toEqual(answer === 'granted' ? { opened: true, event: true, persisted: true } : answer === 'denied' ? { opened: true, event: false, persisted: false } : { opened: true, event: 'no answer', persisted: false });
    } finally {
      await profile.close();
      profile.remove();
    }
  });
}
