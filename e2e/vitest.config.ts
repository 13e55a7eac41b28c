import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * End-to-end tests: a Node project that drives the system Chromium through playwright-core (see
 * `e2e/harness.ts`) against the demo site served from demo/ + dist/ and, for receipts, the real
 * `assenso serve`. `npm test` builds dist/ before it runs these. Files run one at a time: the machine has
 * two cores and every file starts its own browser and servers.
 */
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    name: 'e2e',
    environment: 'node',
    include: ['e2e/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
