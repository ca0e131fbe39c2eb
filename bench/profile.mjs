// `node bench/profile.mjs [workload] [system]`: CPU profiles (CDP Profiler, 50 µs sampling) of
// the page and of every worker while one workload runs on a 100,000-key store, printed as the
// functions with the most self time. Workloads: reads (default), single, getMany, scan, large
// (200 puts of 256 KiB), compact (Walden only).
import { chromium } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findChromium } from '../scripts/chromium.mjs';
import { CHROMIUM_ARGS } from './harness.mjs';

const [workload = 'reads', system = 'walden (strict)'] = process.argv.slice(2);
const COUNT = { reads: 10_000, single: 2_000, scan: 1, compact: 1, getMany: 200, large: 200 }[workload] ?? 1000;
const ORIGIN = 'http://127.0.0.1:47127';
if (!process.env.NO_BUILD) {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'ignore' });
  execFileSync('npx', ['vite', 'build', '--config', 'bench/page/vite.config.ts'], { stdio: 'ignore' });
}
const server = spawn('npx', ['vite', 'preview', '--config', 'bench/page/vite.config.ts'], { stdio: 'ignore' });
for (let i = 0; i < 100 && !(await fetch(ORIGIN).then((r) => r.ok).catch(() => false)); i++) await new Promise((r) => setTimeout(r, 100));
const profileDir = mkdtempSync(join(tmpdir(), 'walden-profile-'));
const context = await chromium.launchPersistentContext(profileDir, { executablePath: await findChromium(), headless: true, args: CHROMIUM_ARGS });
try {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  // Workers are reached through the page's session (non-flattened target sessions).
  const workers = new Map(); // sessionId -> { url, pending: Map<id, resolve> }
  let nextId = 1;
  cdp.on('Target.attachedToTarget', ({ sessionId, targetInfo }) => workers.set(sessionId, { url: targetInfo.url, pending: new Map() }));
  cdp.on('Target.receivedMessageFromTarget', ({ sessionId, message }) => {
    const reply = JSON.parse(message);
    workers.get(sessionId)?.pending.get(reply.id)?.(reply.result);
  });
  const inWorker = (sessionId, method, params = {}) =>
    new Promise((resolve) => {
      const id = nextId++;
      workers.get(sessionId).pending.set(id, resolve);
      void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await page.goto(ORIGIN);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  // The large-values workload starts from an empty store, as in `npm run bench`.
  await page.evaluate(([s, t, k]) => window.bench.profiling.open(s, t, k), [system, Date.now().toString(36), workload === 'large' ? 0 : 100_000]);
  const sessions = [...workers.keys()];
  for (const target of [null, ...sessions]) {
    const send = (method, params) => (target ? inWorker(target, method, params) : cdp.send(method, params));
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: 50 });
    await send('Profiler.start');
  }
  const perCall = await page.evaluate(([w, n]) => window.bench.profiling.run(w, n), [workload, COUNT]);
  console.log(`${system}, ${workload}: ${(perCall * 1000).toFixed(1)} µs per call (under the profiler)`);
  for (const target of [null, ...sessions]) {
    const result = target ? await inWorker(target, 'Profiler.stop') : await cdp.send('Profiler.stop');
    report(target ? `worker ${workers.get(target).url}` : 'page', result.profile);
  }
  await page.evaluate(() => window.bench.profiling.close());
} finally {
  await context.close();
  server.kill();
  rmSync(profileDir, { recursive: true, force: true });
}

/** Print the functions with the most self time, as a share of all samples. */
function report(title, profile) {
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  let total = 0;
  for (const [id, count] of counts) {
    const { callFrame } = byId.get(id);
    const name = `${callFrame.functionName || "(anonymous)"} ${callFrame.url.split("/").pop()}:${callFrame.lineNumber + 1}:${callFrame.columnNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + count);
    total += count;
  }
  console.log(`\n${title}: ${total} samples`);
  for (const [name, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 18)) console.log(`  ${((100 * count) / total).toFixed(1).padStart(5)}%  ${name}`);
}
