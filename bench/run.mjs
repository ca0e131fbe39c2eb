// `npm run bench`: every workload on every system, side by side in one browser run, against the
// raw OPFS limit. Prints a table, writes bench/results/<time>.json and docs/performance.md (+ SVG).
import { chromium } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findChromium, NO_CHROMIUM_HINT } from '../scripts/chromium.mjs';
import { renderReport } from './report.mjs';
import { bundleSizes } from '../scripts/sizes.mjs';
import { CHROMIUM_ARGS } from './harness.mjs';
import { loadConfigFromFile, preview } from 'vite';

const PAGE_CONFIG = 'bench/page/vite.config.ts';

const RUNS = Number(process.env.RUNS ?? 3);
const WORKLOADS = (process.env.WORKLOADS ?? 'single,concurrent,bulk,reads,large,cold,reopen,reopen-unclosed').split(',');
/** Workloads that span a page reload. */
const RELOADED = ['cold', 'reopen', 'reopen-unclosed'];
const executablePath = await findChromium();
if (!executablePath) {
  console.error(NO_CHROMIUM_HINT);
  process.exit(1);
}
execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'ignore' });
const sizes = bundleSizes();
execFileSync('npx', ['vite', 'build', '--config', PAGE_CONFIG], { stdio: 'inherit' });
/**
 * Every system runs in an origin of its own (a port each), as it would in an app: its storage
 * holds only its own data. Sharing one origin with the IndexedDB libraries' hundreds of MB made
 * Walden's later opens 20–35 ms slower (W4 42–47 ms alone, 65–82 ms after them;
 * docs/performance.md).
 */
const servers = [];
/** The first system's port, the page config's; the others follow it. */
const firstPort = (await loadConfigFromFile({ command: 'serve', mode: 'production', isPreview: true }, PAGE_CONFIG)).config.preview.port;
const originOf = async (index) => {
  const port = firstPort + index;
  if (!servers[index]) servers[index] = await preview({ configFile: PAGE_CONFIG, preview: { port } });
  return `http://127.0.0.1:${port}`;
};
const profile = mkdtempSync(join(tmpdir(), 'walden-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: CHROMIUM_ARGS,
});
const samples = {}; // workload -> system -> metric -> [values]
const record = (workload, system, result) => {
  for (const [metric, value] of Object.entries(result)) ((((samples[workload] ??= {})[system] ??= {})[metric] ??= []).push(value));
};
try {
  const page = await context.newPage();
  let allSystems = [];
  /** Load the bench page in `system`'s origin (`reload`: even if it is loaded there already). */
  const load = async (system, reload = true) => {
    const origin = await originOf(Math.max(0, allSystems.indexOf(system)));
    if (!reload && page.url().startsWith(`${origin}/`)) return;
    // COMPACT_THRESHOLD_BYTES: Walden's auto-compaction threshold for this run (an experiment knob; default the library's).
    await page.goto(process.env.COMPACT_THRESHOLD_BYTES ? `${origin}/?compactThresholdBytes=${process.env.COMPACT_THRESHOLD_BYTES}` : origin);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  };
  await load(undefined); // the first origin, to read the systems' names
  allSystems = await page.evaluate(() => window.bench.systems);
  // SYSTEMS: a comma-separated subset of the systems, for an experiment (the ratios need the raw row).
  const only = process.env.SYSTEMS?.split(',');
  const systems = allSystems.filter((s) => !only || only.includes(s));
  for (let run = 0; run < RUNS; run++) {
    for (const workload of WORKLOADS.filter((w) => !RELOADED.includes(w))) {
      // Rotate the order so no system always runs first (warm-up, thermal, page cache).
      const order = systems.map((_, i) => systems[(i + run) % systems.length]);
      for (const system of order) {
        await load(system, false);
        const result = await page.evaluate(([s, w, tag]) => window.bench.run(s, w, tag), [system, workload, `${run}-${system.replace(/\W+/g, '')}`]);
        record(workload, system, result);
        process.stdout.write(`run ${run + 1}/${RUNS} ${workload} ${system}: ${JSON.stringify(result)}\n`);
      }
    }
    if (WORKLOADS.includes('cold')) {
      for (const system of systems.filter((s) => s !== 'raw OPFS limit' && s !== 'walden (relaxed)')) {
        const tag = `${run}-${system.replace(/\W+/g, '')}`;
        execFileSync('sync'); // a quiet disk to start on, as for W4 below
        await load(system, false);
        await page.evaluate(([s, t]) => window.bench.prepareCold(s, t), [system, tag]);
        await load(system); // a reload: nothing of the store is left in the page or its workers
        const result = await page.evaluate(([s, t]) => window.bench.coldOpen(s, t), [system, tag]);
        record('cold', system, result);
        process.stdout.write(`run ${run + 1}/${RUNS} cold ${system}: ${JSON.stringify(result)}\n`);
      }
    }
    // W4: 100,000 entries in 100 batches of 1,000, then close() (or not: the tab dies), a page
    // reload, then open + get of a random key until it answers.
    for (const workload of ['reopen', 'reopen-unclosed'].filter((w) => WORKLOADS.includes(w))) {
      for (const system of systems.filter((s) => s !== 'walden (relaxed)')) {
        const tag = `${workload}-${run}-${system.replace(/\W+/g, '')}`;
        // Each W4 starts on a quiet disk: the writeback of the earlier workloads' hundreds of MB
        // (pending in the page cache) otherwise lands in whichever open runs next: a strict
        // IndexedDB transaction took 13 ms instead of 2–3 in Walden's open in one run. The W4's
        // own writes (the 100,000 entries, the close) are not synced.
        execFileSync('sync');
        await load(system, false);
        const closing = await page.evaluate(([s, t, c]) => window.bench.prepareReopen(s, t, c), [system, tag, workload === 'reopen']);
        await load(system);
        const result = { ...(await page.evaluate(([s, t]) => window.bench.reopen(s, t), [system, tag])), ...closing };
        if (result.startedAt !== undefined) Object.assign(result, await openSteps(page, result));
        delete result.startedAt;
        delete result.answeredAt;
        record(workload, system, result);
        process.stdout.write(`run ${run + 1}/${RUNS} ${workload} ${system}: ${JSON.stringify(result)}\n`);
      }
    }
  }
} finally {
  await context.close();
  await Promise.all(servers.map((server) => server?.close()));
  rmSync(profile, { recursive: true, force: true });
}
/**
 * Where a Walden open's time went: the worker's `walden:<step>` marks (src/worker.ts,
 * host/leadership.ts), as ms from the step before, from the page's `openStore` call to its first
 * value: worker (the script loaded and run), open (the call reached it), lock, catalog, epoch,
 * fence, engine (recovery), and first value (the get, and the answer's way back).
 */
async function openSteps(page, { startedAt, answeredAt }) {
  for (const worker of page.workers()) {
    const marks = await worker.evaluate(() => performance.getEntriesByType('mark').filter((m) => m.name.startsWith('walden:')).map((m) => [m.name.slice(7), performance.timeOrigin + m.startTime])).catch(() => []);
    if (!marks.some(([name]) => name === 'engine')) continue;
    const steps = {};
    let previous = startedAt;
    for (const [name, at] of marks) {
      steps[`step ${name}`] = at - previous;
      previous = at;
    }
    steps['step first value'] = answeredAt - previous;
    return steps;
  }
  return {};
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const medians = {};
for (const [workload, bySystem] of Object.entries(samples)) {
  for (const [system, metrics] of Object.entries(bySystem)) {
    for (const [metric, values] of Object.entries(metrics)) ((medians[workload] ??= {})[system] ??= {})[metric] = median(values);
  }
}
const result = { when: new Date().toISOString(), runs: RUNS, browser: 'headless Chromium', machine: '2 vCPU VM', sizes, medians, samples };
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/${result.when.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(result, null, 2));
writeFileSync('bench/results/latest.json', JSON.stringify(result, null, 2));
const { table, markdown, svg } = renderReport(result);
console.log(table);
writeFileSync('docs/performance-chart.svg', svg);
writeFileSync('docs/performance-results.md', markdown);
console.log(`wrote ${file}, docs/performance-results.md and docs/performance-chart.svg`);
