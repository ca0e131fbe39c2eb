import { defineConfig } from 'vite';

// `walden/worker`: the worker script, with the chunks it loads on demand (the import path, the
// catalog), built apart from the page entry so that the two share no chunk.
export default defineConfig({
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: false,
    minify: true,
    sourcemap: true,
    lib: { entry: { worker: 'src/worker.ts' }, formats: ['es'] },
  },
});
