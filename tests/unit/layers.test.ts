/**
 * The house rule, checked over the import graph of `src/`: folders are layers and every import
 * points down (DESIGN.md §2). Entries and `testing/` on top; then `client/` (the page) and `host/` (the
 * worker's composition root), which never import each other; then `tabs/` and `platform/`,
 * likewise; then `engine/`, `format/`, and at the bottom the shared files.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const LAYERS: string[][] = [
  ['src/index.ts', 'src/worker.ts', 'src/node.ts', 'src/testing/', 'src/adapters/'],
  ['src/client/', 'src/host/'],
  ['src/tabs/', 'src/platform/', 'src/sync/'],
  ['src/engine/'],
  ['src/format/'],
  ['src/protocol.ts', 'src/errors.ts', 'src/keys.ts', 'src/transfer.ts', 'src/hotpath.ts'],
];

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    return statSync(join(ROOT, path)).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The layer and the part (folder or shared file) a source file belongs to. */
function placeOf(file: string): { layer: number; part: string } {
  for (const [layer, parts] of LAYERS.entries()) for (const part of parts) if (part.endsWith('/') ? file.startsWith(part) : file === part) return { layer, part };
  throw new Error(`${file} is in no layer: add it to LAYERS in tests/unit/layers.test.ts`);
}

/** Every relative import of `file`, static or dynamic, resolved to a path under the root. */
function importsOf(file: string): string[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...source.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)'(\.[^']+)'/gm)].map((m) => m[1]!.replace(/\?.*$/, ''));
  return specifiers.map((s) => normalize(relative(ROOT, join(ROOT, dirname(file), s))).replace(/\.js$/, '.ts'));
}

describe('layers', () => {
  const sources = files('src');

  it('every source file has a layer', () => {
    for (const file of sources) expect(() => placeOf(file)).not.toThrow();
  });

  it('imports only point down, or stay in their own folder', () => {
    const wrong: string[] = [];
    for (const file of sources) {
      const from = placeOf(file);
      for (const target of importsOf(file)) {
        const to = placeOf(target);
        const sameFolder = from.part === to.part && from.part.endsWith('/');
        // Entries may bundle one another (the testing kit inlines the worker entry); shared files share types.
        const openLayer = from.layer === to.layer && (from.layer === 0 || from.layer === LAYERS.length - 1);
        if (!(to.layer > from.layer || sameFolder || openLayer)) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the check sees an upward import', () => {
    expect(importsOf('src/worker.ts')).toContain('src/host/host.ts');
    expect(placeOf('src/engine/engine.ts').layer).toBeGreaterThan(placeOf('src/host/host.ts').layer);
  });
});
