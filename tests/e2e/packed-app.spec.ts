/**
 * The way users get Walden: `npm pack`, install the tarball into a Vite app, build it, and run it
 * with the default worker (`openStore(name)` with no options) against dist/ through the exports map.
 */
import { expect, test } from '@playwright/test';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Profile } from './support/browser.js';

const ROOT = resolve(import.meta.dirname, '../..');
const WORK = join(ROOT, 'tests/.app-work');
const APP_URL = 'http://127.0.0.1:47124/';

let preview: ChildProcess | undefined;
let tarballPath = '';

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(300_000);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const sh = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
  // `npm test` builds before the browser tests; building again here would empty dist/ under the
  // specs running in parallel that use it (the testing kit reads dist/testing/).
  if (!existsSync(join(ROOT, 'dist/index.js')) || !existsSync(join(ROOT, 'dist/testing/inspect.iife.js'))) sh('npm', ['run', 'build'], ROOT);
  sh('npm', ['pack', '--silent', '--pack-destination', WORK], ROOT);
  const tarball = readdirSync(WORK).find((f) => f.endsWith('.tgz'))!;
  tarballPath = join(WORK, tarball);
  const app = join(WORK, 'app');
  cpSync(join(ROOT, 'tests/app'), app, { recursive: true });
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(WORK, tarball)], app);
  // Vite itself resolves from the repository's node_modules (a parent directory).
  sh(join(ROOT, 'node_modules/.bin/vite'), ['build'], app);
  preview = spawn(join(ROOT, 'node_modules/.bin/vite'), ['preview'], { cwd: app, stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(APP_URL)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('vite preview did not start');
});

test.afterAll(() => {
  preview?.kill();
});

test('a Vite app built from the packed package works with the default worker and persists', async () => {
  const profile = new Profile();
  try {
    const context = await profile.launch();
    const visit = async () => {
      const page = await context.newPage();
      await page.goto(APP_URL);
      await page.waitForFunction(() => document.getElementById('result')?.textContent !== 'loading');
      const text = (await page.textContent('#result'))!;
      await page.close();
      return text;
    };
    const first = JSON.parse(await visit());
    expect(first).toEqual({ visits: 1, seq: 1, keys: 1, follower: { role: 'follower', sees: 1 }, reservedKey: 'TypeError' });
    const second = JSON.parse(await visit());
    expect(second).toEqual({ visits: 2, seq: 2, keys: 1, follower: { role: 'follower', sees: 2 }, reservedKey: 'TypeError' });
  } finally {
    await profile.close();
    profile.remove();
  }
});

test('walden/node from the packed package: a store on disk, as the README shows it', async () => {
  const app = join(WORK, 'app');
  const script = [
    "import { openStore } from 'walden/node';",
    "const store = await openStore('app', { dir: './data' });",
    "await store.put('todo:1', { title: 'milk', at: new Date(5) });",
    'await store.close();',
    "const again = await openStore('app', { dir: './data' });",
    "const value = await again.get('todo:1');",
    'console.log(JSON.stringify({ title: value.title, at: value.at instanceof Date, seq: (await again.info()).seq }));',
    'await again.close();',
  ].join('\n');
  rmSync(join(app, 'data'), { recursive: true, force: true });
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app }).toString().trim();
  expect(JSON.parse(output)).toEqual({ title: 'milk', at: true, seq: 1 });
});

test('walden/storage from the packed package: its entry and its types resolve through the exports map', async () => {
  const app = join(WORK, 'app');
  const script = [
    "import { openStore } from 'walden/node';",
    "import { createStorage } from 'walden/storage';",
    "const store = await openStore('storage', { dir: './data' });",
    "const storage = createStorage(store, { prefix: 'app:' });",
    "await storage.setItem('state', { n: 1, at: new Date(7) });",
    "const got = await storage.getItem('state');",
    "console.log(JSON.stringify({ n: got.n, at: got.at instanceof Date, keys: await storage.keys(), missing: await storage.getItem('none') }));",
    'await store.close();',
  ].join('\n');
  rmSync(join(app, 'data'), { recursive: true, force: true });
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app }).toString().trim();
  expect(JSON.parse(output)).toEqual({ n: 1, at: true, keys: ['state'], missing: null });
  expect(existsSync(join(app, 'node_modules/walden/dist/adapters/storage.d.ts'))).toBe(true);
});

test('walden/react from the packed package: its entry and types resolve, React stays the app\'s own copy', async () => {
  const app = join(WORK, 'app');
  const script = [
    "import { createElement } from 'react';",
    "import { renderToString } from 'react-dom/server';",
    "import { useScan, useValue } from 'walden/react';",
    "const View = () => { const todos = useScan(undefined, { prefix: 'todo:' }); const title = useValue(undefined, 'title'); return createElement('p', null, todos === undefined && title === undefined ? 'opening' : 'open'); };",
    'console.log(renderToString(createElement(View)));',
  ].join('\n');
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app }).toString().trim();
  expect(output).toBe('<p>opening</p>');
  expect(existsSync(join(app, 'node_modules/walden/dist/adapters/react.d.ts'))).toBe(true);
  // React is a peer dependency: the entry imports it, it does not carry a copy.
  expect(readFileSync(join(app, 'node_modules/walden/dist/react.js'), 'utf8')).toMatch(/from "react"/);
});

test('walden/level and walden/yjs from the packed package, over walden/node: a Level database and a Y.Doc persist across a reopen', async () => {
  const app = join(WORK, 'app');
  const script = [
    "import { openStore } from 'walden/node';",
    "import { WaldenLevel } from 'walden/level';",
    "import { WaldenPersistence } from 'walden/yjs';",
    "import * as Y from 'yjs';",
    "let store = await openStore('adapters', { dir: './data' });",
    "const db = new WaldenLevel('notes', { store, valueEncoding: 'json' });",
    "await db.put('b', { n: 2 }); await db.put('a', { n: 1 });",
    "const doc = new Y.Doc(); const yjs = new WaldenPersistence('doc', doc, { store }); await yjs.whenSynced;",
    "doc.getText('t').insert(0, 'hello'); await yjs.whenStored(); await yjs.destroy(); await db.close(); await store.close();",
    "store = await openStore('adapters', { dir: './data' });",
    "const again = new WaldenLevel('notes', { store, valueEncoding: 'json' });",
    "const entries = await again.iterator().all();",
    "const doc2 = new Y.Doc(); const yjs2 = new WaldenPersistence('doc', doc2, { store }); await yjs2.whenSynced;",
    "console.log(JSON.stringify({ entries, text: doc2.getText('t').toString() }));",
    'await yjs2.destroy(); await again.close(); await store.close();',
  ].join('\n');
  rmSync(join(app, 'data'), { recursive: true, force: true });
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app }).toString().trim();
  expect(JSON.parse(output)).toEqual({ entries: [['a', { n: 1 }], ['b', { n: 2 }]], text: 'hello' });
  for (const types of ['level', 'yjs']) expect(existsSync(join(app, `node_modules/walden/dist/adapters/${types}.d.ts`))).toBe(true);
});

test('docs/examples/02-crash-test-kit passes as an outside user runs it, against the packed package', async () => {
  test.setTimeout(240_000);
  const example = join(WORK, 'kit-example');
  cpSync(join(ROOT, 'docs/examples/02-crash-test-kit'), example, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` };
  // The outer Playwright run's variables would confuse the inner one.
  for (const key of Object.keys(env)) if (/^(PW_|PLAYWRIGHT_|TEST_)/.test(key)) delete env[key];
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: example, env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarballPath]);
  run(join(ROOT, 'node_modules/.bin/vite'), ['build']);
  let output = '';
  try {
    output = run(join(ROOT, 'node_modules/.bin/playwright'), ['test', '--reporter=line']);
  } catch (error) {
    output = `${(error as { stdout?: Buffer }).stdout?.toString()}\n${(error as { stderr?: Buffer }).stderr?.toString()}`;
    throw new Error(`the example's test failed:\n${output}`);
  }
  expect(output).toMatch(/1 passed/);
});
