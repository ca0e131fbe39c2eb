/** Launching Chromium with a disk-backed profile, opening the harness, and the ways to crash. */
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
    const pid = browserPid(this.dir);
    if (pid === undefined) throw new Error('browser process not found');
    const children = descendants(pid);
    const closed = new Promise((resolve) => this.context!.once('close', resolve));
    process.kill(pid, 'SIGKILL');
    await closed;
    // Orphaned children exit by themselves within 1-2 s; make sure none holds the profile.
    for (const child of children) {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
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

/** Crash the renderer of `page` through CDP; the page object is dead afterwards. */
export async function crashPage(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  const crashed = page.waitForEvent('crash', { timeout: 10_000 });
  // Page.crash never resolves: do not await it.
  cdp.send('Page.crash').catch(() => {});
  await crashed;
}

function procStat(pid: number): { ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

/** The browser process using `userDataDir`: a direct child of this process. */
function browserPid(userDataDir: string): number | undefined {
  return allPids().find((pid) => {
    if (procStat(pid)?.ppid !== process.pid) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--user-data-dir=${userDataDir}`);
    } catch {
      return false;
    }
  });
}

function descendants(root: number): number[] {
  const pids = allPids().map((pid) => ({ pid, ppid: procStat(pid)?.ppid }));
  const out: number[] = [];
  const walk = (parent: number) => {
    for (const { pid, ppid } of pids) if (ppid === parent) out.push(pid), walk(pid);
  };
  walk(root);
  return out;
}
