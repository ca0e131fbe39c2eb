/** Playwright fixtures: one persistent profile per test worker, a fresh harness page per test. */
import { test as base, type Page } from '@playwright/test';
import { Profile } from './browser.js';

export const test = base.extend<{ harness: Page }, { profile: Profile }>({
  profile: [
    async ({}, use) => {
      const profile = new Profile();
      await profile.launch();
      await use(profile);
      await profile.close();
      profile.remove();
    },
    { scope: 'worker' },
  ],
  harness: async ({ profile }, use) => {
    if (!profile.context) await profile.launch();
    const before = new Set(profile.context!.pages());
    const page = await profile.page();
    await use(page);
    // Every page the test opened, crashed ones too. Tabs left open after Page.crash (a crash test
    // left five) made a later test's new tab crash as soon as it ran, every time, on Chromium.
    for (const opened of profile.context?.pages() ?? []) if (!before.has(opened)) await opened.close().catch(() => {});
    await page.close().catch(() => {});
  },
});

export { expect } from '@playwright/test';

/** A store name unique to this test. */
export function storeName(title: string): string {
  return `${title.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
