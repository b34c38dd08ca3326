// The contract suite passes against the Prism mock built from openapi.yaml with its default
// settings, and its probes cover every malformed request the issues name, for both operations.
import { describe, expect, inject, it } from 'vitest';
import { runContractSuite } from '../src/contract/run.js';

const baseUrl = inject('prismUrl');
const GET = 'refreshAccessToken';
const POST = 'refreshToken';
/** The mock answers its static examples, whose expired_at is not the one asked for. */
const EXPECTED_WARNINGS = [`${GET}/valid-refresh/expiry-as-requested`, `${POST}/valid-refresh-lb/expiry-as-requested`, `${POST}/body-not-json/error-envelope`];

describe('the contract suite against the Prism mock', () => {
  it('passes, with the documented warnings: the static expired_at, and Prism’s own body for a body that is not JSON', async () => {
    const report = await runContractSuite({ baseUrl, accessToken: 'mock-access-token' });
    expect(report.failed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual(EXPECTED_WARNINGS);
    const notJson = report.probes.find((probe) => probe.id === `${POST}/body-not-json`)!;
    expect(notJson.exchange.response?.status).toBe(400);
    expect(notJson.exchange.response?.body).toContain('invalid_json');
    expect(report.summary).toMatchObject({ failed: 0, warnings: 3, skipped: 0 });
    expect(report.summary.passed).toBe(report.summary.checks - 3);
  });

  it('sends, for each operation (the live form first), the valid refresh and every malformed request the spec forbids', async () => {
    const report = await runContractSuite({ baseUrl, accessToken: 'mock-access-token' });
    const dates = ['lenient-date', 'date-only', 'no-zone', 'impossible-date', 'epoch-seconds'].map((label) => `${label}-expired_at`);
    expect(report.probes.map((probe) => probe.id)).toEqual([
      ...['valid-refresh', 'missing-authorization', 'empty-authorization', 'missing-expired_at', ...dates].map((name) => `${GET}/${name}`),
      ...[
        'valid-refresh-lb',
        'missing-authorization',
        'empty-authorization',
        'missing-account-channel',
        'unknown-account-channel',
        'uppercase-account-channel',
        'missing-expired_at',
        ...dates,
        'missing-aaid',
        'empty-aaid',
        'number-aaid',
        'extra-field',
        'wrong-content-type',
        'body-not-json',
      ].map((name) => `${POST}/${name}`),
    ]);
    for (const probe of report.probes) {
      const semantics = probe.operationId === GET ? ['new-token', 'issued-before-expiry', 'expiry-as-requested'] : ['aaid-echoed', 'channel-echoed', 'new-token', 'issued-before-expiry', 'expiry-as-requested'];
      expect(probe.checks.map((check) => check.check)).toEqual(
        probe.kind === 'valid'
          ? ['responded', 'declared-status', 'content-type', 'success-status', 'success-body', ...semantics]
          : ['responded', 'declared-status', 'content-type', 'refused', 'no-token', 'error-envelope'],
      );
      if (probe.kind === 'forbidden') expect(probe.breaks).toMatch(/^#\//);
    }
    const lenient = report.probes.find((probe) => probe.id === `${POST}/lenient-date-expired_at`)!;
    expect(lenient.exchange.request.body).toMatch(/"expired_at":"[A-Z][a-z]+ \d{1,2}, \d{4}"/); // e.g. "April 1, 2030"
    const missingAuth = report.probes.find((probe) => probe.id === `${POST}/missing-authorization`)!;
    expect(Object.keys(missingAuth.exchange.request.headers)).not.toContain('Authorization');
    expect(missingAuth.exchange.response?.status).toBe(401);
    const emptyAuth = report.probes.find((probe) => probe.id === `${GET}/empty-authorization`)!;
    expect(emptyAuth.exchange.request.headers.Authorization).toBe('<redacted>');
    expect(emptyAuth.exchange.response?.status).toBe(401);
  });

  it('--operation picks one', async () => {
    const report = await runContractSuite({ baseUrl, accessToken: 'mock-access-token', operations: ['GET'] });
    expect(report.operations).toEqual([{ operationId: GET, method: 'GET', path: '/v1/token/refresh', liveForm: true }]);
    expect(report.probes.every((probe) => probe.operationId === GET)).toBe(true);
    await expect(runContractSuite({ baseUrl, accessToken: 't', operations: ['refresh'] })).rejects.toThrow(
      /--operation "refresh" names no single operation of the spec: refreshAccessToken \(GET\), refreshToken \(POST\)/,
    );
  });

  it('with --strict the warnings become failures', async () => {
    const report = await runContractSuite({ baseUrl, accessToken: 'mock-access-token', strict: true });
    expect(report.failed).toEqual(EXPECTED_WARNINGS);
    expect(report.ok).toBe(false);
  });

  it('reports a channel the mock cannot honour: Prism always answers its first example (lb), the same token each time', async () => {
    const report = await runContractSuite({ baseUrl, accessToken: 'mock-access-token', channels: ['lb', 'pspl_sg'] });
    expect(report.failed).toEqual([`${POST}/valid-refresh-pspl_sg/channel-echoed`, `${POST}/valid-refresh-pspl_sg/new-token`]);
  });

  it('refuses to run with a channel the spec does not allow', async () => {
    await expect(runContractSuite({ baseUrl, accessToken: 'mock-access-token', channels: ['hk'] })).rejects.toThrow(
      /channel must be one of lb, pspl_sg/,
    );
  });
});
