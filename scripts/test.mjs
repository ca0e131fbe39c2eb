// `npm test`: unit tests (Vitest, Node) then browser tests (Playwright: real Chromium and Firefox; then WebKitGTK through WebKitWebDriver), and one
// summary line `walden: N passed, N failed`. Exits non-zero if anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { findChromium, findFirefox, missingForWebKit, NO_CHROMIUM_HINT } from './chromium.mjs';
import { bundleSizes } from './sizes.mjs';

const RESULTS = 'test-results';
rmSync(RESULTS, { recursive: true, force: true });
mkdirSync(RESULTS, { recursive: true });

const chromium = await findChromium();
if (!chromium) {
  console.error(NO_CHROMIUM_HINT);
  console.log('walden: 0 passed, 1 failed');
  process.exit(1);
}

function run(command, args, env = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

let passed = 0;
let failed = 0;

// The types are part of the contract (the page, worker and test code compile separately).
if (run('npm', ['run', '--silent', 'typecheck']) === 0) passed += 1;
else {
  console.error('walden: typecheck failed');
  failed += 1;
}

const unitStatus = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${RESULTS}/unit.json`]);
const unit = readJson(`${RESULTS}/unit.json`);
if (unit) {
  passed += unit.numPassedTests;
  failed += unit.numFailedTests + (unit.numTotalTestSuites > 0 && unitStatus !== 0 && unit.numFailedTests === 0 ? 1 : 0);
} else failed += 1;

// The browser tests use dist/ (the packed-package tests, and the testing kit's in-page bundle).
if (run('npm', ['run', '--silent', 'build']) !== 0) {
  console.error('walden: build failed');
  failed += 1;
}
// Bundle budgets (brotli): each entry with the chunks it imports statically (what loads before
// it runs); chunks loaded on demand (export, import, the catalog) do not count.
const BUDGETS = [
  { name: 'page entry (dist/index.js and its static chunks)', part: 'page', limit: 15_000 },
  { name: 'worker (dist/worker.js and its static chunks)', part: 'worker', limit: 40_000 },
];
try {
  const sizes = bundleSizes();
  for (const budget of BUDGETS) {
    const { brotli, files } = sizes[budget.part];
    const within = brotli <= budget.limit;
    console.log(`walden: size ${budget.name}: ${brotli} B of ${budget.limit} B, ${within ? 'within' : 'OVER'} its budget (${files.join(', ')})`);
    if (within) passed += 1;
    else failed += 1;
  }
} catch (error) {
  console.error(`walden: bundle sizes failed: ${error}`);
  failed += 1;
}

// Every browser test on Chromium and, where a Firefox is installed, on Firefox (Playwright projects).
const firefox = findFirefox();
console.log(`walden: browser tests with ${chromium}${firefox ? ` and ${firefox}` : ' (no Firefox found: Chromium only)'}`);
const e2eStatus = run('npx', ['playwright', 'test'], { WALDEN_CHROMIUM: chromium, ...(firefox ? { WALDEN_FIREFOX: firefox } : {}) });
const e2e = readJson(`${RESULTS}/e2e.json`);
if (e2e) {
  passed += e2e.stats.expected + e2e.stats.flaky;
  failed += e2e.stats.unexpected + (e2eStatus !== 0 && e2e.stats.unexpected === 0 ? 1 : 0);
} else failed += 1;

if (!existsSync(`${RESULTS}/e2e.json`)) console.error('walden: the browser tests wrote no report');

// WebKit (WebKitGTK through WebKitWebDriver, under Xvfb): after Playwright, which frees the
// harness's port. Its stores run on the IndexedDB fallback (no sync access handles there).
const missing = missingForWebKit();
if (missing.length > 0) console.log(`walden: WebKit tests skipped: install ${missing.join(', ')} (Debian packages; .ci/run does)`);
else {
  const webkitStatus = run('xvfb-run', ['-a', 'node', 'tests/webkit/run.mjs']);
  const webkit = readJson(`${RESULTS}/webkit.json`);
  if (webkit) {
    passed += webkit.passed;
    failed += webkit.failed + (webkitStatus !== 0 && webkit.failed === 0 ? 1 : 0);
  } else failed += 1;
}
console.log(`walden: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
