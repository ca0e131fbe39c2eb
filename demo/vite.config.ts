import { defineConfig } from 'vite';
import { DEPENDENCIES } from '../tests/harness/vite.config.js';

/** Port of `npm run demo`, and of the built demo served for its tests. */
export const DEMO_PORT = 5173;

// `npm run demo` serves http://127.0.0.1:5173 (OPFS needs a secure context; localhost is one).
// `npm run demo:build` writes demo/dist, a static PWA (manifest and service worker).
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  server: { host: '127.0.0.1', port: DEMO_PORT },
  preview: { host: '127.0.0.1', port: 47125, strictPort: true },
  worker: { format: 'es' },
  optimizeDeps: { noDiscovery: true, include: DEPENDENCIES },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
