import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The package's `#crypto` import (package.json "imports") points into dist/; tests run the
  // source, as Node would pick it (condition `node`), like tsconfig.json's "paths".
  resolve: { alias: { '#crypto': fileURLToPath(new URL('./src/client/crypto/node.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 20_000,
  },
});
