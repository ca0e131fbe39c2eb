import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'tests',
  timeout: 60_000,
  webServer: { command: 'npx vite preview', url: 'http://127.0.0.1:47126/', reuseExistingServer: false },
});
