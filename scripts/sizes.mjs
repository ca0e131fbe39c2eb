// Bundle sizes of the built package (run `npm run build` first): what the page and the worker
// download, raw, gzip and brotli. The page entry's shared chunks count for the page.
import { readFileSync, readdirSync } from 'node:fs';
import { brotliCompressSync, gzipSync } from 'node:zlib';

/** Sizes in bytes of `dist/index.js` (with the chunks it imports) and `dist/worker.js` (likewise). */
export function bundleSizes(dist = 'dist') {
  const chunksOf = (entry) => {
    const code = readFileSync(`${dist}/${entry}`, 'utf8');
    const imported = [...code.matchAll(/from\s*"\.\/([^"]+\.js)"/g)].map((m) => m[1]);
    return [entry, ...imported.filter((f) => readdirSync(dist).includes(f))];
  };
  const measure = (files) => {
    const code = Buffer.concat(files.map((f) => readFileSync(`${dist}/${f}`)));
    return { files, raw: code.length, gzip: gzipSync(code, { level: 9 }).length, brotli: brotliCompressSync(code).length };
  };
  return { page: measure(chunksOf('index.js')), worker: measure(chunksOf('worker.js')) };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(bundleSizes(), null, 2));
