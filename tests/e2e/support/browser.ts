/** Launching Chromium with a disk-backed profile, opening the harness, and the ways to crash. */
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killBrowser } from '../../../src/testing/index.js';

export const HARNESS_URL = 'http://127.0.0.1:47123/tests/harness/index.html';

/** Flags for running as root in a container without network or GPU. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A persistent profile directory; launches of it share OPFS and IndexedDB, on disk. */
export class Profile {
  readonly dir = mkdtempSync(join(tmpdir(), 'walden-profile-'));
  context: BrowserContext | undefined;

  /** Launch (or relaunch) the browser on this profile. */
  async launch(): Promise<BrowserContext> {
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
    await page.goto(HARNESS_URL);
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
