// `npm run bench:tabs`: many tabs. A leader tab and a follower tab of one store, in one persistent
// profile: per-call put and get latency in each (the follower's go through the leader), and the
// round trip between two tabs' workers over each transport Walden could use (BroadcastChannel,
// and a MessagePort brokered by a SharedWorker), and the time to a new leader when the leader tab
// closes, crashes, is hidden, freezes or hangs. Writes bench/results/tabs-latest.json.
import { chromium } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findChromium, NO_CHROMIUM_HINT } from '../scripts/chromium.mjs';
import { CHROMIUM_ARGS } from './harness.mjs';

const ORIGIN = 'http://127.0.0.1:47127';
const COUNT = Number(process.env.COUNT ?? 2000);
const RUNS = Number(process.env.RUNS ?? 3);
const executablePath = await findChromium();
if (!executablePath) {
  console.error(NO_CHROMIUM_HINT);
  process.exit(1);
}
if (!process.env.NO_BUILD) execFileSync('npx', ['vite', 'build', '--config', 'bench/page/vite.config.ts'], { stdio: 'inherit' });
const server = spawn('npx', ['vite', 'preview', '--config', 'bench/page/vite.config.ts'], { stdio: 'ignore' });
for (let i = 0; i < 100 && !(await fetch(ORIGIN).then((r) => r.ok).catch(() => false)); i++) await new Promise((r) => setTimeout(r, 100));
const profile = mkdtempSync(join(tmpdir(), 'walden-bench-tabs-'));
const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS });
/** The ways a leader tab goes away, as tests/e2e/tabs.spec.ts makes them happen. */
const FAILOVER_KINDS = ['close', 'Page.crash', 'hidden', 'freeze', 'hang'];
/** How long a frozen page's thread, or a hung worker's, is blocked: longer than any failover. */
const AWAY_MS = 8_000;

async function goAway(page, kind) {
  if (kind === 'close') await page.close({ runBeforeUnload: false });
  else if (kind === 'Page.crash') {
    const cdp = await page.context().newCDPSession(page);
    const crashed = page.waitForEvent('crash', { timeout: 10_000 });
    // Page.crash never answers: do not await it.
    cdp.send('Page.crash').catch(() => {});
    await crashed;
  } else if (kind === 'hidden') {
    // Headless Chromium keeps every page visible: the page's own view of it is overridden.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
  } else if (kind === 'freeze') {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    // A "frozen" page here still runs (docs/multi-tab.md): stop its thread too, as a freeze does.
    void page.evaluate((ms) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    }, AWAY_MS).catch(() => {});
  } else if (kind === 'hang') {
    await page.evaluate((ms) => Object.values(globalThis.__waldenTesting.tabs)[0].hang(ms), AWAY_MS);
  }
}

const pct = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
const range = (values) => [Math.round(Math.min(...values)), Math.round(Math.max(...values))];
const summary = (values) => ({ p50: +pct(values, 0.5).toFixed(3), p99: +pct(values, 0.99).toFixed(3) });
const all = { leader: { put: [], get: [] }, follower: { put: [], get: [] }, bc: [], port: [] };
try {
  const open = async () => {
    const page = await context.newPage();
    // The walden/testing hooks (a hung worker) — what installWaldenTesting does.
    await page.addInitScript(() => (globalThis.__waldenTesting = { workers: {}, acked: {} }));
    await page.goto(ORIGIN);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    return page;
  };
  const a = await open();
  const b = await open();
  for (let run = 0; run < RUNS; run++) {
    const name = `tabs-${run}`;
    const roles = [await a.evaluate((n) => window.bench.tabs.open(n), name), await b.evaluate((n) => window.bench.tabs.open(n), name)];
    if (roles.join() !== 'leader,follower') throw new Error(`unexpected roles ${roles}`);
    // Alternate who goes first; the other tab is idle meanwhile.
    const order = run % 2 === 0 ? [['leader', a], ['follower', b]] : [['follower', b], ['leader', a]];
    for (const [role, page] of order) {
      const { put, get } = await page.evaluate(([c, o]) => window.bench.tabs.latencies(c, o), [COUNT, role === 'leader' ? 0 : 1_000_000]);
      all[role].put.push(...put);
      all[role].get.push(...get);
      console.log(`run ${run + 1}/${RUNS} ${role}: put ${JSON.stringify(summary(put))} get ${JSON.stringify(summary(get))} ms`);
    }
    await b.evaluate(() => window.bench.tabs.close());
    await a.evaluate(() => window.bench.tabs.close());
    for (const kind of ['bc', 'port']) {
      await b.evaluate((k) => window.bench.transport.serve(k), kind);
      const rtts = await a.evaluate(([k, c]) => window.bench.transport.ping(k, c), [kind, COUNT]);
      await a.evaluate(() => window.bench.transport.stop());
      await b.evaluate(() => window.bench.transport.stop());
      all[kind].push(...rtts);
      console.log(`run ${run + 1}/${RUNS} ${kind === 'bc' ? 'BroadcastChannel' : 'SharedWorker-brokered MessagePort'} round trip: ${JSON.stringify(summary(rtts))} ms`);
    }
  }
  // Failover: a leader tab and a follower tab of a fresh store; the leader goes away in each
  // way below; the time until the follower leads, and until its write is acknowledged.
  const failovers = Object.fromEntries(FAILOVER_KINDS.map((kind) => [kind, { newLeader: [], write: [] }]));
  for (let run = 0; run < RUNS; run++) {
    for (const kind of FAILOVER_KINDS) {
      const name = `failover-${kind}-${run}`;
      const [leader, follower] = [await open(), await open()];
      await leader.evaluate((n) => window.bench.tabs.open(n), name);
      await follower.evaluate((n) => window.bench.tabs.open(n), name);
      const started = performance.now();
      await goAway(leader, kind);
      const write = follower.evaluate((k) => window.bench.tabs.timedPut(k), `probe-${kind}`);
      while ((await follower.evaluate(() => window.bench.tabs.role())) !== 'leader') await new Promise((r) => setTimeout(r, 20));
      failovers[kind].newLeader.push(performance.now() - started);
      failovers[kind].write.push(await write);
      console.log(`run ${run + 1}/${RUNS} failover (${kind}): new leader after ${Math.round(failovers[kind].newLeader.at(-1))} ms, a follower's write waited ${Math.round(failovers[kind].write.at(-1))} ms`);
      await follower.evaluate(() => window.bench.tabs.close());
      await follower.close();
      if (!leader.isClosed()) await leader.close({ runBeforeUnload: false }).catch(() => {});
    }
  }
  all.failovers = failovers;
} finally {
  await context.close();
  server.kill();
  rmSync(profile, { recursive: true, force: true });
}
const result = {
  when: new Date().toISOString(),
  runs: RUNS,
  callsPerRun: COUNT,
  leader: { put: summary(all.leader.put), get: summary(all.leader.get) },
  follower: { put: summary(all.follower.put), get: summary(all.follower.get) },
  transport: { broadcastChannel: summary(all.bc), sharedWorkerPort: summary(all.port) },
  failoverMs: Object.fromEntries(Object.entries(all.failovers ?? {}).map(([kind, { newLeader, write }]) => [kind, { newLeader: range(newLeader), followerWrite: range(write) }])),
};
result.ratios = {
  followerPutOverLeader: +(result.follower.put.p50 / result.leader.put.p50).toFixed(2),
  followerGetOverLeader: +(result.follower.get.p50 / result.leader.get.p50).toFixed(2),
  portOverBroadcastChannel: +(result.transport.sharedWorkerPort.p50 / result.transport.broadcastChannel.p50).toFixed(2),
};
writeFileSync('bench/results/tabs-latest.json', JSON.stringify(result, null, 2));
console.log(JSON.stringify(result, null, 2));
