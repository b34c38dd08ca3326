// The spec ships in the package (openapi.yaml and openapi.json, through `exports`), the
// JSON is in step with the YAML, and the contract suite runs from either.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { bundledSpec, SPEC_JSON, SPEC_YAML } from '../scripts/bundle-spec.js';
import { runContractSuite } from '../src/contract/run.js';
import { loadSpec } from '../src/contract/spec-validator.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const require = createRequire(import.meta.url);

describe('the spec in the package', () => {
  it('openapi.json is openapi.yaml as JSON (run `npm run bundle:spec` after editing the spec)', () => {
    expect(readFileSync(SPEC_JSON, 'utf8'), 'openapi.json is stale: run `npm run bundle:spec`').toBe(bundledSpec());
    expect(loadSpec(SPEC_JSON)).toEqual(loadSpec(SPEC_YAML));
  });

  it('is exported as longbridge-token-api/openapi.yaml and longbridge-token-api/openapi.json, and packed', () => {
    expect(require.resolve('longbridge-token-api/openapi.yaml')).toBe(`${root}openapi.yaml`);
    expect(require.resolve('longbridge-token-api/openapi.json')).toBe(`${root}openapi.json`);
    expect(pkg.files).toEqual(expect.arrayContaining(['openapi.yaml', 'openapi.json']));
  });

  it('declares the contract CLI: `npm run contract` on the source, a bin on its compiled twin', () => {
    expect(pkg.scripts.contract).toBe('tsx src/contract/cli.ts');
    expect(pkg.bin['longbridge-token-contract']).toBe('./dist/contract/cli.js');
    // The build (tsup.config.ts) compiles src/contract/cli.ts to that path; test/package.test.ts runs the packed bin.
    expect(readFileSync(new URL('../tsup.config.ts', import.meta.url), 'utf8')).toContain("'contract/cli'");
  });

  it('the contract code depends on nothing under scripts/ or test/', () => {
    for (const file of readdirSync(new URL('../src/contract/', import.meta.url)).map((name) => name.replace(/\.ts$/, ''))) {
      const source = readFileSync(new URL(`../src/contract/${file}.ts`, import.meta.url), 'utf8');
      expect(source, file).not.toMatch(/from '\.\.\/\.\.\/(scripts|test)\//);
      expect(source, file).not.toMatch(/\brequire\(/);
    }
  });

  it('the contract suite runs from the JSON spec as from the YAML', async () => {
    const report = await runContractSuite({ baseUrl: inject('prismUrl'), accessToken: 'mock-access-token', specPath: SPEC_JSON });
    expect(report.spec).toBe(SPEC_JSON);
    expect(report.failed).toEqual([]);
    expect(report.probes).toHaveLength(27); // 9 for the live form, 18 for the 2022 POST
  });
});
