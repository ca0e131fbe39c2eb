// The WebKit specs: WebKitGTK (Debian's webkit2gtk-driver) through WebKitWebDriver under Xvfb,
// on a persistent profile. WebKitGTK refuses OPFS sync access handles, so every store here runs
// on the IndexedDB fallback, chosen by `backend: 'auto'`. Run under `xvfb-run -a` by
// `npm test` (scripts/test.mjs); writes test-results/webkit.json with the counts.
import { deepStrictEqual, ok } from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebKitSession } from './webdriver.mjs';

const HARNESS = 'http://127.0.0.1:47123/tests/harness/index.html';
const tests = [];
const test = (title, fn) => tests.push({ title, fn });

const assert = (condition, message) => ok(condition, message);
const same = (actual, expected, message) => deepStrictEqual(actual, expected, message);

const profiles = [];
function profile() {
  const dir = mkdtempSync(join(tmpdir(), 'walden-webkit-'));
  profiles.push(dir);
  return dir;
}
const unique = (what) => `${what}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Launch on `dir` and load the harness. */
async function launch(dir, options) {
  const session = await WebKitSession.launch(dir, options);
  await session.scriptTimeout(60_000);
  await session.goto(HARNESS);
  return session;
}

test('the API on WebKit: the IndexedDB backend is chosen, values come back exactly, seqs are dense, bad input is a TypeError', async () => {
  const session = await launch(profile());
  try {
    const r = await session.run(async (name) => {
      const info = await window.harness.open(name);
      const store = window.harness.store;
      const value = { at: new Date(7), tags: new Set(['a']), map: new Map([[1, 'one']]), bytes: new Uint8Array([1, 2, 3]), zero: -0, big: 10n ** 20n, nested: [1, , 3] };
      const seqs = [await store.put('k', value), await store.batch([{ type: 'put', key: 'a', value: 1 }, { type: 'put', key: 'b', value: 2 }, { type: 'del', key: 'a' }]), await store.put('c', 'three')];
      const back = await store.get('k');
      const keys = [];
      for await (const [key] of store.scan()) keys.push(key);
      let typeError = '';
      try {
        await store.put(42, 'x');
      } catch (error) {
        typeError = error.name;
      }
      const after = await store.info();
      await store.close();
      let closed = '';
      try {
        await store.get('k');
      } catch (error) {
        closed = error.code;
      }
      return {
        backend: info.backend,
        role: info.role,
        seqs,
        exact: back.at instanceof Date && back.at.getTime() === 7 && back.tags.has('a') && back.map.get(1) === 'one' && back.bytes instanceof Uint8Array && back.bytes.join() === '1,2,3' && Object.is(back.zero, -0) && back.big === 10n ** 20n && !(1 in back.nested),
        keys,
        seq: after.seq,
        typeError,
        closed,
      };
    }, unique('wk-api'));
    same(r, { backend: 'indexeddb', role: 'leader', seqs: [1, 2, 3], exact: true, keys: ['b', 'c', 'k'], seq: 3, typeError: 'TypeError', closed: 'STORE_CLOSED' }, 'the API');
  } finally {
    await session.close();
  }
});

test('with OPFS switched on (StorageAPI, FileSystem, AccessHandle flags), sync handles are still refused: auto opens on IndexedDB, every time, and deleteStore removes the store', async () => {
  const dir = profile();
  const name = unique('wk-opfs-on');
  const features = ['+StorageAPI', '+FileSystem', '+FileSystemWritableStream', '+AccessHandle'];
  for (let round = 0; round < 2; round++) {
    const session = await launch(dir, { features });
    try {
      const r = await session.run(async (name) => {
        const info = await window.harness.open(name);
        await window.harness.store.put(`r${info.seq}`, info.seq);
        await window.harness.store.close();
        return { backend: info.backend, seq: info.seq, opfs: typeof navigator.storage?.getDirectory === 'function' };
      }, name);
      same(r, { backend: 'indexeddb', seq: round, opfs: true }, `round ${round}`);
      if (round === 1) {
        const deleted = await session.run(async (name) => {
          await window.harness.deleteStore(name);
          return (await window.harness.open(name)).seq;
        }, name);
        same(deleted, 0, 'a deleted store opens empty');
      }
    } finally {
      await session.close();
    }
  }
});

test('persistence on WebKit: what was written, compacted or not, is there after the browser quits and starts again', async () => {
  const dir = profile();
  const name = unique('wk-persist');
  let session = await launch(dir);
  try {
    await session.run(async (name) => {
      await window.harness.open(name);
      const store = window.harness.store;
      for (let i = 0; i < 100; i++) await store.put(`k${i}`, { i });
      await store.compact();
      for (let i = 100; i < 150; i++) await store.put(`k${i}`, { i });
      await store.close();
    }, name);
  } finally {
    await session.close();
  }
  session = await launch(dir);
  try {
    const r = await session.run(async (name) => {
      const info = await window.harness.open(name);
      const values = await window.harness.store.getMany(Array.from({ length: 150 }, (_, i) => `k${i}`));
      await window.harness.store.close();
      return { seq: info.seq, keys: info.keys, snapshotSeq: info.snapshotSeq, backend: info.backend, wrong: values.flatMap((v, i) => (v?.i === i ? [] : [i])) };
    }, name);
    same(r, { seq: 150, keys: 150, snapshotSeq: 100, backend: 'indexeddb', wrong: [] }, 'after a relaunch');
  } finally {
    await session.close();
  }
});

test('SIGKILL of the whole browser mid-write, 5 times: every acknowledged write is there after the relaunch, and what is there is a prefix', async () => {
  const dir = profile();
  const name = unique('wk-kill');
  let acked = 0;
  for (let round = 0; round < 5; round++) {
    const session = await launch(dir);
    const start = await session.run(async (name) => {
      const info = await window.harness.open(name);
      window.__acked = info.seq;
      window.__writing = (async () => {
        for (let i = info.seq; ; i++) {
          await window.harness.store.put(`k${i}`, i);
          window.__acked = i + 1;
        }
      })();
      window.__writing.catch(() => {});
      return info.seq;
    }, name);
    assert(start >= acked, `round ${round}: the store holds every acknowledged write (${start} ≥ ${acked})`);
    const target = start + 20 + Math.floor(Math.random() * 40);
    for (let i = 0; i < 400 && acked < target; i++) acked = await session.run(async () => window.__acked);
    session.kill();
  }
  const session = await launch(dir);
  try {
    const r = await session.run(async (name) => {
      const info = await window.harness.open(name);
      const values = await window.harness.store.getMany(Array.from({ length: info.seq }, (_, i) => `k${i}`));
      return { seq: info.seq, keys: info.keys, wrong: values.flatMap((v, i) => (v === i ? [] : [i])) };
    }, name);
    assert(r.seq >= acked, `every acknowledged write survived (${r.seq} ≥ ${acked})`);
    same({ keys: r.keys, wrong: r.wrong }, { keys: r.seq, wrong: [] }, 'a dense prefix of the writes');
  } finally {
    await session.close();
  }
});

test('two tabs on WebKit: one leads, the other writes through it and sees its writes; the leader tab closes and the other takes over, losing nothing', async () => {
  const session = await launch(profile());
  const name = unique('wk-tabs');
  try {
    const first = await session.window();
    const a = await session.run(async (name) => (await window.harness.open(name)).role, name);
    const second = await session.newWindow();
    await session.goto(HARNESS);
    const b = await session.run(async (name) => {
      const info = await window.harness.open(name);
      const store = window.harness.store;
      window.__seen = [];
      window.__watching = (async () => {
        for await (const change of store.watch({ since: 0 })) if (change.type === 'change') window.__seen.push(change.seq);
      })();
      window.__watching.catch(() => {});
      const seqs = [];
      for (let i = 0; i < 20; i++) seqs.push(await store.put(`b${i}`, i));
      return { role: info.role, seqs };
    }, name);
    same({ a, b }, { a: 'leader', b: { role: 'follower', seqs: Array.from({ length: 20 }, (_, i) => i + 1) } }, 'roles and seqs');
    await session.switchTo(first);
    const fromA = await session.run(async () => {
      const store = window.harness.store;
      const seen = await store.getMany(Array.from({ length: 20 }, (_, i) => `b${i}`));
      const seqs = [];
      for (let i = 0; i < 10; i++) seqs.push(await store.put(`a${i}`, i));
      return { seen, seqs };
    });
    same(fromA, { seen: Array.from({ length: 20 }, (_, i) => i), seqs: Array.from({ length: 10 }, (_, i) => 21 + i) }, 'the leader sees the follower\'s writes');
    await session.closeWindow();
    await session.switchTo(second);
    const after = await session.run(async () => {
      const store = window.harness.store;
      const started = performance.now();
      while (store.role !== 'leader' && performance.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
      const seq = await store.put('after', 'takeover');
      const info = await store.info();
      const deadline = performance.now() + 10_000;
      while (window.__seen.length < seq && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const values = await store.getMany([...Array.from({ length: 20 }, (_, i) => `b${i}`), ...Array.from({ length: 10 }, (_, i) => `a${i}`)]);
      return { role: store.role, seq, epoch: info.epoch, seen: window.__seen, values };
    });
    same(after.role, 'leader', 'the remaining tab leads');
    same(after.seq, 31, 'the next seq after the takeover');
    assert(after.epoch >= 2, 'a new leadership epoch');
    same(after.seen, Array.from({ length: 31 }, (_, i) => i + 1), 'the follower\'s watch: every record once, in order, across the takeover');
    same(after.values, [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => i)], 'nothing lost');
  } finally {
    await session.close();
  }
});

// The harness, served as in the Playwright runs (or by one already serving it, as in
// development). Right after Playwright, the Vite it stopped leaves its lock behind ("another Vite
// dev process for this project"): --bypass-lock, and a Vite that exits at once (the port still
// held, strictPort) is started again.
let server;
const LOG = 'test-results/webkit-harness.log';
mkdirSync('test-results', { recursive: true });
const log = openSync(LOG, 'w');
async function serveHarness() {
  let exited = true;
  for (const started = Date.now(); Date.now() - started < 120_000; ) {
    if (await fetch(HARNESS).then((r) => r.ok).catch(() => false)) return;
    if (exited) {
      exited = false;
      server = spawn('npx', ['vite', '--config', 'tests/harness/vite.config.ts', '--bypass-lock'], { stdio: ['ignore', log, log], detached: true });
      server.on('exit', () => (exited = true));
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the harness server did not start:\n${readFileSync(LOG, 'utf8')}`);
}
let passed = 0;
let failed = 0;
try {
  await serveHarness();
  for (const { title, fn } of tests) {
    const started = Date.now();
    try {
      await fn();
      passed++;
      console.log(`  ✓ [webkit] ${title} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    } catch (error) {
      failed++;
      console.log(`  ✘ [webkit] ${title} (${((Date.now() - started) / 1000).toFixed(1)}s)\n    ${String(error?.stack ?? error).split('\n').join('\n    ')}`);
    }
  }
} finally {
  try {
    if (server) process.kill(-server.pid, 'SIGTERM');
  } catch {
    // gone
  }
  // Retried: a WebKit process killed a moment ago may still be finishing a write in its cache.
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
mkdirSync('test-results', { recursive: true });
writeFileSync('test-results/webkit.json', JSON.stringify({ passed, failed }));
console.log(`webkit: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
