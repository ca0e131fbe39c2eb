import { defineConfig } from '@playwright/test';

/** The specs that also run on the IndexedDB backend: the API, crashes, damage, backups, the change feed, reconciliation, many tabs. */
const FALLBACK_SPECS = ['**/api.spec.ts', '**/crash.spec.ts', '**/damage.spec.ts', '**/backup.spec.ts', '**/feed.spec.ts', '**/reconcile.spec.ts', '**/tabs.spec.ts'];

// The harness is served by Vite on a fixed origin; every spec launches its own persistent profile
// (Playwright's default contexts keep OPFS in memory and make flush() a no-op).
export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '**/*.spec.ts',
  timeout: 180_000,
  workers: 2,
  fullyParallel: true,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  outputDir: 'test-results/e2e',
  // Every browser test on Chromium, and on Firefox where one is installed (WALDEN_FIREFOX, set
  // by `npm test`). The Node-only specs (the packed package, walden/node) run once.
  projects: [
    { name: 'chromium' },
    ...(process.env.WALDEN_FIREFOX ? [{ name: 'firefox', testIgnore: ['**/packed-app.spec.ts', '**/node.spec.ts'] }] : []),
    // The fallback backend (IndexedDB, where OPFS sync handles are missing): the specs whose
    // stores open through the harness, on the same engines (`?backend=indexeddb`).
    { name: 'chromium-indexeddb', testMatch: FALLBACK_SPECS },
    ...(process.env.WALDEN_FIREFOX ? [{ name: 'firefox-indexeddb', testMatch: FALLBACK_SPECS }] : []),
  ],
  webServer: [
    {
      command: 'npx vite --config tests/harness/vite.config.ts',
      url: 'http://127.0.0.1:47123/tests/harness/index.html',
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
    },
    // The built demo (its service worker needs a build), built and served once for every worker:
    // two workers building it at once fail, and one stopping a shared preview breaks the other.
    {
      command: 'npm run --silent demo:build && npx vite preview --config demo/vite.config.ts',
      url: 'http://127.0.0.1:47125/',
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
    },
  ],
});
