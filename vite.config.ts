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

// Library build: `walden` (page entry) and `walden/worker` (the worker script), ESM only.
export default defineConfig({
  plugins: [keepWorkerUrlForTheAppBundler()],
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    minify: true,
    sourcemap: true,
    lib: {
      entry: { index: 'src/index.ts', worker: 'src/worker.ts', 'testing/index': 'src/testing/index.ts' },
      formats: ['es'],
    },
    rollupOptions: {
      // The testing kit runs in Node next to Playwright.
      external: [/^node:/, '@playwright/test'],
    },
  },
});
