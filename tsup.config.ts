// `npm run build` → dist/: the package as published.
// - index: the client entry, for every runtime (no `node:` import), ESM + CJS + .d.ts/.d.cts;
//   openapi-fetch stays an external runtime dependency.
import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    platform: 'neutral',
    target: 'es2022',
    dts: true,
    clean: true,
    sourcemap: false,
    external: ['openapi-fetch'],
  },
]);
