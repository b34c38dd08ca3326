// The contract suite catches every planted defect of the loopback fixture server, one
// defect at a time, and names it: the checks that fail and the spec rule each broke.
// A defect the suite misses (or a check that fails for another reason) fails this test.
import { afterEach, describe, expect, it } from 'vitest';
import { renderJson, renderText } from '../src/contract/report.js';
import { runContractSuite, type ContractOptions, type ContractReport } from '../src/contract/run.js';
import { DEFECTS, startContractFixture, type DefectName, type FixtureServer } from './fixtures/contract-defect-server.js';

const ACCESS_TOKEN = 'fixture-access-token-0123456789';
const APP = { appKey: 'fixture-app-key', appSecret: 'fixture-app-secret-0123456789' };
const GET = 'refreshAccessToken';
const POST = 'refreshToken';
const VALID_GET = `${GET}/valid-refresh`;
const VALID_POST = `${POST}/valid-refresh-lb`;

let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A clock that moves only when the suite waits, so signed runs need no real second per request. */
function fakeClock(): Pick<ContractOptions, 'now' | 'sleep'> {
  let t = Date.now();
  return { now: () => t, sleep: async (ms) => void (t += ms) };
}

async function runAgainst(fixture: Parameters<typeof startContractFixture>[0], options: Partial<ContractOptions> = {}): Promise<ContractReport> {
  server = await startContractFixture(fixture);
  return runContractSuite({ baseUrl: server.url, accessToken: ACCESS_TOKEN, timeoutMs: 5_000, ...fakeClock(), ...options });
}

const REFUSAL = ['refused', 'no-token', 'error-envelope'];
const refusals = (...probes: string[]) => probes.flatMap((probe) => REFUSAL.map((check) => `${probe}/${check}`));
const DATES = ['lenient-date', 'date-only', 'no-zone', 'impossible-date', 'epoch-seconds'].map((label) => `${label}-expired_at`);
const GET_BODYLESS = ['missing-expired_at', ...DATES].map((p) => `${GET}/${p}`);
const POST_BODY = ['missing-expired_at', ...DATES, 'missing-aaid', 'empty-aaid', 'number-aaid', 'extra-field'].map((p) => `${POST}/${p}`);
const GET_ERRORS = [`${GET}/missing-authorization`, `${GET}/empty-authorization`, ...GET_BODYLESS];
const POST_ERRORS = [
  ...['missing-authorization', 'empty-authorization', 'missing-account-channel', 'unknown-account-channel', 'uppercase-account-channel'].map((p) => `${POST}/${p}`),
  ...POST_BODY,
  `${POST}/wrong-content-type`,
];
const POST_RESPONSES = '#/paths/~1v1~1openapi~1token~1refresh/post/responses';

interface Expected {
  /** Exactly these checks fail (or, with `partial`, at least these). */
  fails: string[];
  partial?: boolean;
  warns?: string[];
  rule: { location: string; message?: RegExp };
  /** A line the text report must print. */
  prints?: RegExp;
  options?: Partial<ContractOptions>;
  fixture?: { appSecret?: string };
}

const SIGNED = { options: { sign: APP }, fixture: { appSecret: APP.appSecret } };

/** For each defect: which checks fail, and a spec rule (location and message) that must be named. */
const EXPECTED: Record<DefectName, Expected> = {
  'message-key-missing': {
    fails: [`${VALID_GET}/success-body`, `${VALID_POST}/success-body`],
    rule: { location: '#/components/schemas/RefreshTokenSuccess/anyOf' },
  },
  'code-as-string': {
    fails: [`${VALID_GET}/success-body`, `${VALID_POST}/success-body`],
    rule: { location: '#/components/schemas/SuccessFields/properties/code/type', message: /integer/ },
  },
  'error-code-as-string': {
    fails: [...GET_ERRORS, ...POST_ERRORS].map((probe) => `${probe}/error-envelope`),
    warns: [`${POST}/body-not-json/error-envelope`],
    rule: { location: '#/components/schemas/ErrorFields/properties/code/type', message: /integer/ },
  },
  'token-missing': {
    fails: [`${VALID_GET}/success-body`, `${VALID_POST}/success-body`],
    rule: { location: '#/components/schemas/RefreshTokenData/required', message: /'token'/ },
  },
  'account-info-incomplete': {
    fails: [`${VALID_GET}/success-body`, `${VALID_POST}/success-body`],
    rule: { location: '#/components/schemas/AccountInfo/required', message: /'member_id'/ },
  },
  'expired-at-not-date-time': {
    fails: [`${VALID_GET}/success-body`, `${VALID_POST}/success-body`],
    rule: { location: '#/components/schemas/RefreshTokenData/properties/expired_at/format', message: /date-time/ },
  },
  'token-for-unknown-channel': {
    fails: refusals(`${POST}/unknown-account-channel`, `${POST}/uppercase-account-channel`),
    rule: { location: '#/components/schemas/AccountChannel/enum' },
  },
  'token-without-authorization': {
    fails: refusals(`${GET}/missing-authorization`, `${GET}/empty-authorization`, `${POST}/missing-authorization`, `${POST}/empty-authorization`),
    rule: { location: '#/components/securitySchemes/AccessToken' },
  },
  'html-500': {
    fails: [VALID_GET, VALID_POST].flatMap((probe) => ['content-type', 'success-status', 'success-body'].map((check) => `${probe}/${check}`)),
    rule: { location: '#/components/responses/InternalError/content', message: /text\/html/ },
    prints: /^ {4}<body not shown: \d+ bytes, Content-Type text\/html, sha256 [0-9a-f]{16}…; the body is not JSON>$/m,
  },
  'json-as-text-plain': {
    fails: [`${VALID_GET}/content-type`, `${VALID_POST}/content-type`],
    rule: { location: `${POST_RESPONSES}/200/content`, message: /text\/plain/ },
  },
  'undeclared-status-422': {
    fails: [...GET_BODYLESS, ...POST_BODY].map((probe) => `${probe}/declared-status`),
    rule: { location: POST_RESPONSES, message: /not 422/ },
  },
  'wrong-account-channel': {
    fails: [`${VALID_POST}/channel-echoed`],
    rule: { location: '#/paths/~1v1~1openapi~1token~1refresh/post/x-semantics/1', message: /Account-Channel/ },
    prints: /^ {2}FAIL {2}refreshToken\/valid-refresh-lb\/channel-echoed +sent "lb", got \/data\/account_info\/account_channel "pspl_sg"$/m,
  },
  'accepts-extra-field': {
    fails: refusals(`${POST}/extra-field`),
    rule: { location: '#/components/schemas/RefreshTokenRequest/additionalProperties' },
  },
  'get-404': {
    fails: [`${VALID_GET}/declared-status`, `${VALID_GET}/success-status`, ...GET_ERRORS.map((probe) => `${probe}/declared-status`)],
    rule: { location: '#/paths/~1v1~1token~1refresh/get/responses', message: /not 404/ },
    prints: /FAIL {2}refreshAccessToken\/valid-refresh\/success-status +a valid refresh was refused with 404000, HTTP 404/,
  },
  'aaid-not-echoed': {
    fails: [`${VALID_POST}/aaid-echoed`],
    rule: { location: '#/paths/~1v1~1openapi~1token~1refresh/post/x-semantics/0', message: /\/aaid/ },
    prints: /sent "20001", got \/data\/account_info\/aaid "99999"/,
  },
  'same-token': {
    fails: [`${VALID_GET}/new-token`, `${VALID_POST}/new-token`],
    rule: { location: '#/paths/~1v1~1token~1refresh/get/x-semantics/0', message: /must differ from the Authorization sent/ },
    prints: /\/data\/token is the very token sent in the Authorization sent: nothing was refreshed/,
  },
  'issued-after-expiry': {
    fails: [`${VALID_GET}/issued-before-expiry`, `${VALID_POST}/issued-before-expiry`],
    rule: { location: '#/paths/~1v1~1token~1refresh/get/x-semantics/1', message: /must not be later than \/data\/expired_at/ },
  },
  'expiry-far-off': {
    fails: [`${VALID_GET}/expiry-as-requested`, `${VALID_POST}/expiry-as-requested`],
    options: { strict: true },
    rule: { location: '#/paths/~1v1~1openapi~1token~1refresh/post/x-semantics/4', message: /within 5 min/ },
    prints: /is 1 d after the "[^"]+" asked for \(tolerance 5 min\)/,
  },
  'empty-authorization-accepted': {
    fails: refusals(`${GET}/empty-authorization`, `${POST}/empty-authorization`),
    rule: { location: '#/components/securitySchemes/AccessToken' },
  },
  'channel-case-insensitive': {
    fails: refusals(`${POST}/uppercase-account-channel`),
    rule: { location: '#/components/schemas/AccountChannel/enum' },
  },
  'pspl-sg-refused': {
    fails: [`${POST}/valid-refresh-pspl_sg/success-status`],
    options: { channels: ['lb', 'pspl_sg'] },
    rule: { location: '#/info/x-error-codes', message: /code 400000/ },
  },
  'numeric-aaid-accepted': {
    fails: refusals(`${POST}/number-aaid`),
    rule: { location: '#/components/schemas/RefreshTokenRequest/properties/aaid/type' },
  },
  'lenient-date-accepted': {
    fails: refusals(`${GET}/lenient-date-expired_at`, `${POST}/lenient-date-expired_at`),
    partial: true,
    rule: { location: '#/components/schemas/RefreshTokenRequest/properties/expired_at/format' },
  },
  'signature-not-checked': {
    fails: refusals(`${GET}/unsigned`, `${GET}/bad-signature`, `${POST}/unsigned`, `${POST}/bad-signature`),
    ...SIGNED,
    rule: { location: '#/components/securitySchemes/Signature' },
  },
  'replay-accepted': {
    fails: refusals(`${GET}/replayed-refresh`, `${POST}/replayed-refresh`),
    ...SIGNED,
    rule: { location: '#/components/securitySchemes/Timestamp' },
  },
  'bom-body': {
    fails: [`${VALID_GET}/success-body`, `${VALID_POST}/success-body`],
    rule: { location: '#/components/schemas/RefreshTokenSuccess', message: /byte order mark/ },
    prints: /<body not shown: \d+ bytes, Content-Type application\/json, sha256 [0-9a-f]{16}…; the body starts with a UTF-8 byte order mark/,
  },
  'truncated-body': {
    // The refresh went through but its token could not be read: the next requests carry a dead token.
    fails: [`${VALID_GET}/success-body`, `${VALID_POST}/success-status`],
    partial: true,
    rule: { location: '#/components/schemas/RefreshTokenSuccess', message: /too large: over 1 MiB/ },
    prints: /refused with 401004 \(token-invalid\), HTTP 401: The token is malformed or was already replaced by a refresh/,
  },
  'all-redirect': {
    fails: [`${VALID_GET}/declared-status`, `${VALID_POST}/success-status`],
    partial: true,
    rule: { location: POST_RESPONSES, message: /not 301/ },
    prints: /^ {2}FAIL {2}every reply \(\d+ of \d+\) was a redirect \(HTTP 301 to https:\/\/elsewhere\.example\/v1\/token\/refresh\?expired_at=[^)]+\): the suite does not follow redirects; give the final URL as --base-url$/m,
  },
  'valid-refused-403201': {
    fails: [`${VALID_GET}/success-status`, `${VALID_POST}/success-status`],
    rule: { location: '#/info/x-error-codes/3', message: /code 403201 "signature invalid"/ },
    prints: /FAIL {2}refreshToken\/valid-refresh-lb\/success-status +a valid refresh was refused with 403201 \(signature-invalid\), HTTP 403: Check the app key and secret, the clock, and that the signed body bytes are the bytes sent\.$/m,
  },
};

describe('the contract suite against the loopback fixture', () => {
  it('passes every check when no defect is planted (the control), each refresh authorised by the token the previous one issued', async () => {
    const report = await runAgainst({});
    expect(report.failed).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.summary.skipped).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.operations.map((o) => o.operationId)).toEqual([GET, POST]); // the live form first
    expect(server!.issued).toHaveLength(2); // only the valid refreshes got a token
    const getRefresh = server!.requests.filter((r) => r.method === 'GET').at(-1); // the valid refresh is sent last
    const postRefresh = server!.requests.filter((r) => r.method === 'POST').at(-1);
    expect(getRefresh!.headers.authorization).toBe(ACCESS_TOKEN);
    expect(postRefresh!.headers.authorization).toBe(server!.issued[0]);
    expect(report.token).toEqual({ from: 'access-token', issued: 2 });
  });

  it('signed (--sign) against a server that verifies signatures: passes, every request but `unsigned` signed, each with its own X-Timestamp', async () => {
    const report = await runAgainst({ appSecret: APP.appSecret }, { sign: APP });
    expect(report.failed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.signed).toBe(true);
    const signed = server!.requests.filter((r) => r.headers['x-api-signature']);
    expect(server!.requests.length - signed.length).toBe(2); // the two `unsigned` probes
    const stamps = signed.map((r) => `${r.headers['x-timestamp']} ${r.headers['x-api-signature']}`);
    expect(new Set(stamps).size).toBe(stamps.length - 2); // only the two replays repeat one
    const printed = [renderText(report), renderJson(report)];
    for (const output of printed) {
      expect(output).not.toContain(APP.appSecret);
      for (const r of signed) expect(output).not.toContain(r.headers['x-api-signature']);
    }
  });

  it('without --sign nothing is signed', async () => {
    await runAgainst({});
    expect(server!.requests.length).toBeGreaterThan(20);
    for (const r of server!.requests) expect(Object.keys(r.headers).filter((h) => h.startsWith('x-api-'))).toEqual([]);
  });

  it.each(Object.keys(DEFECTS) as DefectName[])('catches and names the defect %s', async (defect) => {
    const expected = EXPECTED[defect];
    const report = await runAgainst({ defect, ...expected.fixture }, expected.options);
    expect(report.ok).toBe(false);
    if (expected.partial) expect(report.failed).toEqual(expect.arrayContaining(expected.fails));
    else expect([...report.failed].sort()).toEqual([...expected.fails].sort());
    if (!expected.partial) expect(report.warnings).toEqual(expected.warns ?? []);

    const failed = report.probes.flatMap((probe) => probe.checks).filter((check) => check.outcome === 'fail');
    const rules = failed.flatMap((check) => check.rules);
    expect(rules).toContainEqual(
      expect.objectContaining({ location: expected.rule.location, ...(expected.rule.message ? { message: expect.stringMatching(expected.rule.message) } : {}) }),
    );

    const text = renderText(report);
    if (expected.prints) expect(text).toMatch(expected.prints);
    if (!report.findings.some((f) => f.uniform)) {
      for (const id of expected.fails) expect(text).toMatch(new RegExp(`^  FAIL  ${id}\\b`, 'm'));
      expect(text).toContain(`spec rule ${expected.rule.location}`);
      expect(text).toMatch(/^ {2}request:\n {4}(GET|POST) http:\/\/127\.0\.0\.1:\d+\/v1\//m);
      expect(text).toMatch(/^ {2}response:\n {4}HTTP \d{3}$/m);
    }
    expect(text).toMatch(/^FAILED: /m);
    for (const output of [text, renderJson(report)]) {
      expect(output).not.toContain(ACCESS_TOKEN);
      for (const token of server!.issued) expect(output).not.toContain(token);
    }
  });
});

describe('semantic checks that only warn by default', () => {
  it('an expired_at a day off is a warning without --strict (so a static mock passes), a failure with it', async () => {
    const report = await runAgainst({ defect: 'expiry-far-off' });
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([`${VALID_GET}/expiry-as-requested`, `${VALID_POST}/expiry-as-requested`]);
  });

  it('--expiry-tolerance widens it', async () => {
    const report = await runAgainst({ defect: 'expiry-far-off' }, { expiryToleranceMs: 2 * 86_400_000, strict: true });
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([]);
  });
});

describe('findings a developer can act on', () => {
  it('every reply a redirect is one finding, not one per request', async () => {
    const report = await runAgainst({ defect: 'all-redirect' });
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ uniform: true, summary: expect.stringMatching(/^every reply \(\d+ of \d+\) was a redirect/) });
    expect(report.findings[0]!.checks).toEqual(report.failed);
    const text = renderText(report);
    expect(text.match(/^ {2}FAIL /gm)).toHaveLength(1);
    expect(text).not.toMatch(/^Failed:/m);
  });

  it('a server that requires a signature, run unsigned: one finding naming 403201, its kind and what to do', async () => {
    const report = await runAgainst({ appSecret: APP.appSecret });
    expect(report.findings).toEqual([
      expect.objectContaining({ uniform: true, summary: expect.stringMatching(/^every reply \(\d+ of \d+\) was refused with 403201 \(signature-invalid\): Check the app key/) }),
    ]);
  });

  it('an unreachable server: nothing more is sent after the first request, and the cause is one line', async () => {
    server = await startContractFixture({});
    const url = server.url;
    await server.close();
    server = undefined;
    const report = await runContractSuite({ baseUrl: url, accessToken: ACCESS_TOKEN, timeoutMs: 2_000 });
    expect(report.ok).toBe(false);
    expect(report.unreachable).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/);
    expect(report.probes).toHaveLength(1);
    expect(renderText(report)).toMatch(/^NOT RUN: cannot reach/m);
  });
});

describe('the report never shows a secret', () => {
  it('redacts the access token, even echoed by the server, and every issued token', async () => {
    // token-without-authorization makes the server issue tokens to the requests without one;
    // echoAuthorization puts the token received into every reply's message.
    const report = await runAgainst({ defect: 'token-without-authorization', echoAuthorization: true });
    expect(server!.issued.length).toBeGreaterThan(2);
    const printed = [renderText(report), renderJson(report)];
    for (const output of printed) {
      expect(output).not.toContain(ACCESS_TOKEN);
      for (const token of server!.issued) expect(output).not.toContain(token);
    }
    const probe = report.probes.find((p) => p.id === `${GET}/missing-authorization`)!;
    expect(probe.exchange.response?.body).toContain('"token":"<redacted>"');
    const valid = report.probes.find((p) => p.id === VALID_GET)!;
    expect(valid.exchange.request.headers.Authorization).toBe('<redacted>');
    expect(valid.exchange.response?.body).toContain('(Authorization: <redacted>)');
  });

  it.each(['bom-body', 'truncated-body'] as const)('a success body that does not parse (%s) is never printed: size, type and SHA-256 prefix instead', async (defect) => {
    const report = await runAgainst({ defect });
    const valid = report.probes.find((p) => p.id === VALID_GET)!;
    expect(valid.exchange.response).toMatchObject({ shown: false, body: expect.stringMatching(/^<body not shown: \d+ bytes/) });
    expect(server!.issued.length).toBeGreaterThan(0);
    for (const output of [renderText(report), renderJson(report)]) {
      for (const token of server!.issued) expect(output).not.toContain(token);
      expect(output).not.toContain('fixture-issued-token');
    }
  });
});
