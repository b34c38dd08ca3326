// Writes openapi.json, the spec as JSON (shipped in the package beside openapi.yaml, for
// tools that do not read YAML), from openapi.yaml. `--check` fails instead when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSpec } from '../src/contract/spec-validator.js';

export const SPEC_YAML = fileURLToPath(new URL('../openapi.yaml', import.meta.url));
export const SPEC_JSON = fileURLToPath(new URL('../openapi.json', import.meta.url));

/** What openapi.json must contain for the current openapi.yaml. */
export function bundledSpec(): string {
  return `${JSON.stringify(loadSpec(SPEC_YAML), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const fresh = bundledSpec();
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(SPEC_JSON, 'utf8');
    } catch {
      // missing: stale
    }
    if (committed !== fresh) {
      console.error('openapi.json is stale: run `npm run bundle:spec` and commit the result.');
      process.exit(1);
    }
    console.log('openapi.json is in step with openapi.yaml');
  } else {
    writeFileSync(SPEC_JSON, fresh);
    console.log('wrote openapi.json');
  }
}
