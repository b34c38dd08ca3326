// The contract suite's command line (`npm run contract`): exit status, text and JSON reports.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startContractFixture } from './fixtures/contract-defect-server.js';

const CLI = fileURLToPath(new URL('../src/contract/cli.ts', import.meta.url));
const ACCESS_TOKEN = 'cli-test-access-token-abcdef';
const dir = mkdtempSync(join(tmpdir(), 'lb-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI through tsx, as `npm run contract` does; never rejects. */
function contract(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { timeout: 60_000, env: { ...process.env, LONGBRIDGE_ACCESS_TOKEN: '', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Each case spawns tsx (about 0.5 s each, much more on a loaded 2-core runner).
describe('npm run contract', { timeout: 90_000 }, () => {
  it('exits 0 against the Prism mock and prints every check; the token never appears', async () => {
    const { code, stdout, stderr } = await contract(['--base-url', inject('prismUrl'), '--access-token', ACCESS_TOKEN]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^  PASS  valid-refresh\/success-body +valid against RefreshTokenSuccess$/m);
    expect(stdout).toMatch(/^  WARN  body-not-json\/error-envelope /m);
    expect(stdout).toMatch(/^PASSED: 66 checks, 65 passed, 0 failed, 1 warning, 0 skipped$/m);
    expect(stdout).toContain('Authorization: <redacted>');
    expect(stdout).not.toContain(ACCESS_TOKEN);
  });

  it('--json prints the machine-readable report and --json-file writes the same; the token comes from the environment', async () => {
    const file = join(dir, 'report.json');
    const { code, stdout } = await contract(['--base-url', inject('prismUrl'), '--json', '--json-file', file], {
      LONGBRIDGE_ACCESS_TOKEN: ACCESS_TOKEN,
    });
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ ok: true, failed: [], warnings: ['body-not-json/error-envelope'] });
    expect(report.operation).toEqual({ operationId: 'refreshToken', method: 'POST', path: '/v1/openapi/token/refresh' });
    expect(readFileSync(file, 'utf8')).toBe(stdout);
    expect(stdout).not.toContain(ACCESS_TOKEN);
  });

  it('exits 1 and names the failed check, the request, the response and the rule for a defect', async () => {
    const server = await startContractFixture({ defect: 'json-as-text-plain' });
    try {
      const { code, stdout } = await contract(['--base-url', server.url, '--access-token', ACCESS_TOKEN]);
      expect(code).toBe(1);
      expect(stdout).toMatch(/^  FAIL  valid-refresh\/content-type +Content-Type text\/plain; charset=utf-8; declared: application\/json$/m);
      expect(stdout).toContain('spec rule #/paths/~1v1~1openapi~1token~1refresh/post/responses/200/content');
      expect(stdout).toMatch(/^FAILED: .*\nFailed: valid-refresh\/content-type$/m);
      expect(stdout).not.toContain(ACCESS_TOKEN);
      for (const token of server.issued) expect(stdout).not.toContain(token);
    } finally {
      await server.close();
    }
  });

  it('exits 2 with the usage for bad arguments', async () => {
    const missing = await contract([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--base-url is required');
    expect(missing.stderr).toContain('Usage:');
    const channel = await contract(['--base-url', 'http://127.0.0.1:9', '--channel', 'hk']);
    expect(channel.code).toBe(2);
    expect(channel.stderr).toContain('channel must be one of lb, pspl_sg');
    const help = await contract(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--access-token');
  });
});
