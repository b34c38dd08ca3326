// Fails when generated/openapi.ts is not what `npm run generate` would write from openapi.yaml.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const committed = join(root, 'generated/openapi.ts');
const dir = mkdtempSync(join(tmpdir(), 'lb-generated-'));
try {
  const fresh = join(dir, 'openapi.ts');
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/openapi-typescript/bin/cli.js'), join(root, 'openapi.yaml'), '--enum-values', '-o', fresh],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (readFileSync(fresh, 'utf8') !== readFileSync(committed, 'utf8')) {
    console.error('generated/openapi.ts is stale: run `npm run generate` and commit the result.');
    process.exit(1);
  }
  console.log('generated/openapi.ts is in step with openapi.yaml');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
