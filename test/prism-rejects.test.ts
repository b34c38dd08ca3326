// Prism, built from openapi.yaml, refuses every request the spec forbids. Prism answers
// with the spec's own example for the status, so these tests assert the status and the
// finding Prism reports in `sl-violations`, not the example's text.
import { describe, expect, inject, it } from 'vitest';

const url = `${inject('prismUrl')}/v1/openapi/token/refresh`;
const valid = {
  headers: {
    Authorization: 'mock-access-token',
    'Account-Channel': 'lb',
    'Content-Type': 'application/json; charset=utf-8',
  } as Record<string, string>,
  body: JSON.stringify({ expired_at: '2099-04-14T12:13:57.859Z', aaid: '20001' }),
};

interface Change {
  drop?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

async function send(change: Change) {
  const headers = { ...valid.headers, ...change.headers };
  if (change.drop) delete headers[change.drop];
  const body = change.body === undefined ? valid.body : JSON.stringify(change.body);
  const response = await fetch(url, { method: 'POST', headers, body });
  const violations = JSON.parse(response.headers.get('sl-violations') ?? '[]') as Array<{
    location: string[];
    code: string | number;
    message: string;
  }>;
  return { status: response.status, violations, body: (await response.json()) as { code: number; data: unknown } };
}

describe('the Prism mock', () => {
  it('accepts the valid request with no violations', async () => {
    const { status, violations, body } = await send({});
    expect(status).toBe(200);
    expect(violations).toEqual([]);
    expect(body.code).toBe(0);
  });

  it.each<{ case: string; change: Change; status: number; finding: Record<string, unknown> }>([
    {
      case: 'missing Authorization',
      change: { drop: 'Authorization' },
      status: 401,
      finding: { code: 401, message: expect.stringMatching(/security/i) },
    },
    {
      case: 'missing Account-Channel',
      change: { drop: 'Account-Channel' },
      status: 400,
      finding: { code: 'required', message: expect.stringContaining('account-channel') },
    },
    {
      case: 'unknown channel',
      change: { headers: { 'Account-Channel': 'hk' } },
      status: 400,
      finding: { location: ['request', 'header', 'account-channel'], code: 'enum' },
    },
    {
      case: 'non-date expired_at',
      change: { body: { expired_at: 'next tuesday', aaid: '20001' } },
      status: 400,
      finding: { location: ['request', 'body', 'expired_at'], code: 'format' },
    },
    {
      case: 'missing aaid',
      change: { body: { expired_at: '2099-04-14T12:13:57.859Z' } },
      status: 400,
      finding: { code: 'required', message: expect.stringContaining('aaid') },
    },
    {
      case: 'empty aaid',
      change: { body: { expired_at: '2099-04-14T12:13:57.859Z', aaid: '' } },
      status: 400,
      finding: { location: ['request', 'body', 'aaid'], code: 'minLength' },
    },
    {
      case: 'extra body field',
      change: { body: { expired_at: '2099-04-14T12:13:57.859Z', aaid: '20001', member_id: '1' } },
      status: 400,
      finding: { code: 'additionalProperties', message: expect.stringContaining('member_id') },
    },
    {
      case: 'wrong content type',
      change: { headers: { 'Content-Type': 'text/plain' } },
      status: 400,
      finding: { code: 415 },
    },
  ])('refuses $case', async ({ change, status, finding }) => {
    const result = await send(change);
    expect(result.status).toBe(status);
    expect(result.violations).toContainEqual(expect.objectContaining(finding));
    expect(result.body.data).toBeNull();
  });
});
