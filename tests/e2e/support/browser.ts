/** Launching Chromium with a disk-backed profile, opening the harness, and the ways to crash. */
import { chromium, firefox, test, type BrowserContext, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killBrowser } from '../../../src/testing/index.js';

export const HARNESS_URL = 'http://127.0.0.1:47123/tests/harness/index.html';

/** Flags for running as root in a container without network or GPU. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The running Playwright project's name (`chromium` outside of a test). */
function projectName(): string {
  try {
    return test.info().project.name;
  } catch {
    return 'chromium';
  }
}

/** The engine the running Playwright project drives (`chromium` outside of a test). */
export function engine(): 'chromium' | 'firefox' {
  return projectName().startsWith('firefox') ? 'firefox' : 'chromium';
}

/** The backend the running project's harness opens stores on (`-indexeddb` projects: the fallback). */
export function backend(): 'opfs' | 'indexeddb' {
  return projectName().endsWith('-indexeddb') ? 'indexeddb' : 'opfs';
}

/** The harness page, opening stores on the project's backend. */
export function harnessUrl(): string {
  return backend() === 'indexeddb' ? `${HARNESS_URL}?backend=indexeddb` : HARNESS_URL;
}

/**
 * Skip the calling test on engines other than Chromium: it needs `what`, a Chromium-only tool
 * (the DevTools protocol). `nearest` says what stands in for it elsewhere, if anything.
 */
export function chromiumOnly(what: string, nearest = 'none'): void {
  test.skip(engine() !== 'chromium', `needs ${what} (Chromium only; nearest elsewhere: ${nearest})`);
}

/** A persistent profile directory; launches of it share OPFS and IndexedDB, on disk. */
export class Profile {
  readonly dir = mkdtempSync(join(tmpdir(), 'walden-profile-'));
  context: BrowserContext | undefined;

  /** Launch (or relaunch) the browser on this profile (Firefox with `firefoxUserPrefs`, if given). */
  async launch(options: { firefoxUserPrefs?: Record<string, string | number | boolean> } = {}): Promise<BrowserContext> {
    if (engine() === 'firefox') {
      // Debian's Firefox ESR through Playwright's WebDriver BiDi launcher (patches/: it lacks one emulation command).
      this.context = await firefox.launchPersistentContext(this.dir, { channel: 'moz-firefox', executablePath: process.env.WALDEN_FIREFOX, headless: true, ...(options.firefoxUserPrefs ? { firefoxUserPrefs: options.firefoxUserPrefs } : {}) });
      return this.context;
    }
    this.context = await chromium.launchPersistentContext(this.dir, {
      executablePath: process.env.WALDEN_CHROMIUM,
      headless: true,
      // expose-gc lets a test collect garbage before it measures the heap.
      args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'],
    });
    return this.context;
  }

  /** A new page with the harness loaded. */
  async page(): Promise<Page> {
    const page = await this.context!.newPage();
    page.on('pageerror', (error) => console.error('page error:', error));
    await page.goto(harnessUrl());
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    return page;
  }

  /** SIGKILL the browser process (and its children) mid-whatever, like a power cut of the app. */
  async kill(): Promise<void> {
    await killBrowser(this.context!, { userDataDir: this.dir });
    this.context = undefined;
  }

  async close(): Promise<void> {
    await this.context?.close().catch(() => {});
    this.context = undefined;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export { crashPage } from '../../../src/testing/index.js';
