/**
 * The demo app's own tests, written with the crash-test kit (`walden/testing`) the way an app's
 * tests would be: offline reload through the service worker, crashes mid-write, two tabs.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromiumOnly } from './support/browser.js';
import { crashAfterCommits, crashPage, crashWorker, expectDurable, installWaldenTesting, killBrowser, storeState } from '../../src/testing/index.js';
import { Profile } from './support/browser.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ORIGIN = 'http://127.0.0.1:47125';
const STORE = 'walden-notes';
/** A 1×1 PNG. */
const ONE_PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

test.describe.configure({ mode: 'serial' });

// The demo is built and served by playwright.config.ts (once for every worker).
test.beforeAll(async () => {
  test.setTimeout(120_000);
  // The kit's in-page bundle comes from dist/ (`npm test` builds it first).
  if (!existsSync(resolve(ROOT, 'dist/testing/inspect.iife.js'))) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'ignore' });
});

async function launch(profile: Profile): Promise<BrowserContext> {
  const context = await profile.launch();
  await installWaldenTesting(context);
  return context;
}

async function openApp(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(ORIGIN);
  await expect(page.locator('#badge')).toContainText('saved on this device');
  return page;
}

async function addNote(page: Page, title: string): Promise<void> {
  await page.fill('#title', title);
  await page.fill('#body', `body of ${title}`);
  await page.click('#compose button');
  await expect(page.locator('#notes li', { hasText: title })).toHaveCount(1);
}

/** Write notes through the app as fast as it acknowledges them, until told to stop. */
async function startWriting(page: Page): Promise<void> {
  await page.evaluate(() => {
    const form = document.getElementById('compose') as HTMLFormElement;
    let i = 0;
    const tick = () => {
      (document.getElementById('title') as HTMLInputElement).value = `auto ${i++}`;
      form.requestSubmit();
      setTimeout(tick, 2);
    };
    tick();
  });
}

test('works offline: the service worker serves the app and the notes are there', async () => {
  const profile = new Profile();
  try {
    const context = await launch(profile);
    const page = await openApp(context);
    await addNote(page, 'Buy milk');
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready.then(() => true));
    await page.reload(); // now under the service worker's control, caching the shell
    await expect(page.locator('#notes li', { hasText: 'Buy milk' })).toHaveCount(1);
    await page.waitForFunction(async () => (await caches.keys()).length > 0 && (await (await caches.open('walden-notes-v1')).keys()).length >= 4);
    await context.setOffline(true);
    await page.reload();
    await expect(page.locator('#badge')).toContainText('offline');
    await expect(page.locator('#notes li', { hasText: 'Buy milk' })).toHaveCount(1);
    await addNote(page, 'Written offline');
    // A picture attached offline is stored (a File value) and shown again after a reload.
    await page.setInputFiles('#picture', { name: 'dot.png', mimeType: 'image/png', buffer: Buffer.from(ONE_PIXEL_PNG, 'base64') });
    await addNote(page, 'With a picture');
    await page.reload();
    const picture = page.locator('#notes li', { hasText: 'With a picture' }).locator('img.picture');
    await expect(picture).toHaveAttribute('alt', 'dot.png');
    await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1);
    await context.setOffline(false);
  } finally {
    await profile.close();
    profile.remove();
  }
});

test('crash mid-write (worker, renderer, whole browser, compaction): every acknowledged note is back', async () => {
  chromiumOnly('CDP Page.crash and the kit\'s Fetch interception in storeState()', 'the crash and tabs specs, which run worker.terminate() and SIGKILL on Firefox');
  test.setTimeout(120_000);
  const profile = new Profile();
  try {
    let context = await launch(profile);
    let page = await openApp(context);
    // 1. The store's worker dies mid-write.
    await startWriting(page);
    await page.waitForFunction(() => ((globalThis as unknown as { __waldenTesting: { acked: Record<string, { seq: number }> } }).__waldenTesting.acked['walden-notes']?.seq ?? 0) > 20);
    let acked = await crashWorker(page, STORE);
    await page.close();
    let state = await storeState(context, ORIGIN, STORE);
    expectDurable(acked, state);
    expect(acked.seq).toBeGreaterThan(20);
    // 2. The renderer crashes mid-write.
    page = await openApp(context);
    await startWriting(page);
    await page.waitForTimeout(300);
    acked = await crashPage(page, STORE);
    state = await storeState(context, ORIGIN, STORE);
    expectDurable(acked, state);
    // 3. The browser is killed mid-write; relaunch the same profile.
    page = await openApp(context);
    await startWriting(page);
    await page.waitForTimeout(300);
    acked = (await killBrowser(context, { page, store: STORE, userDataDir: profile.dir }))!;
    context = await launch(profile);
    state = await storeState(context, ORIGIN, STORE);
    expectDurable(acked, state);
    // 4. A crash right after the next 5 commits.
    page = await openApp(context);
    await crashAfterCommits(page, 5, STORE);
    await startWriting(page);
    await page.waitForTimeout(300);
    acked = await crashWorker(page, STORE).catch(async () => (await import('../../src/testing/index.js')).acknowledged(page, STORE));
    await page.close();
    state = await storeState(context, ORIGIN, STORE);
    expectDurable(acked, state);
    // The app shows every note the store holds after a reload.
    page = await openApp(context);
    const notes = state.entries.filter((e) => e.key.startsWith('note:')).length;
    await expect(page.locator('#stats')).toContainText(`${notes} /`);
  } finally {
    await profile.close();
    profile.remove();
  }
});

for (const point of ['snapshot-written', 'catalog-committed', 'repointed'] as const) {
  test(`a crash at compaction point "${point}" loses nothing`, async () => {
    chromiumOnly("storeState() past the demo's service worker (CDP Network.setBypassServiceWorker)", 'the compaction crash points of the engine unit tests and the crash spec');
    const profile = new Profile();
    try {
      const context = await profile.launch();
      await installWaldenTesting(context, { crashAtCompactionPoint: point });
      const page = await openApp(context);
      for (let i = 0; i < 5; i++) await addNote(page, `note ${i}`);
      await page.click('#bulk');
      await expect(page.locator('#log')).toContainText('10,000 durable writes');
      await page.click('#compact'); // the worker dies at the chosen point
      await page.waitForFunction((point) => (globalThis as unknown as { __waldenTesting: { crashed?: string } }).__waldenTesting.crashed === point, point);
      const acked = await (await import('../../src/testing/index.js')).acknowledged(page, STORE);
      await page.close();
      const state = await storeState(context, ORIGIN, STORE);
      expectDurable(acked, state);
      expect(state.entries.length).toBe(10_005);
      // Crashed before its catalog row, the flushed snapshot still verifies by its own checksums
      // and the catalog is empty: recovery adopts it and writes the row. After it, the row is there.
      expect(state.catalog).toMatchObject([{ seq: 10_005 }]);
    } finally {
      await profile.close();
      profile.remove();
    }
  });
}

test('two tabs: both work, each shows what the other writes, and the second takes over when the first closes', async () => {
  const profile = new Profile();
  try {
    const context = await launch(profile);
    const first = await openApp(context);
    await addNote(first, 'from tab one');
    const second = await openApp(context);
    await expect(second.locator('#notes li', { hasText: 'from tab one' })).toHaveCount(1);
    await expect(second.locator('#stats')).toContainText('follower');
    await addNote(second, 'from tab two');
    await expect(first.locator('#notes li', { hasText: 'from tab two' })).toHaveCount(1);
    await first.close();
    await expect(second.locator('#stats')).toContainText('leader (this tab owns the files)', { timeout: 10_000 });
    await addNote(second, 'after the first closed');
    await second.reload();
    await expect(second.locator('#notes li')).toHaveCount(3);
  } finally {
    await profile.close();
    profile.remove();
  }
});

test('sync: a note written on one device shows on the other through a local nats-server, and the panel shows the sync state', async () => {
  const { NatsDeployment, USERS } = await import('./support/nats.js');
  const server = await NatsDeployment.start(1);
  const profile = new Profile();
  try {
    const context = await profile.launch();
    const query = (device: number) => `?sync=${encodeURIComponent(server.servers[0]!)}&device=${device}&user=${USERS.alice.user}&pass=${USERS.alice.pass}`;
    const [one, two] = [await context.newPage(), await context.newPage()];
    for (const [page, device] of [[one, 1], [two, 2]] as const) {
      await page.goto(`${ORIGIN}/${query(device)}`);
      await expect(page.locator('#sync')).toContainText('online', { timeout: 20_000 });
    }
    await addNote(one, 'written on device one');
    await expect(two.locator('#notes li', { hasText: 'written on device one' })).toHaveCount(1, { timeout: 20_000 });
    await addNote(two, 'written on device two');
    await expect(one.locator('#notes li', { hasText: 'written on device two' })).toHaveCount(1, { timeout: 20_000 });
    await expect(two.locator('#sync')).toContainText(/applied from others\s*1/);
    await one.click('#sync-snapshot');
    await expect(one.locator('#log')).toContainText('Snapshot at stream seq');
  } finally {
    await profile.close();
    profile.remove();
    await server.stop();
  }
});
