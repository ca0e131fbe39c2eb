// Finds a Chromium for the browser tests: Playwright's own if installed, else the system one.
import { existsSync } from 'node:fs';

const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The executable to launch, or undefined when there is none. */
export async function findChromium() {
  if (process.env.WALDEN_CHROMIUM) return process.env.WALDEN_CHROMIUM;
  try {
    const { chromium } = await import('@playwright/test');
    const own = chromium.executablePath();
    if (own && existsSync(own)) return own;
  } catch {
    // No Playwright browser installed: fall through to the system one.
  }
  return SYSTEM_CHROMIUM.find((path) => existsSync(path));
}

/** One line telling how to get a browser. */
export const NO_CHROMIUM_HINT =
  'walden: no Chromium found: run `npx playwright install chromium`, or `apt-get install -y chromium`, or set WALDEN_CHROMIUM=/path/to/chrome';

const SYSTEM_FIREFOX = ['/usr/bin/firefox-esr', '/usr/bin/firefox'];

/**
 * The Firefox for the browser tests' Firefox project (driven through Playwright's WebDriver
 * BiDi launcher, `channel: 'moz-firefox'`), or undefined when there is none: then only Chromium runs.
 */
export function findFirefox() {
  if (process.env.WALDEN_FIREFOX) return process.env.WALDEN_FIREFOX;
  return SYSTEM_FIREFOX.find((path) => existsSync(path));
}

/**
 * What the WebKit specs need (tests/webkit): WebKitWebDriver, `xvfb-run`, and Python's WebKit2GTK
 * bindings for the persistent-profile browser. Returns the missing parts (empty: WebKit can run).
 */
export function missingForWebKit() {
  const missing = [];
  if (!existsSync(process.env.WALDEN_WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver')) missing.push('webkit2gtk-driver');
  if (!existsSync('/usr/bin/xvfb-run')) missing.push('xvfb');
  if (!existsSync('/usr/lib/x86_64-linux-gnu/girepository-1.0/WebKit2-4.1.typelib') && !existsSync('/usr/lib/aarch64-linux-gnu/girepository-1.0/WebKit2-4.1.typelib')) missing.push('gir1.2-webkit2-4.1');
  if (!existsSync('/usr/lib/python3/dist-packages/gi')) missing.push('python3-gi');
  return missing;
}
