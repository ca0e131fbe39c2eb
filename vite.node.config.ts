import { defineConfig } from 'vite';

// `walden/node`: one self-contained ES module for Node (the engine runs in the process).
export default defineConfig({
  build: {
    target: 'node20',
    outDir: 'dist',
    emptyOutDir: false,
    minify: false,
    sourcemap: true,
    ssr: true,
    lib: { entry: { node: 'src/node.ts' }, formats: ['es'] },
    rollupOptions: { external: [/^node:/] },
  },
  ssr: { noExternal: true },
});
