import { defineConfig } from 'vite';

/** Serves the test harness (and the sources it imports) on a fixed origin: OPFS data is per origin. */
export const HARNESS_PORT = 47123;

export default defineConfig({
  root: new URL('../..', import.meta.url).pathname,
  server: { host: '127.0.0.1', port: HARNESS_PORT, strictPort: true, hmr: false },
  worker: { format: 'es' },
  optimizeDeps: { entries: ['tests/harness/index.html'] },
  logLevel: 'warn',
});
