// The contract suite catches every planted defect of the loopback fixture server, one
// defect at a time, and names it: the exact checks that fail and the spec rule each broke.
// A defect the suite misses (or a check that fails for another reason) fails this test.
import { afterEach, describe, expect, it } from 'vitest';
import { renderText } from '../src/contract/report.js';
import { runContractSuite, type ContractReport } from '../src/contract/run.js';
import { DEFECTS, startContractFixture, type DefectName, type FixtureServer } from './fixtures/contract-defect-server.js';

const ACCESS_TOKEN = 'fixture-access-token-0123456789';

let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function runAgainst(options: Parameters<typeof startContractFixture>[0]): Promise<ContractReport> {
  server = await startContractFixture(options);
  return runContractSuite({ baseUrl: server.url, accessToken: ACCESS_TOKEN, timeoutMs: 5_000 });
}

const BODY_RULES = ['missing-expired_at', 'non-date-expired_at', 'missing-aaid', 'empty-aaid', 'extra-field'];
const ERROR_PROBES = ['missing-authorization', 'missing-account-channel', 'unknown-account-channel', ...BODY_RULES, 'wrong-content-type'];

/** For each defect: exactly which checks fail, and a spec rule (location and message) that must be named. */
const EXPECTED: Record<DefectName, { fails: string[]; warns?: string[]; rule: { location: string; message?: RegExp } }> = {
  'message-key-missing': {
    fails: ['valid-refresh/success-body'],
    rule: { location: '#/components/schemas/RefreshTokenSuccess/anyOf' },
  },
  'code-as-string': {
    fails: ['valid-refresh/success-body'],
    rule: { location: '#/components/schemas/SuccessFields/properties/code/type', message: /integer/ },
  },
  'error-code-as-string': {
    fails: ERROR_PROBES.map((probe) => `${probe}/error-envelope`),
    warns: ['body-not-json/error-envelope'],
    rule: { location: '#/components/schemas/ErrorFields/properties/code/type', message: /integer/ },
  },
  'token-missing': {
    fails: ['valid-refresh/success-body'],
    rule: { location: '#/components/schemas/RefreshTokenData/required', message: /'token'/ },
  },
  'account-info-incomplete': {
    fails: ['valid-refresh/success-body'],
    rule: { location: '#/components/schemas/AccountInfo/required', message: /'member_id'/ },
  },
  'expired-at-not-date-time': {
    fails: ['valid-refresh/success-body'],
    rule: { location: '#/components/schemas/RefreshTokenData/properties/expired_at/format', message: /date-time/ },
  },
  'token-for-unknown-channel': {
    fails: ['unknown-account-channel/refused', 'unknown-account-channel/no-token', 'unknown-account-channel/error-envelope'],
    rule: { location: '#/components/schemas/AccountChannel/enum' },
  },
  'token-without-authorization': {
    fails: ['missing-authorization/refused', 'missing-authorization/no-token', 'missing-authorization/error-envelope'],
    rule: { location: '#/components/securitySchemes/AccessToken' },
  },
  'html-500': {
    fails: ['valid-refresh/content-type', 'valid-refresh/success-status', 'valid-refresh/success-body'],
    rule: { location: '#/components/responses/InternalError/content', message: /text\/html/ },
  },
  'json-as-text-plain': {
    fails: ['valid-refresh/content-type'],
    rule: { location: '#/paths/~1v1~1openapi~1token~1refresh/post/responses/200/content', message: /text\/plain/ },
  },
  'undeclared-status-422': {
    fails: BODY_RULES.map((probe) => `${probe}/declared-status`),
    rule: { location: '#/paths/~1v1~1openapi~1token~1refresh/post/responses', message: /not 422/ },
  },
  'wrong-account-channel': {
    fails: ['valid-refresh/account-channel'],
    rule: { location: '#/components/schemas/AccountInfo/properties/account_channel', message: /"lb"/ },
  },
  'accepts-extra-field': {
    fails: ['extra-field/refused', 'extra-field/no-token', 'extra-field/error-envelope'],
    rule: { location: '#/components/schemas/RefreshTokenRequest/additionalProperties' },
  },
};

describe('the contract suite against the loopback fixture', () => {
  it('passes every check when no defect is planted (the control)', async () => {
    const report = await runAgainst({});
    expect(report.failed).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.summary.skipped).toBe(0);
    expect(report.ok).toBe(true);
    expect(server!.issued).toHaveLength(1); // only the valid refresh got a token
  });

  it.each(Object.keys(DEFECTS) as DefectName[])('catches and names the defect %s', async (defect) => {
    const expected = EXPECTED[defect];
    const report = await runAgainst({ defect });
    expect(report.ok).toBe(false);
    expect([...report.failed].sort()).toEqual([...expected.fails].sort());
    expect(report.warnings).toEqual(expected.warns ?? []);

    const failed = report.probes.flatMap((probe) => probe.checks).filter((check) => check.outcome === 'fail');
    const rules = failed.flatMap((check) => check.rules);
    expect(rules).toContainEqual(
      expect.objectContaining({ location: expected.rule.location, ...(expected.rule.message ? { message: expect.stringMatching(expected.rule.message) } : {}) }),
    );

    const text = renderText(report);
    for (const id of expected.fails) expect(text).toMatch(new RegExp(`^  FAIL  ${id}\\b`, 'm'));
    expect(text).toContain(`spec rule ${expected.rule.location}`);
    expect(text).toMatch(/^  request:\n    POST http:\/\/127\.0\.0\.1:\d+\/v1\/openapi\/token\/refresh$/m);
    expect(text).toMatch(/^  response:\n    HTTP \d{3}$/m);
    expect(text).not.toContain(ACCESS_TOKEN);
    expect(text).toMatch(/^FAILED: /m);
  });
});

describe('the report never shows a secret', () => {
  it('redacts the access token, even echoed by the server, and every issued token', async () => {
    // token-without-authorization makes the server issue two tokens; echoAuthorization puts
    // the access token into every reply's message.
    const report = await runAgainst({ defect: 'token-without-authorization', echoAuthorization: true });
    expect(server!.issued).toHaveLength(2);
    const printed = [renderText(report), JSON.stringify(report)];
    for (const output of printed) {
      expect(output).not.toContain(ACCESS_TOKEN);
      for (const token of server!.issued) expect(output).not.toContain(token);
    }
    const probe = report.probes.find((p) => p.name === 'missing-authorization')!;
    expect(probe.exchange.response?.body).toContain('<redacted token, ');
    const valid = report.probes.find((p) => p.name === 'valid-refresh')!;
    expect(valid.exchange.request.headers.Authorization).toBe('<redacted>');
    expect(valid.exchange.response?.body).toContain('(Authorization: <redacted>)');
  });
});

describe('a server that does not answer', () => {
  it('fails every probe with a named reason and skips the rest', async () => {
    server = await startContractFixture({});
    const url = server.url;
    await server.close();
    server = undefined;
    const report = await runContractSuite({ baseUrl: url, accessToken: ACCESS_TOKEN, timeoutMs: 2_000 });
    expect(report.ok).toBe(false);
    expect(report.failed.every((id) => id.endsWith('/responded'))).toBe(true);
    expect(report.failed).toHaveLength(report.probes.length);
    expect(report.probes[0]!.checks[0]!.detail).toMatch(/ECONNREFUSED/);
  });
});
