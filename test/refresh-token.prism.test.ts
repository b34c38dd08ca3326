// The happy path against the Prism mock built from openapi.yaml.
import { describe, expect, inject, it } from 'vitest';
import { createTokenClient } from '../src/index.js';
import { createSpecValidator } from '../src/contract/spec-validator.js';

const baseUrl = inject('prismUrl');
const validator = createSpecValidator();
const inOneYear = () => new Date(Date.now() + 365 * 24 * 3600 * 1000);

describe('refreshToken against the Prism mock', () => {
  it('resolves with data that is valid against the spec', async () => {
    const client = createTokenClient({ accessToken: 'mock-access-token', accountChannel: 'lb', baseUrl });
    const data = await client.refreshToken({ aaid: '20001', expiredAt: inOneYear() });
    expect(data.token).toMatch(/\S/);
    expect(data.account_info.account_channel).toBe('lb');
    expect(validator.validate('#/components/schemas/RefreshTokenData', data).errors).toEqual([]);
  });

  it('accepts expiredAt as an ISO 8601 string with an offset', async () => {
    const client = createTokenClient({ accessToken: 'mock-access-token', accountChannel: 'pspl_sg', baseUrl });
    const data = await client.refreshToken({ aaid: '20001', expiredAt: '2099-01-01T08:00:00+08:00' });
    expect(typeof data.expired_at).toBe('string');
  });

  it('turns the mock 401 into an ApiError carrying code, message and status', async () => {
    const client = createTokenClient({ accessToken: 'mock-access-token', accountChannel: 'lb', baseUrl });
    // Drop Authorization: Prism answers with the spec's 401 example.
    client.api.use({ onRequest: ({ request }) => (request.headers.delete('Authorization'), request) });
    await expect(client.refreshToken({ aaid: '20001', expiredAt: inOneYear() })).rejects.toMatchObject({
      name: 'ApiError',
      code: 401003,
      message: expect.stringContaining('token expired'),
      status: 401,
    });
  });
});

describe('client.api, the typed openapi-fetch client', () => {
  it('sends Authorization and Content-Type for the caller and returns the envelope', async () => {
    const client = createTokenClient({ accessToken: 'mock-access-token', accountChannel: 'lb', baseUrl });
    const { data, error, response } = await client.api.POST('/v1/openapi/token/refresh', {
      params: { header: { 'Account-Channel': 'lb' } },
      body: { aaid: '20001', expired_at: inOneYear().toISOString() },
    });
    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(data && 'data' in data && data.code === 0 ? data.data?.token : undefined).toMatch(/\S/);
    expect(response.headers.get('sl-violations')).toBeNull();
  });

  it('exposes a declared error response as typed `error`', async () => {
    const client = createTokenClient({ accessToken: 'mock-access-token', accountChannel: 'lb', baseUrl });
    const { data, error, response } = await client.api.POST('/v1/openapi/token/refresh', {
      params: { header: { 'Account-Channel': 'lb' } },
      body: { aaid: '', expired_at: inOneYear().toISOString() },
    });
    expect(data).toBeUndefined();
    expect(response.status).toBe(400);
    expect(error?.code).not.toBe(0);
    // openapi-fetch's Readable<> drops properties typed exactly `null`, so `data` is read untyped.
    expect((error as { data?: unknown } | undefined)?.data).toBeNull();
  });
});
