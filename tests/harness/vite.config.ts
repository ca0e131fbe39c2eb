import { defineConfig } from 'vite';

/** The packages the page and the worker import (CommonJS ones need pre-bundling in dev). */
export const DEPENDENCIES = ['comlink', 'idb', 'fast-check', 'sorted-btree', 'crc-32/crc32c.js', '@noble/hashes/sha2.js', '@tanstack/query-core', '@tanstack/query-persist-client-core', '@tanstack/query-async-storage-persister', 'zustand/vanilla', 'zustand/middleware', 'redux', 'redux-persist', 'react', 'react-dom/client', 'yjs', 'abstract-level', 'abstract-level/test', 'tape', '@nats-io/nats-core', '@nats-io/jetstream', '@nats-io/obj'];

/** Serves the test harness (and the sources it imports) on a fixed origin: OPFS data is per origin. */
export const HARNESS_PORT = 47123;

export default defineConfig({
  root: new URL('../..', import.meta.url).pathname,
  server: { host: '127.0.0.1', port: HARNESS_PORT, strictPort: true, hmr: false },
  worker: { format: 'es' },
  // tape (abstract-level's test runner, in the Level spec) needs Node's stream and path.
  resolve: { alias: { stream: 'stream-browserify', path: 'path-browserify' } },
  // Pre-bundle every dependency up front: one found late (the worker's, say) makes Vite
  // re-optimize and answer in-flight module requests with 504, which hangs a worker's start.
  optimizeDeps: { noDiscovery: true, include: DEPENDENCIES },
  logLevel: 'warn',
});
