/**
 * `walden/testing`: a Playwright kit for crash-testing apps built on Walden. Ways to die (the
 * store's worker, the page's renderer, the whole browser), ways to look (a store's contents,
 * files and catalog rows, read without the app's help), and `expectDurable`, which checks that
 * every write the app saw acknowledged survived.
 */
import type { BrowserContext, Page } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The points of a compaction where {@link installWaldenTesting} can make the worker crash. */
export type { CompactionPoint as CompactionCrashPoint } from '../protocol.js';
import type { CompactionPoint as CompactionCrashPoint } from '../protocol.js';

/** The writes a page saw acknowledged: the last of each key, and the highest seq. */
export interface AcknowledgedWrites {
  seq: number;
  writes: Record<string, [seq: number, type: 'put' | 'del']>;
}

import type { StoreState } from './types.js';

export type { StoreState };

/** Options of {@link installWaldenTesting}. */
export interface TestingOptions {
  /** Crash the store's worker at this point of its next compaction. */
  crashAtCompactionPoint?: CompactionCrashPoint;
}

/**
 * Turn on Walden's test hooks in every page of `target` opened from now on (call it before
 * `page.goto`): stores register their workers and log acknowledged writes. Never on otherwise.
 */
export async function installWaldenTesting(target: Page | BrowserContext, options: TestingOptions = {}): Promise<void> {
  await target.addInitScript((options: TestingOptions) => {
    (globalThis as Record<string, unknown>).__waldenTesting = { workers: {}, acked: {}, ...options };
  }, options);
}

/** The writes `page` saw acknowledged for `store` (or its only store). */
export async function acknowledged(page: Page, store?: string): Promise<AcknowledgedWrites> {
  return page.evaluate((store) => {
    const testing = (globalThis as { __waldenTesting?: { acked: Record<string, unknown> } }).__waldenTesting;
    if (!testing) throw new Error('walden/testing is not installed in this page: call installWaldenTesting before page.goto');
    const name = store ?? Object.keys(testing.acked)[0];
    return (name && testing.acked[name]) || { seq: 0, writes: {} };
  }, store) as Promise<AcknowledgedWrites>;
}

/**
 * Terminate the store's worker at once, mid-write if writes are going on.
 *
 * @returns The writes acknowledged up to that instant.
 */
export async function crashWorker(page: Page, store?: string): Promise<AcknowledgedWrites> {
  return page.evaluate((store) => {
    const testing = (globalThis as { __waldenTesting?: { workers: Record<string, Worker>; acked: Record<string, unknown> } }).__waldenTesting;
    if (!testing) throw new Error('walden/testing is not installed in this page: call installWaldenTesting before page.goto');
    const name = store ?? Object.keys(testing.workers)[0];
    if (!name || !testing.workers[name]) throw new Error(`no open Walden store ${store ?? ''} in this page`);
    testing.workers[name].terminate();
    return testing.acked[name] ?? { seq: 0, writes: {} };
  }, store) as Promise<AcknowledgedWrites>;
}

/** Terminate the store's worker right after the next `commits` records are acknowledged. */
export async function crashAfterCommits(page: Page, commits: number, store?: string): Promise<void> {
  await page.evaluate(([commits, store]) => {
    const testing = (globalThis as { __waldenTesting?: Record<string, unknown> }).__waldenTesting;
    if (!testing) throw new Error('walden/testing is not installed in this page');
    testing.crashAfterCommits = { commits, store: store ?? undefined };
  }, [commits, store ?? null] as const);
}

/** The role of the page's store (or its only store): `'leader'` or `'follower'`. */
export async function roleOf(page: Page, store?: string): Promise<'leader' | 'follower'> {
  return page.evaluate((store) => {
    const tabs = (globalThis as { __waldenTesting?: { tabs?: Record<string, { role(): 'leader' | 'follower' }> } }).__waldenTesting?.tabs;
    if (!tabs) throw new Error('walden/testing is not installed in this page, or no store is open: call installWaldenTesting before page.goto');
    const name = store ?? Object.keys(tabs)[0];
    if (!name || !tabs[name]) throw new Error(`no open Walden store ${store ?? ''} in this page`);
    return tabs[name].role();
  }, store);
}

/**
 * The page whose store leads, among `pages` (waiting up to `timeoutMs`, default 15 s, for one
 * to, as after a failover). All pages are asked at once; one that does not answer within 2 s
 * (closed, crashed, its thread blocked) counts as not leading this round.
 */
export async function leaderOf(pages: Page[], options: { store?: string; timeoutMs?: number } = {}): Promise<Page> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let roles: (string | undefined)[] = [];
  for (;;) {
    roles = await Promise.all(
      pages.map((page) => Promise.race([roleOf(page, options.store), new Promise<undefined>((r) => setTimeout(r, 2_000))]).catch((error: Error) => `error: ${error.message.split('\n')[0]}`)),
    );
    const leader = roles.indexOf('leader');
    if (leader >= 0) return pages[leader]!;
    if (Date.now() > deadline) throw new Error(`no page leads after ${timeoutMs} ms; their roles: ${roles.map((r) => r ?? 'no answer').join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Block the thread of the page's store worker for `ms` (returns at once), like a hung or
 * frozen tab whose worker stops running while it holds the files: the other tabs' workers take
 * over after about 3 s, and the hung one steps down when it runs again. With `at`, the thread
 * blocks inside the next commit instead: `'before-write'` (its records then land after the
 * takeover) or `'after-write'` (written and flushed, not yet acknowledged).
 */
export async function hangWorker(page: Page, ms: number, store?: string, at: 'now' | 'before-write' | 'after-write' = 'now'): Promise<void> {
  await page.evaluate(
    ([ms, store, at]) => {
      const tabs = (globalThis as { __waldenTesting?: { tabs?: Record<string, { hang(ms: number, at: string): void }> } }).__waldenTesting?.tabs;
      const name = store ?? Object.keys(tabs ?? {})[0];
      if (!tabs || !name || !tabs[name]) throw new Error(`no open Walden store ${store ?? ''} in this page (is walden/testing installed?)`);
      tabs[name].hang(ms, at);
    },
    [ms, store ?? null, at] as const,
  );
}

/**
 * Crash the page's renderer (CDP `Page.crash`); the page is dead afterwards.
 *
 * @returns The writes acknowledged just before (a few more may have been acknowledged after);
 *   empty when the hooks are not installed.
 */
export async function crashPage(page: Page, store?: string): Promise<AcknowledgedWrites> {
  // Without the hooks installed there is nothing to report, but the crash still happens.
  const installed = await page.evaluate(() => '__waldenTesting' in globalThis);
  const acked = installed ? await acknowledged(page, store) : { seq: 0, writes: {} };
  const cdp = await page.context().newCDPSession(page);
  const crashed = page.waitForEvent('crash', { timeout: 10_000 });
  // Page.crash never answers: do not await it.
  cdp.send('Page.crash').catch(() => {});
  await crashed;
  return acked;
}

function procStat(pid: number): { ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) };
  } catch {
    return undefined;
  }
}

/** Every process below `root`, snapshotted now (after a kill they are reparented). */
function descendants(root: number): number[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => ({ pid: Number(name), ppid: procStat(Number(name))?.ppid }));
  const out: number[] = [];
  const walk = (parent: number) => {
    for (const { pid, ppid } of all) if (ppid === parent) out.push(pid), walk(pid);
  };
  walk(root);
  return out;
}

function childBrowserPids(): number[] {
  if (!existsSync('/proc')) throw new Error('killBrowser needs /proc (Linux)');
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => procStat(pid)?.ppid === process.pid)
    .filter((pid) => {
      try {
        // Chromium names its profile with --user-data-dir=, Firefox with -profile <dir>.
        return /--user-data-dir=|(^|\0)-{1,2}profile\0/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      } catch {
        return false;
      }
    });
}

/** Whether browser process `pid` runs on the profile `dir` (Chromium's --user-data-dir, Firefox's -profile). */
function usesProfile(pid: number, dir: string): boolean {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  return args.some((arg, i) => arg === `--user-data-dir=${dir}` || (/^-{1,2}profile$/.test(arg) && args[i + 1] === dir));
}

/** Options of {@link killBrowser}. */
export interface KillBrowserOptions {
  /** Read this page's acknowledged writes first, and return them. */
  page?: Page;
  store?: string;
  /** The profile directory the context was launched with (needed when this process runs several browsers). */
  userDataDir?: string;
}

/**
 * SIGKILL the browser process of a persistent context (`launchPersistentContext`), as a power
 * cut of the app would. Relaunch with the same profile directory to see what survived.
 *
 * @returns The page's acknowledged writes, when `page` is given.
 */
export async function killBrowser(context: BrowserContext, options: KillBrowserOptions = {}): Promise<AcknowledgedWrites | undefined> {
  const acked = options.page ? await acknowledged(options.page, options.store) : undefined;
  const browsers = childBrowserPids().filter((pid) => !options.userDataDir || usesProfile(pid, options.userDataDir));
  if (browsers.length !== 1) throw new Error(`killBrowser: found ${browsers.length} browser processes; pass userDataDir to pick one`);
  const children = descendants(browsers[0]!);
  const closed = new Promise((resolve) => context.once('close', resolve));
  process.kill(browsers[0]!, 'SIGKILL');
  await closed;
  // Its children exit by themselves within a second or two; make sure none holds the profile.
  for (const child of children) {
    try {
      process.kill(child, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return acked;
}

let bundle: string | undefined;

/** The in-page inspector script (read once per process). */
function inspectBundle(): string {
  bundle ??= readInspectBundle();
  return bundle;
}

function readInspectBundle(): string {
  const candidates = [new URL(/* @vite-ignore */ './inspect.iife.js', import.meta.url), new URL(/* @vite-ignore */ '../../dist/testing/inspect.iife.js', import.meta.url)];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return readFileSync(path, 'utf8');
  }
  throw new Error('walden/testing: inspect.iife.js not found (run `npm run build` in a source checkout)');
}

/**
 * Read the store `name` of `origin` without the app's help: a blank page of the origin opens it
 * (waiting for a crashed holder to let go), reads every key, value and seq, its files and rows.
 * The app must not have it open in another page.
 */
export async function storeState(context: BrowserContext, origin: string, name: string): Promise<StoreState> {
  const page = await context.newPage();
  const url = `${origin.replace(/\/$/, '')}/__walden_testing_inspect__`;
  try {
    // Serve a blank page at the origin. The app's service worker would answer with the app itself
    // (which opens the store), so on Chromium bypass it and intercept on a CDP session of our own;
    // elsewhere (no CDP) route the request with Playwright, which a service worker may pre-empt.
    const html = '<!doctype html><title>walden inspect</title>';
    const cdp = await context.newCDPSession(page).catch(() => undefined);
    if (cdp) {
      await cdp.send('Network.enable');
      await cdp.send('Network.setBypassServiceWorker', { bypass: true });
      await cdp.send('Fetch.enable', { patterns: [{ urlPattern: url, requestStage: 'Request' }] });
      cdp.on('Fetch.requestPaused', (event: { requestId: string }) => {
        const body = Buffer.from(html).toString('base64');
        cdp.send('Fetch.fulfillRequest', { requestId: event.requestId, responseCode: 200, responseHeaders: [{ name: 'content-type', value: 'text/html' }], body }).catch(() => {});
      });
    } else await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
    await page.goto(url);
    if ((await page.title()) !== 'walden inspect') throw new Error('walden/testing: could not open a blank page of the origin (a service worker answered instead)');
    await page.addScriptTag({ content: inspectBundle() });
    return (await page.evaluate((name) => (globalThis as unknown as { __waldenInspect: (n: string) => Promise<StoreState> }).__waldenInspect(name), name)) as StoreState;
  } finally {
    await page.close();
  }
}

/**
 * Throw unless every acknowledged write is in `state`: each acknowledged put's key is there with
 * a seq at least the acknowledged one; each acknowledged delete's key is gone or rewritten later;
 * the store's seq is at least the highest acknowledged seq.
 */
export function expectDurable(acked: AcknowledgedWrites, state: StoreState): void {
  const bySeq = new Map(state.entries.map((e) => [e.key, e.seq]));
  const lost: string[] = [];
  for (const [key, [seq, type]] of Object.entries(acked.writes)) {
    const present = bySeq.get(key);
    if (type === 'put' && (present === undefined || present < seq)) lost.push(`put ${JSON.stringify(key)} at seq ${seq} (${present === undefined ? 'missing' : `found seq ${present}`})`);
    if (type === 'del' && present !== undefined && present < seq) lost.push(`delete ${JSON.stringify(key)} at seq ${seq} (the older value of seq ${present} is back)`);
  }
  if (state.seq < acked.seq) lost.push(`the store is at seq ${state.seq}, but seq ${acked.seq} was acknowledged`);
  if (lost.length > 0) throw new Error(`walden: ${lost.length} acknowledged write(s) lost:\n  ${lost.slice(0, 20).join('\n  ')}`);
}
