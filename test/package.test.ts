// The package as a consumer gets it: `npm pack`, install the tarball into a fresh project,
// then `import`, `require` and a type-check of a consumer's .ts file.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'lb-pack-'));
const project = join(work, 'consumer');
let files: string[] = [];

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

beforeAll(() => {
  run('npm', ['run', '--silent', 'build'], root);
  const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  files = packed[0]!.files.map((f) => f.path);
  cpSync(join(root, 'test/package/consumer.ts'), join(work, 'consumer.ts'));
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, packed[0]!.filename)], project);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('holds the build, the spec, README and LICENSE, and no tests, fixtures or sources', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts',
        'dist/file-store.js', 'dist/file-store.cjs', 'dist/file-store.d.ts', 'dist/file-store.d.cts',
        'dist/crypto/node.js', 'dist/crypto/node.cjs', 'dist/crypto/web.js', 'dist/crypto/web.cjs',
        'dist/redis-store.js', 'dist/redis-store.cjs', 'dist/redis-store.d.ts', 'dist/redis-store.d.cts',
        'dist/cli.js', 'dist/contract/cli.js', 'openapi.yaml', 'openapi.json', 'README.md', 'LICENSE', 'package.json',
      ]),
    );
    const unwanted = files.filter((f) => /^(test|src|scripts|examples|generated|\.ci)\/|fixture|\.env|\.pem$|\.key$|\.tgz$/.test(f));
    expect(unwanted).toEqual([]);
  });

  it('declares openapi-fetch as its only runtime dependency', () => {
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/longbridge-token-api/package.json'), 'utf8'));
    expect(Object.keys(installed.dependencies ?? {})).toEqual(['openapi-fetch']);
  });

  it('works with import (ESM)', () => {
    const out = run(process.execPath, ['--input-type=module', '-e', "import { createTokenClient, ApiError } from 'longbridge-token-api'; console.log(typeof createTokenClient, typeof ApiError)"], project);
    expect(out.trim()).toBe('function function');
  });

  it('works with require (CJS)', () => {
    const out = run(process.execPath, ['-e', "const m = require('longbridge-token-api'); console.log(typeof m.createTokenClient, new m.ApiError({ code: 401003, message: 'x', status: 401 }).kind)"], project);
    expect(out.trim()).toBe('function token-expired');
  });

  it('signs with node:crypto from the tarball, for import and require (the official GET vector)', () => {
    // The package's `#crypto` import picks dist/crypto/node.* under the `node` condition.
    const sign = `const c = m.createTokenClient({ accessToken: 'ACCESSTOKEN', accountChannel: 'lb', appKey: 'APPKEY', appSecret: 'APPSECRET',
      now: () => 1795635898000, fetch: async (url, init) => { signature = new Headers(init.headers).get('X-Api-Signature'); throw new Error('stop'); } });
      c.api.GET('/v1/token/refresh', { params: { query: { expired_at: '2027-01-01T00:00:00Z' } } }).catch(() => console.log(signature.slice(-64), crypto()));`;
    const esm = run(process.execPath, ['--input-type=module', '-e', `import * as m from 'longbridge-token-api'; let signature; const crypto = () => 'esm'; ${sign}`], project);
    const cjs = run(
      process.execPath,
      ['-e', `const m = require('longbridge-token-api'); let signature; const crypto = () => Object.keys(require.cache).filter((f) => f.includes('crypto')).map((f) => f.split('longbridge-token-api/')[1]).join(); ${sign}`],
      project,
    );
    const vector = '7d47b6dc9ea737ca6e856fffa29750d518df5bede19d1045833bea23ebc48402';
    expect([esm.trim(), cjs.trim()]).toEqual([`${vector} esm`, `${vector} dist/crypto/node.cjs`]);
  });

  it('has a Node-only file store entry for import and require, sharing error classes with the main entry', () => {
    const esm = run(
      process.execPath,
      ['--input-type=module', '-e', "import { FileTokenStore, TokenStoreError as A } from 'longbridge-token-api/file-store'; import { TokenStoreError as B } from 'longbridge-token-api'; console.log(typeof FileTokenStore, A === B)"],
      project,
    );
    expect(esm.trim()).toBe('function true');
    const cjs = run(process.execPath, ['-e', "console.log(typeof require('longbridge-token-api/file-store').FileTokenStore)"], project);
    expect(cjs.trim()).toBe('function');
  });

  it('has a Redis store entry for import and require that needs no `redis` installed (an optional peer), sharing error classes', () => {
    expect(existsSync(join(project, 'node_modules/redis'))).toBe(false);
    const esm = run(
      process.execPath,
      ['--input-type=module', '-e', "import { RedisTokenStore, TokenStoreError as A } from 'longbridge-token-api/redis-store'; import { TokenStoreError as B } from 'longbridge-token-api'; console.log(typeof RedisTokenStore, A === B)"],
      project,
    );
    expect(esm.trim()).toBe('function true');
    const cjs = run(process.execPath, ['-e', "console.log(typeof require('longbridge-token-api/redis-store').RedisTokenStore)"], project);
    expect(cjs.trim()).toBe('function');
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/longbridge-token-api/package.json'), 'utf8'));
    expect(installed.peerDependenciesMeta).toEqual({ redis: { optional: true } });
    // The main entry never loads the Redis store or `redis` (its comments may name them).
    const main = readFileSync(join(project, 'node_modules/longbridge-token-api/dist/index.js'), 'utf8');
    expect(main).not.toMatch(/(from|import\(|require\()\s*["'][^"']*redis/i);
    expect(main).not.toMatch(/RedisTokenStore\b[^\n]*=/);
  });

  it('ships the spec as YAML and JSON through exports', () => {
    const out = run(
      process.execPath,
      ['-e', "const spec = require('longbridge-token-api/openapi.json'); console.log(spec.openapi, require.resolve('longbridge-token-api/openapi.yaml').endsWith('openapi.yaml'))"],
      project,
    );
    expect(out.trim()).toBe('3.0.3 true');
    // ESM, as README shows it: an import attribute (Node ≥ 20.10).
    const esm = run(
      process.execPath,
      ['--input-type=module', '-e', "import spec from 'longbridge-token-api/openapi.json' with { type: 'json' }; console.log(spec.openapi, Object.keys(spec.paths)[0])"],
      project,
    );
    expect(esm.trim()).toBe('3.0.3 /v1/token/refresh');
  });

  it('engines says what is really needed: the undici the CLI bundles, and import attributes (≥ 20.10)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
    const undici = JSON.parse(readFileSync(join(root, 'node_modules/undici/package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(undici.engines.node);
    const [major, minor] = pkg.engines.node.replace('>=', '').split('.').map(Number) as [number, number];
    expect(major > 20 || (major === 20 && minor >= 10)).toBe(true);
  });

  it('installs both command-line tools, which run from the tarball', () => {
    const bin = join(project, 'node_modules/.bin');
    expect(run(join(bin, 'longbridge-token'), ['--version'], project).trim()).toMatch(/^(longbridge-token-api )?\d+\.\d+\.\d+/);
    expect(run(join(bin, 'longbridge-token-contract'), ['--help'], project)).toContain('--base-url');
  });

  it('type-checks a consumer’s .ts file against the packed types (node16 and bundler resolution)', () => {
    cpSync(join(root, 'test/package/consumer.ts'), join(project, 'consumer.ts'));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const common = ['--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--lib', 'es2022,dom', 'consumer.ts'];
    for (const [module, resolution] of [['node16', 'node16'], ['esnext', 'bundler']] as const) {
      const result = spawnSync(process.execPath, [tsc, '--module', module, '--moduleResolution', resolution, ...common], { cwd: project, encoding: 'utf8' });
      expect({ resolution, output: result.stdout + result.stderr, status: result.status }).toEqual({ resolution, output: '', status: 0 });
    }
  }, 120_000); // two tsc runs: over 20 s on a loaded 2-core machine
});
