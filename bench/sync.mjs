// `npm run bench:sync`: sync over NATS JetStream between two devices (two persistent Chromium
// profiles) through a local nats-server: push and pull throughput (records/s) of a burst of puts
// with 100-byte values, and end-to-end latency (a put on device A until its change event on
// device B, p50/p99), next to the plain NATS client doing the same from a worker (the limit).
// Writes bench/results/sync-latest.json.
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as netServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'vite';
import { findChromium, NO_CHROMIUM_HINT } from '../scripts/chromium.mjs';
import { CHROMIUM_ARGS } from './harness.mjs';

const COUNT = Number(process.env.COUNT ?? 3000);
const IN_FLIGHT = 64;
const SINGLES = 200;
const NATS_SERVER = process.env.NATS_SERVER ?? '/usr/sbin/nats-server';
const executablePath = await findChromium();
if (!executablePath) {
  console.error(NO_CHROMIUM_HINT);
  process.exit(1);
}

const freePort = () => new Promise((resolve) => {
  const s = netServer();
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

// One server: JetStream, WebSocket on loopback, one account.
const root = mkdtempSync(join(tmpdir(), 'walden-bench-nats-'));
const [port, wsPort] = [await freePort(), await freePort()];
mkdirSync(join(root, 'js'));
writeFileSync(join(root, 'server.conf'), `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${join(root, 'js')}" }\nwebsocket { listen: "127.0.0.1:${wsPort}", no_tls: true }\naccounts { A: { jetstream: enabled, users: [ { user: "bench", password: "bench" } ] } }\n`);
const nats = spawn(NATS_SERVER, ['-c', join(root, 'server.conf')], { stdio: 'ignore' });
const servers = [`ws://127.0.0.1:${wsPort}`];
for (let i = 0; i < 100; i++) {
  const up = await new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => (socket.destroy(), resolve(true))).once('error', () => resolve(false)).connect(wsPort, '127.0.0.1');
  });
  if (up) break;
  await new Promise((r) => setTimeout(r, 50));
}

const vite = await createServer({ configFile: 'tests/harness/vite.config.ts' });
await vite.listen();
const profiles = [mkdtempSync(join(tmpdir(), 'walden-bench-a-')), mkdtempSync(join(tmpdir(), 'walden-bench-b-'))];
const contexts = await Promise.all(profiles.map((dir) => chromium.launchPersistentContext(dir, { executablePath, headless: true, args: CHROMIUM_ARGS })));
const pages = await Promise.all(contexts.map(async (context) => {
  const page = await context.newPage();
  await page.goto('http://127.0.0.1:47123/tests/harness/index.html');
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  return page;
}));
const [a, b] = pages;
const name = `bench-sync-${Date.now().toString(36)}`;
const options = { servers, stream: 'bench', user: 'bench', pass: 'bench' };
const pct = (values, p) => [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))];

try {
  for (const page of pages) {
    await page.evaluate((name) => window.harness.open(name), name);
    await page.evaluate(async (o) => {
      const s = await window.harness.sync();
      await s.start(o);
      s.bench.listen();
    }, options);
  }
  // Throughput: A's burst, acknowledged by the stream (push); B has every record (pull).
  const burst = await a.evaluate(async ([count, inFlight]) => (await window.harness.sync()).bench.burst('t/', count, inFlight), [COUNT, IN_FLIGHT]);
  const lastOnB = await b.evaluate(async (count) => (await window.harness.sync()).bench.arrived('t/', count), COUNT);
  const pushPerSecond = COUNT / ((burst.flushed - burst.started) / 1000);
  const pullPerSecond = COUNT / ((lastOnB - burst.started) / 1000);
  // Latency: single puts on A, each until its change event on B.
  const putTimes = await a.evaluate(async (n) => (await window.harness.sync()).bench.singles('l/', n, 10), SINGLES);
  await b.evaluate(async (n) => (await window.harness.sync()).bench.arrived('l/', n), SINGLES);
  const got = await b.evaluate(async () => (await window.harness.sync()).bench.receivedTimes('l/'));
  const latencies = Object.entries(putTimes).map(([key, t]) => got[key] - t);
  // The limit: the plain client publishing and reading the same count of messages of the size sync sends.
  const limit = await a.evaluate(async ([o, count, inFlight]) => (await window.harness.sync()).bench.limit(o.servers, o.user, o.pass, count, 160, inFlight), [options, COUNT, IN_FLIGHT]);
  const result = {
    at: new Date().toISOString(),
    count: COUNT,
    valueBytes: 100,
    walden: { pushPerSecond, pullPerSecond, latencyP50Ms: pct(latencies, 0.5), latencyP99Ms: pct(latencies, 0.99) },
    plainNats: { publishPerSecond: limit.publishPerSecond, consumePerSecond: limit.consumePerSecond, roundTripP50Ms: pct(limit.latencies, 0.5), roundTripP99Ms: pct(limit.latencies, 0.99) },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/sync-latest.json', JSON.stringify(result, null, 2));
  const f = (n) => Math.round(n).toLocaleString('en');
  console.log(`sync push: ${f(pushPerSecond)} records/s (plain NATS publish: ${f(limit.publishPerSecond)} msg/s, ${(pushPerSecond / limit.publishPerSecond).toFixed(2)}x)`);
  console.log(`sync pull: ${f(pullPerSecond)} records/s end to end (plain NATS consume: ${f(limit.consumePerSecond)} msg/s, ${(pullPerSecond / limit.consumePerSecond).toFixed(2)}x)`);
  console.log(`sync latency put on A -> event on B: p50 ${result.walden.latencyP50Ms.toFixed(1)} ms, p99 ${result.walden.latencyP99Ms.toFixed(1)} ms (plain NATS publish -> delivery in one worker: p50 ${result.plainNats.roundTripP50Ms.toFixed(1)} ms, p99 ${result.plainNats.roundTripP99Ms.toFixed(1)} ms)`);
} finally {
  await Promise.all(contexts.map((c) => c.close()));
  await vite.close();
  nats.kill('SIGKILL');
  for (const dir of [root, ...profiles]) rmSync(dir, { recursive: true, force: true });
}
