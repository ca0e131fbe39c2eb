import { defineConfig } from 'vite';

// The bench page, built and served with COOP/COEP (5 µs timers) on a fixed origin.
export const BENCH_PORT = 47127;
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  preview: { host: '127.0.0.1', port: BENCH_PORT, strictPort: true, headers: isolation },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  logLevel: 'warn',
});
