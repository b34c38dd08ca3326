// The contract suite's command line (`npm run contract`): exit status, text and JSON reports,
// signing from the environment, the token kept between runs.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startContractFixture } from './fixtures/contract-defect-server.js';

const CLI = fileURLToPath(new URL('../src/contract/cli.ts', import.meta.url));
const ACCESS_TOKEN = 'cli-test-access-token-abcdef';
const APP_SECRET = 'cli-test-app-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'lb-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI through tsx, as `npm run contract` does; never rejects. */
function contract(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      {
        timeout: 120_000,
        env: { ...process.env, LONGBRIDGE_ACCESS_TOKEN: '', LONGBRIDGE_HTTP_URL: '', LONGBRIDGE_APP_KEY: '', LONGBRIDGE_APP_SECRET: '', ...env },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Each case spawns tsx (about 0.5 s each, much more on a loaded 2-core runner).
describe('npm run contract', { timeout: 180_000 }, () => {
  it('exits 0 against the Prism mock and prints every check; the token never appears', async () => {
    const { code, stdout, stderr } = await contract(['--base-url', inject('prismUrl'), '--access-token', ACCESS_TOKEN]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^== refreshAccessToken: GET \/v1\/token\/refresh \(the live form\)$/m);
    expect(stdout).toMatch(/^ {2}PASS {2}refreshToken\/valid-refresh-lb\/success-body +valid against RefreshTokenSuccess$/m);
    expect(stdout).toMatch(/^ {2}WARN {2}refreshToken\/body-not-json\/error-envelope /m);
    expect(stdout).toMatch(/^PASSED: \d+ checks, \d+ passed, 0 failed, 3 warnings, 0 skipped$/m);
    expect(stdout).toContain('Authorization: <redacted>');
    expect(stdout).not.toContain(ACCESS_TOKEN);
  });

  it('--json prints the machine-readable report and --json-file writes the same; token and base URL come from the environment', async () => {
    const file = join(dir, 'report.json');
    const { code, stdout } = await contract(['--json', '--json-file', file], { LONGBRIDGE_ACCESS_TOKEN: ACCESS_TOKEN, LONGBRIDGE_HTTP_URL: inject('prismUrl') });
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ ok: true, failed: [], signed: false, findings: [] });
    expect(report.warnings).toHaveLength(3);
    expect(report.operations.map((o: { operationId: string }) => o.operationId)).toEqual(['refreshAccessToken', 'refreshToken']);
    expect(readFileSync(file, 'utf8')).toBe(stdout);
    expect(stdout).not.toContain(ACCESS_TOKEN);
  });

  it('exits 1 and names the failed check, the request, the response and the rule for a defect', async () => {
    const server = await startContractFixture({ defect: 'json-as-text-plain' });
    try {
      const { code, stdout } = await contract(['--base-url', server.url, '--access-token', ACCESS_TOKEN, '--operation', 'refreshToken']);
      expect(code).toBe(1);
      expect(stdout).toMatch(/^ {2}FAIL {2}refreshToken\/valid-refresh-lb\/content-type +Content-Type text\/plain; charset=utf-8; declared: application\/json$/m);
      expect(stdout).toContain('spec rule #/paths/~1v1~1openapi~1token~1refresh/post/responses/200/content');
      expect(stdout).toMatch(/^FAILED: .*\nFailed: refreshToken\/valid-refresh-lb\/content-type\nFindings:\n {2}- refreshToken\/valid-refresh-lb\/content-type: /m);
      expect(stdout).not.toContain(ACCESS_TOKEN);
      for (const token of server.issued) expect(stdout).not.toContain(token);
    } finally {
      await server.close();
    }
  });

  it('--sign signs with LONGBRIDGE_APP_KEY / LONGBRIDGE_APP_SECRET from the environment; --token-out keeps the last token for the next run', async () => {
    const server = await startContractFixture({ appSecret: APP_SECRET });
    const tokenFile = join(dir, 'contract-token.json');
    const env = { LONGBRIDGE_ACCESS_TOKEN: ACCESS_TOKEN, LONGBRIDGE_APP_KEY: 'cli-app-key', LONGBRIDGE_APP_SECRET: APP_SECRET };
    try {
      const first = await contract(['--base-url', server.url, '--sign', '--token-out', tokenFile, '--operation', 'GET'], env);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^ {2}signed: yes/m);
      expect(first.stdout).toMatch(/^ {2}token: {2}from --access-token or LONGBRIDGE_ACCESS_TOKEN; 1 issued by the server, the last saved to .*contract-token\.json/m);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(tokenFile, 'utf8')).token).toBe(server.issued.at(-1));

      // The environment's token is dead now (the first run refreshed it): the second run starts from the file.
      const second = await contract(['--base-url', server.url, '--sign', '--token-out', tokenFile, '--operation', 'GET'], env);
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/^ {2}token: {2}read from the --token-out file; 1 issued by the server/m);
      expect(JSON.parse(readFileSync(tokenFile, 'utf8')).token).toBe(server.issued.at(-1));
      for (const output of [first.stdout, second.stdout]) {
        expect(output).not.toContain(APP_SECRET);
        for (const token of [ACCESS_TOKEN, ...server.issued]) expect(output).not.toContain(token);
      }
    } finally {
      await server.close();
    }
  });

  it('exits 13 with a one-line cause when the server cannot be reached', async () => {
    const server = await startContractFixture({});
    await server.close();
    const { code, stdout, stderr } = await contract(['--base-url', server.url]);
    expect(code).toBe(13);
    expect(stdout).toBe('');
    expect(stderr).toBe(`contract suite not run: cannot reach ${server.url}: connection refused (ECONNREFUSED)\n`);
  });

  it('exits 2 with the usage for bad arguments', async () => {
    const missing = await contract([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--base-url is required (or set LONGBRIDGE_HTTP_URL)');
    expect(missing.stderr).toContain('Usage:');
    // Never a production host by default: the region variable the CLIs honour does not count here.
    const region = await contract([], { LONGBRIDGE_REGION: 'cn' });
    expect(region.code).toBe(2);
    expect(region.stderr).toContain('--base-url is required');
    const channel = await contract(['--base-url', 'http://127.0.0.1:9', '--channel', 'hk']);
    expect(channel.code).toBe(2);
    expect(channel.stderr).toContain('channel must be one of lb, pspl_sg');
    const sign = await contract(['--base-url', 'http://127.0.0.1:9', '--sign'], { LONGBRIDGE_APP_KEY: 'k' });
    expect(sign.code).toBe(2);
    expect(sign.stderr).toContain('--sign needs LONGBRIDGE_APP_KEY and LONGBRIDGE_APP_SECRET in the environment');
    const tolerance = await contract(['--base-url', 'http://127.0.0.1:9', '--expiry-tolerance', '5 minutes']);
    expect(tolerance.code).toBe(2);
    expect(tolerance.stderr).toContain('--expiry-tolerance must be a number with a unit');
    const help = await contract(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--token-out FILE');
  });
});
