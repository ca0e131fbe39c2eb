import { defineConfig, type Plugin } from 'vite';

/**
 * Our own build must leave `new Worker(new URL('./worker.js', import.meta.url))` alone (the
 * source marks it `@vite-ignore`), but the app's bundler must see that exact shape to bundle
 * `dist/worker.js`: drop the marker from the output.
 */
function keepWorkerUrlForTheAppBundler(): Plugin {
  return {
    name: 'walden:keep-worker-url',
    renderChunk(code) {
      return code.includes('@vite-ignore') ? { code: code.replace(/\/\*\s*@vite-ignore\s*\*\/\s*(['"]\.\/worker\.js['"])/g, '$1'), map: null } : null;
    },
  };
}

// Library build: `walden` (page entry), `walden/testing` and the adapters (`walden/storage`, `walden/react`, `walden/yjs`, `walden/level`), ESM only. The worker script is built
// on its own (`vite.worker.config.ts`), so that it shares no chunk with the page: each entry's
// size is its own file plus the chunks it loads on demand.
export default defineConfig({
  plugins: [keepWorkerUrlForTheAppBundler()],
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    minify: true,
    sourcemap: true,
    lib: {
      entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts', storage: 'src/adapters/storage.ts', react: 'src/adapters/react.ts', yjs: 'src/adapters/yjs.ts', level: 'src/adapters/level.ts' },
      formats: ['es'],
    },
    rollupOptions: {
      // The testing kit runs in Node next to Playwright; the adapters use the app's own copy of their library.
      external: [/^node:/, '@playwright/test', 'react', /^react\//, 'yjs', 'abstract-level'],
    },
  },
});
