// Copy-paste starting point: crash your app mid-write three ways and check what it acknowledged.
import { test, expect, chromium } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installWaldenTesting, crashWorker, crashPage, killBrowser, storeState, expectDurable } from 'walden/testing';

const ORIGIN = 'http://127.0.0.1:47126';
// A persistent profile: Playwright's default contexts keep OPFS in memory.
const profile = mkdtempSync(join(tmpdir(), 'app-profile-'));
const launch = async () => {
  const context = await chromium.launchPersistentContext(profile, {
    // Playwright's own Chromium by default; a system one through WALDEN_CHROMIUM.
    executablePath: process.env.WALDEN_CHROMIUM || undefined,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  await installWaldenTesting(context); // before the app loads
  return context;
};
const openApp = async (context) => {
  const page = await context.newPage();
  await page.goto(ORIGIN);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'yes');
  return page;
};
const keepAdding = (page) => page.evaluate(() => {
  const tick = () => {
    document.getElementById('text').value = `todo ${Math.random()}`;
    document.getElementById('add').requestSubmit();
    setTimeout(tick, 1);
  };
  tick();
});

test('no acknowledged todo is lost, whatever dies', async () => {
  let context = await launch();
  let page = await openApp(context);

  await keepAdding(page);
  await page.waitForTimeout(300);
  let acked = await crashWorker(page);                  // the store's worker dies mid-write
  await page.close();
  expectDurable(acked, await storeState(context, ORIGIN, 'todos'));

  page = await openApp(context);
  await keepAdding(page);
  await page.waitForTimeout(300);
  acked = await crashPage(page);                        // the renderer crashes
  expectDurable(acked, await storeState(context, ORIGIN, 'todos'));

  page = await openApp(context);
  await keepAdding(page);
  await page.waitForTimeout(300);
  acked = await killBrowser(context, { page, userDataDir: profile }); // SIGKILL the browser
  context = await launch();
  const state = await storeState(context, ORIGIN, 'todos');
  expectDurable(acked, state);
  expect(state.entries.length).toBeGreaterThan(0);
  await context.close();
});
