// The probes' shared setup: the test harness served by Vite, and a persistent Chromium profile.
import { chromium } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'vite';
import { findChromium } from '../scripts/chromium.mjs';

/** Flags for Chromium as root in a container without network or GPU. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Serve the harness, launch a disk-backed profile, open the harness page; `close()` undoes all. */
export async function openHarness(extraArgs = []) {
  const server = await createServer({ configFile: 'tests/harness/vite.config.ts' });
  await server.listen();
  const profileDir = mkdtempSync(join(tmpdir(), 'walden-probe-'));
  const context = await chromium.launchPersistentContext(profileDir, { executablePath: await findChromium(), headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
  const page = await context.newPage();
  await page.goto('http://127.0.0.1:47123/tests/harness/index.html');
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  return {
    context,
    page,
    async close() {
      await context.close();
      await server.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
