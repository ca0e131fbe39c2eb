// `node bench/read-latency.mjs [rounds]`: point reads (W3's shape: awaited gets of random keys of
// 100,000) on Walden strict and the raw OPFS limit, both stores open in one page at once, in
// blocks of 500 gets that alternate between them, so that both meet the same moments of a noisy
// machine. Prints each system's latency distribution and the ratio of their means (what W3's
// gets/s ratio is). The first 4 rounds are the warm-up (JIT), reported apart. Not part of
// `npm run bench`: a tool for comparing changes on the read path.
import { chromium } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findChromium } from '../scripts/chromium.mjs';
import { CHROMIUM_ARGS } from './harness.mjs';

const ROUNDS = Number(process.argv[2] ?? 40);
const WARM_UP_ROUNDS = 4;
const BLOCK = 500;
const SYSTEMS = (process.env.SYSTEMS ?? 'walden (strict),raw OPFS limit').split(',');
const ORIGIN = 'http://127.0.0.1:47127';
if (!process.env.NO_BUILD) {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'ignore' });
  execFileSync('npx', ['vite', 'build', '--config', 'bench/page/vite.config.ts'], { stdio: 'ignore' });
}
const server = spawn('node_modules/.bin/vite', ['preview', '--config', 'bench/page/vite.config.ts'], { stdio: 'ignore' });
for (let i = 0; i < 100 && !(await fetch(ORIGIN).then((r) => r.ok).catch(() => false)); i++) await new Promise((r) => setTimeout(r, 100));
const profileDir = mkdtempSync(join(tmpdir(), 'walden-latency-'));
const context = await chromium.launchPersistentContext(profileDir, { executablePath: await findChromium(), headless: true, args: CHROMIUM_ARGS });
try {
  const page = await context.newPage();
  await page.goto(ORIGIN);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  await page.evaluate(([systems, tag]) => window.bench.readLatency.open(systems, tag), [SYSTEMS, Date.now().toString(36)]);
  const steady = SYSTEMS.map(() => []);
  const warmUp = SYSTEMS.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let which = 0; which < SYSTEMS.length; which++) {
      const latencies = await page.evaluate(([w, n]) => window.bench.readLatency.block(w, n), [which, BLOCK]);
      (round < WARM_UP_ROUNDS ? warmUp : steady)[which].push(...latencies);
    }
  }
  await page.evaluate(() => window.bench.readLatency.close());
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const us = (ms) => Math.round(ms * 1000);
  const rows = SYSTEMS.map((system, i) => {
    const sorted = [...steady[i]].sort((a, b) => a - b);
    const at = (p) => us(sorted[Math.floor(p * (sorted.length - 1))]);
    return { system, gets: sorted.length, meanUs: us(mean(sorted)), p10: at(0.1), p50: at(0.5), p90: at(0.9), p99: at(0.99), warmUpMeanUs: us(mean(warmUp[i])) };
  });
  console.table(rows);
  for (const row of rows.slice(1)) console.log(`${rows[0].system} ÷ ${row.system} (gets/s, from the means): ${(row.meanUs / rows[0].meanUs).toFixed(2)}×`);
} finally {
  await context.close();
  server.kill();
  rmSync(profileDir, { recursive: true, force: true });
}
