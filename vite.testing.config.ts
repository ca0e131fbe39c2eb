import { defineConfig } from 'vite';

// The in-page half of `walden/testing`: one self-contained script (worker inlined as a blob URL,
// which keeps the page's origin and so its OPFS) that the kit adds to a blank page.
export default defineConfig({
  build: {
    target: 'es2022',
    outDir: 'dist/testing',
    emptyOutDir: false,
    minify: true,
    lib: { entry: 'src/testing/inspect.ts', formats: ['iife'], name: 'waldenInspect', fileName: () => 'inspect.iife.js' },
  },
  worker: { format: 'es' },
});
