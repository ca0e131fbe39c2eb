/** Export and import in real Chromium: round trips, tampered artifacts refused, HTTP transport. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { encodeTarHeader, tarPadding, TAR_END } from '../../src/format/artifact.js';
import { expect, storeName, test } from './support/fixtures.js';

/** Fill a store with varied data and two checkpoint streams; returns nothing, the page keeps it open. */
async function fill(page: Page, name: string) {
  await page.evaluate(async (name) => {
    await window.harness.open(name, { compactThresholdBytes: 64 * 1024 });
    const store = window.harness.store!;
    for (let i = 0; i < 2000; i++) await store.put(`k${String(i).padStart(4, '0')}`, { i, at: new Date(i), tags: new Set([i % 3]), blob: new Uint8Array([i % 256]) });
    await store.batch([{ type: 'del', key: 'k0000' }, { type: 'put', key: 'big', value: 'b'.repeat(300_000) }]);
    await store.checkpoints.save('index', { sequence: 1500, operatorStates: { s: new Uint8Array([1, 2, 3]) }, metadata: { v: '1' } });
    await store.checkpoints.save('index', { sequence: 2001 });
    await store.checkpoints.save('outbox', { sequence: 7, sourceOffsets: { remote: 42 } });
  }, name);
}

/** The artifact of the open store, as bytes on the Node side. */
async function exportBytes(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(async () => {
    const blob = await window.harness.store!.export();
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  });
  return Buffer.from(base64, 'base64');
}

/** Import `bytes` in the page; the error code, or the imported info. */
async function importBytes(page: Page, name: string, bytes: Buffer, replace = false) {
  return page.evaluate(
    async ({ name, base64, replace }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      try {
        return { info: await window.harness.importStore(name, new Blob([bytes]), { replace, worker: window.harness.newWorker() }) };
      } catch (error) {
        return { code: (error as { code?: string }).code ?? (error as Error).name, message: (error as Error).message };
      }
    },
    { name, base64: bytes.toString('base64'), replace },
  );
}

/** Every key and value of a store, as comparable JSON. */
async function contents(page: Page, name: string) {
  return page.evaluate(async (name) => {
    await window.harness.open(name);
    const store = window.harness.store!;
    const out: [string, string][] = [];
    for await (const [key, value] of store.scan()) out.push([key, JSON.stringify(value, (_k, v) => (v instanceof Set ? ['set', ...v] : v instanceof Uint8Array ? ['u8', ...v] : v))]);
    const checkpoints = [];
    for (const stream of await store.checkpoints.streams()) for (const c of await store.checkpoints.list(stream)) checkpoints.push({ stream, sequence: c.sequence, operatorStates: Object.keys(c.operatorStates), sourceOffsets: c.sourceOffsets, metadata: c.metadata });
    const info = await store.info();
    await store.close();
    return { entries: out, seq: info.seq, checkpoints };
  }, name);
}

/** Split a tar into its entries (name, content), the way a reader outside the browser would. */
function untar(bytes: Buffer): { name: string; content: Buffer }[] {
  const entries: { name: string; content: Buffer }[] = [];
  for (let at = 0; at + 512 <= bytes.length; ) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const size = Number.parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, ''), 8);
    entries.push({ name, content: bytes.subarray(at + 512, at + 512 + size) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** Build a tar from entries (raw: no checks), for tampered artifacts. */
function tar(entries: { name: string; content: Buffer }[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const { name, content } of entries) parts.push(encodeTarHeader(name, content.length, 0), content, tarPadding(content.length));
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

test('export → import round trip: same keys, values, seq and checkpoints; a plain tar with a true manifest', async ({ harness }, info) => {
  const name = storeName(info.title);
  await fill(harness, name);
  const bytes = await exportBytes(harness);
  await harness.evaluate(() => window.harness.store!.close());
  // Readable outside the browser: tar lists it, and the manifest's hashes are right.
  const dir = mkdtempSync(join(tmpdir(), 'walden-artifact-'));
  writeFileSync(join(dir, 'a.tar'), bytes);
  const listing = execFileSync('tar', ['-tf', join(dir, 'a.tar')]).toString().trim().split('\n');
  expect(listing.at(-1)).toBe('manifest.json');
  execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', dir]);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  expect(manifest).toMatchObject({ format: 'walden-export', version: 1, store: name, seq: 2001 });
  for (const file of manifest.files) {
    expect(createHash('sha256').update(readFileSync(join(dir, file.name))).digest('hex')).toBe(file.sha256);
  }
  expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(['snap-00000000000007d1.db', 'checkpoint-0.ckpt', 'checkpoint-1.ckpt', 'checkpoint-2.ckpt']);
  const restored = `${name}-restored`;
  const imported = await importBytes(harness, restored, bytes);
  expect(imported.info).toMatchObject({ seq: 2001, keys: 2000 });
  const [a, b] = [await contents(harness, name), await contents(harness, restored)];
  expect(b.entries).toEqual(a.entries);
  expect(b.seq).toBe(a.seq);
  expect(b.checkpoints).toEqual(a.checkpoints);
  // The restored store takes writes after the exported seq.
  const next = await harness.evaluate(async (restored) => {
    await window.harness.open(restored);
    return window.harness.store!.put('after-import', 1);
  }, restored);
  expect(next).toBe(2002);
});

test('tampered, truncated, reordered, foreign and oversized artifacts are refused and the existing store is untouched', async ({ harness }, info) => {
  const name = storeName(info.title);
  await fill(harness, name);
  const bytes = await exportBytes(harness);
  await harness.evaluate(() => window.harness.store!.close());
  const target = `${name}-target`;
  await harness.evaluate(async (target) => {
    await window.harness.open(target);
    await window.harness.store!.put('precious', 'keep me');
    await window.harness.store!.close();
  }, target);
  const entries = untar(bytes);
  const snapshot = entries[0]!;
  const manifest = entries.at(-1)!;
  const flipped = Buffer.from(bytes);
  flipped[512 + 1000]! ^= 0x01; // a byte of the snapshot's values
  const manifestJson = JSON.parse(manifest.content.toString());
  const withManifest = (m: object) => tar([...entries.slice(0, -1), { name: 'manifest.json', content: Buffer.from(JSON.stringify(m)) }]);
  const cases: [string, Buffer, RegExp][] = [
    ['flipped byte', flipped, /SHA-256/],
    ['truncated', bytes.subarray(0, bytes.length - 2048), /manifest|truncated/],
    ['truncated mid-snapshot', bytes.subarray(0, 4096), /truncated/],
    ['manifest not last', tar([manifest, ...entries.slice(0, -1)]), /after the manifest/],
    ['path traversal', tar([{ name: '../evil.db', content: Buffer.from('x') }, ...entries]), /unexpected file/],
    ['absolute path', tar([{ name: '/etc/passwd', content: Buffer.from('x') }, ...entries]), /unexpected file/],
    ['unlisted file', tar([{ name: 'checkpoint-99.ckpt', content: Buffer.from('x') }, ...entries]), /manifest lists/],
    ['unknown version', withManifest({ ...manifestJson, version: 2 }), /version 2 is not supported/],
    ['wrong size', withManifest({ ...manifestJson, files: [{ ...manifestJson.files[0], size: 5 }, ...manifestJson.files.slice(1)] }), /bytes; the manifest says/],
    ['oversized manifest', tar([...entries.slice(0, -1), { name: 'manifest.json', content: Buffer.alloc(2 * 1024 * 1024, 0x20) }]), /at most/],
    ['foreign', Buffer.from('PK\u0003\u0004 this is a zip file, not a tar'.padEnd(2048, '!')), /tar header|truncated/],
    ['not a snapshot inside', tar([{ name: snapshot.name, content: Buffer.from('not a snapshot at all'.padEnd(200)) }, { name: 'manifest.json', content: Buffer.from(JSON.stringify({ ...manifestJson, files: [{ name: snapshot.name, size: 200, sha256: createHash('sha256').update(Buffer.from('not a snapshot at all'.padEnd(200))).digest('hex') }] })) }]), /not a Walden snapshot/],
  ];
  for (const [label, artifact, message] of cases) {
    const result = await importBytes(harness, target, artifact, true);
    expect(result.code, label).toBe('STORE_INVALID_ARTIFACT');
    expect(result.message, label).toMatch(message);
  }
  const after = await contents(harness, target);
  expect(after.entries).toEqual([['precious', '"keep me"']]);
  // Without replace, an existing store is not overwritten even by a good artifact.
  expect((await importBytes(harness, target, bytes)).code).toBe('STORE_EXISTS');
  // With replace, it is.
  expect((await importBytes(harness, target, bytes, true)).info).toMatchObject({ seq: 2001 });
});

test('exportTo / importFrom over HTTP: manifest last, incomplete uploads refused, timeouts, progress', async ({ harness }, info) => {
  const name = storeName(info.title);
  const objects = new Map<string, Buffer>();
  const order: string[] = [];
  let delayMs = 0;
  const server: Server = createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-methods', 'GET, PUT');
    res.setHeader('access-control-allow-headers', 'content-type');
    if (req.method === 'OPTIONS') return void res.end();
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const key = req.url!;
        if (req.method === 'PUT') {
          objects.set(key, Buffer.concat(chunks));
          order.push(key);
          res.statusCode = 200;
          return void res.end();
        }
        const body = objects.get(key);
        if (!body) {
          res.statusCode = 404;
          return void res.end();
        }
        res.setHeader('content-length', body.length);
        res.end(body);
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    await fill(harness, name);
    const run = (fn: string, url: string, extra: object = {}) =>
      harness.evaluate(
        async ({ fn, url, name, extra }) => {
          const progress: number[] = [];
          try {
            if (fn === 'export') {
              const manifest = await window.harness.exportTo(window.harness.store!, url, { onProgress: (p) => progress.push(p.loaded), ...extra });
              return { ok: manifest.seq, progress };
            }
            const info = await window.harness.importFrom(`${name}-${Math.random().toString(36).slice(2)}`, url, { worker: window.harness.newWorker(), onProgress: (p) => progress.push(p.loaded), ...extra });
            return { ok: info.seq, progress };
          } catch (error) {
            return { code: (error as { code?: string }).code, message: (error as Error).message };
          }
        },
        { fn, url, name, extra },
      );
    const up = await run('export', `${base}/backups/app.tar`);
    expect(up.ok).toBe(2001);
    expect(order).toEqual(['/backups/app.tar', '/backups/app.tar.manifest.json']);
    const down = await run('import', `${base}/backups/app.tar`);
    expect(down.ok).toBe(2001);
    expect(down.progress!.at(-1)).toBe(objects.get('/backups/app.tar')!.length);
    // An upload that never wrote its manifest is incomplete.
    objects.set('/backups/partial.tar', objects.get('/backups/app.tar')!);
    expect(await run('import', `${base}/backups/partial.tar`)).toMatchObject({ code: 'STORE_INVALID_ARTIFACT', message: expect.stringContaining('incomplete') });
    // A sibling manifest that differs from the embedded one.
    objects.set('/backups/other.tar', objects.get('/backups/app.tar')!);
    objects.set('/backups/other.tar.manifest.json', Buffer.from(JSON.stringify({ ...JSON.parse(objects.get('/backups/app.tar.manifest.json')!.toString()), seq: 1 })));
    expect(await run('import', `${base}/backups/other.tar`)).toMatchObject({ code: 'STORE_INVALID_ARTIFACT', message: expect.stringContaining('differs') });
    // A server that does not answer in time.
    delayMs = 2_000;
    expect(await run('import', `${base}/backups/app.tar`, { timeoutMs: 300 })).toMatchObject({ code: 'STORE_IO_ERROR', message: expect.stringContaining('timed out') });
  } finally {
    server.close();
  }
});
