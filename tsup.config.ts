// `npm run build` → dist/: the package as published.
// - index, file-store, redis-store: libraries, ESM + CJS + .d.ts/.d.cts. `index` is the client
//   entry for every runtime (no `node:` import); `file-store` is Node-only; `redis-store` takes
//   a node-redis client from the caller and imports nothing of `redis` (an optional peer).
//   Split chunks let them share one copy of shared classes (TokenStoreError), so `instanceof` holds across them.
//   openapi-fetch stays an external runtime dependency.
// - crypto/node, crypto/web: the signing digests, reached from index through the package's
//   `#crypto` import (package.json "imports": `node` → node:crypto, otherwise Web Crypto), so
//   that import stays external and a browser or edge bundler never meets `node:crypto`.
// - cli, contract/cli: Node executables (bin), ESM, their dev-only dependencies (ajv, yaml)
//   bundled in, so the package's runtime dependency stays openapi-fetch alone.
import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      'file-store': 'src/lifecycle/file-token-store.ts',
      'redis-store': 'src/lifecycle/redis-token-store.ts',
      'crypto/node': 'src/client/crypto/node.ts',
      'crypto/web': 'src/client/crypto/web.ts',
    },
    format: ['esm', 'cjs'],
    platform: 'neutral',
    target: 'es2022',
    dts: {
      entry: { index: 'src/index.ts', 'file-store': 'src/lifecycle/file-token-store.ts', 'redis-store': 'src/lifecycle/redis-token-store.ts' },
    },
    splitting: true,
    clean: true,
    external: ['openapi-fetch', /^node:/, '#crypto'],
  },
  ...(['cli', 'contract/cli'] as const).map((name) => ({
    entry: { [name]: name === 'cli' ? 'src/cli/bin.ts' : 'src/contract/cli.ts' },
    format: ['esm' as const],
    platform: 'node' as const,
    target: 'node20',
    // Bundled CommonJS dependencies (yaml, ajv) call require(): give the ESM bundle one.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
    splitting: false,
    external: ['openapi-fetch'],
    noExternal: [/^(?!openapi-fetch$)/],
  })),
]);
