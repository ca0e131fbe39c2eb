import { defineConfig } from 'vite';
import { DEPENDENCIES } from '../tests/harness/vite.config.js';

// `npm run demo`: the demo page on http://127.0.0.1:5173 (OPFS needs a secure context; localhost is one).
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  server: { host: '127.0.0.1', port: 5173, open: false },
  worker: { format: 'es' },
  optimizeDeps: { noDiscovery: true, include: DEPENDENCIES },
});
