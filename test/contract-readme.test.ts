// The sample report in README.md is what the suite prints: every line of it appears, in
// order, in the report for the same defect (base URL, spec path and clock normalized).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { renderText } from '../src/contract/report.js';
import { runContractSuite } from '../src/contract/run.js';
import { startContractFixture } from './fixtures/contract-defect-server.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const NOW = Date.parse('2026-01-01T00:00:00Z');

it('README’s sample report is printed, line by line, for a success without account_info.member_id', async () => {
  const marker = '<!-- test/contract-readme.test.ts checks that every line below is printed, in this order -->\n```text\n';
  expect(readme).toContain(marker);
  const sample = readme.split(marker)[1]!.split('```')[0]!.split('\n');

  const server = await startContractFixture({ defect: 'account-info-incomplete' });
  let printed: string;
  try {
    const report = await runContractSuite({ baseUrl: server.url, accessToken: 'readme-sample-token', now: () => NOW });
    printed = renderText(report)
      .split(server.url)
      .join('https://staging.example.com')
      .replace(/^ {2}spec: {3}.*$/m, '  spec:   node_modules/longbridge-token-api/openapi.yaml')
      .replace(/"issued_at":"[^"]+"/, `"issued_at":"${new Date(NOW).toISOString()}"`);
  } finally {
    await server.close();
  }

  const lines = printed.split('\n');
  let at = 0;
  for (const line of sample.filter((l) => l !== '')) {
    const found = lines.indexOf(line, at);
    expect(found, `README sample line not printed (in order): ${line}`).toBeGreaterThanOrEqual(0);
    at = found + 1;
  }
});
