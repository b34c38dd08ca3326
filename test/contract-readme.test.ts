// The sample report in README.md is what the suite prints: every line of it appears, in
// order, in the report of a signed run for the same defect (base URL, spec path, token file
// and clock normalized).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FileTokenStore } from '../src/lifecycle/file-token-store.js';
import { renderText } from '../src/contract/report.js';
import { runContractSuite } from '../src/contract/run.js';
import { startContractFixture } from './fixtures/contract-defect-server.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const NOW = Date.parse('2026-01-01T00:00:00Z');
const APP = { appKey: 'APPKEY', appSecret: 'readme-sample-app-secret' };

it('README’s sample report is printed, line by line, for a signed run against a server that does not echo the aaid', async () => {
  const marker = '<!-- test/contract-readme.test.ts checks that every line below is printed, in this order -->\n```text\n';
  expect(readme).toContain(marker);
  const sample = readme.split(marker)[1]!.split('```')[0]!.split('\n');

  let t = NOW;
  const clock = { now: () => t, sleep: async (ms: number) => void (t += ms) };
  const dir = mkdtempSync(join(tmpdir(), 'lb-contract-readme-'));
  const tokenFile = join(dir, 'contract-token.json');
  await new FileTokenStore(tokenFile).save({ token: 'readme-sample-token', expiresAt: NOW + 86_400_000 });
  const server = await startContractFixture({ defect: 'aaid-not-echoed', appSecret: APP.appSecret, now: () => NOW });
  let printed: string;
  try {
    const report = await runContractSuite({ baseUrl: server.url, accessToken: 'unused-placeholder', tokenFile, sign: APP, ...clock });
    printed = renderText(report)
      .split(server.url)
      .join('https://staging.example.com')
      .split(tokenFile)
      .join('/home/ci/.contract-token.json')
      .replace(/^ {2}spec: {3}.*$/m, '  spec:   node_modules/longbridge-token-api/openapi.yaml');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const lines = printed.split('\n');
  let at = 0;
  for (const line of sample.filter((l) => l !== '')) {
    const found = lines.indexOf(line, at);
    expect(found, `README sample line not printed (in order): ${line}`).toBeGreaterThanOrEqual(0);
    at = found + 1;
  }
});
