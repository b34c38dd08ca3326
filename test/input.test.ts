// Bad input is refused with an error naming the field and the fix, and nothing is sent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenClient, InvalidInputError, TokenManager } from '../src/index.js';
import { NOW, recordingClient } from './helpers/recording-client.js';

const countingClient = (extra: Record<string, unknown> = {}) => recordingClient(extra, () => new Response('{}'));

describe('refreshToken input', () => {
  it.each([
    { expiredAt: '2026-11-24T00:00:00Z', field: 'expiredAt', says: 'must be in the future' },
    { expiredAt: new Date(NOW), field: 'expiredAt', says: 'must be in the future' },
    { expiredAt: new Date('nope'), field: 'expiredAt', says: 'invalid Date' },
    { expiredAt: '2099-02-30T00:00:00Z', field: 'expiredAt', says: 'ISO 8601' },
    { expiredAt: '2099-01-01', field: 'expiredAt', says: 'with a time zone' },
    { expiredAt: '2099-01-01T00:00:00', field: 'expiredAt', says: 'with a time zone' },
    { expiredAt: 'January 1, 2099', field: 'expiredAt', says: 'ISO 8601' },
    { expiredAt: 4_070_908_800_000, field: 'expiredAt', says: 'got number' },
    { expiredAt: undefined, field: 'expiredAt', says: 'got undefined' },
  ])('refuses expiredAt $expiredAt', async ({ expiredAt, field, says }) => {
    const { client, sent } = countingClient();
    const call = client.refreshToken({ aaid: '20001', expiredAt: expiredAt as string });
    await expect(call).rejects.toBeInstanceOf(InvalidInputError);
    await expect(call).rejects.toMatchObject({ field, message: expect.stringContaining(says) });
    expect(sent).toHaveLength(0);
  });

  it.each([
    { aaid: '', says: 'non-empty' },
    { aaid: '   ', says: 'non-empty' },
    { aaid: ' 20001', says: 'white space' },
    { aaid: 20001, says: 'got number' },
    { aaid: null, says: 'got null' },
  ])('refuses aaid $aaid', async ({ aaid, says }) => {
    const { client, sent } = countingClient();
    const call = client.refreshToken({ aaid: aaid as string, expiredAt: '2099-01-01T00:00:00Z' });
    await expect(call).rejects.toMatchObject({ name: 'InvalidInputError', field: 'aaid', message: expect.stringContaining(says) });
    expect(sent).toHaveLength(0);
  });

  it('property: any aaid that is not a trimmed non-empty string is refused before sending', async () => {
    const { client, sent } = countingClient();
    const badAaid = fc.oneof(
      fc.constantFrom('', ' ', '\t', '\n'),
      fc.string({ minLength: 1 }).map((s) => ` ${s}`),
      fc.anything().filter((v) => typeof v !== 'string'),
    );
    await fc.assert(
      fc.asyncProperty(badAaid, async (aaid) => {
        await expect(client.refreshToken({ aaid: aaid as string, expiredAt: '2099-01-01T00:00:00Z' })).rejects.toMatchObject({
          field: 'aaid',
        });
      }),
      { numRuns: 200 },
    );
    expect(sent).toHaveLength(0);
  });

  it('property: any instant at or before now is refused; any later one is sent as UTC ISO 8601', async () => {
    const { client, sent } = countingClient();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -8.64e15, max: NOW }), async (ms) => {
        await expect(client.refreshToken({ aaid: '1', expiredAt: new Date(ms) })).rejects.toMatchObject({ field: 'expiredAt' });
      }),
      { numRuns: 200 },
    );
    expect(sent).toHaveLength(0);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: NOW + 1, max: 8.64e15 }), async (ms) => {
        await client.refreshToken({ aaid: '1', expiredAt: new Date(ms) }).catch(() => undefined);
        const body = JSON.parse(sent.at(-1)!.body) as { expired_at: string };
        expect(body.expired_at).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 100 },
    );
  });

  it('property: any string that is not an RFC 3339 date-time is refused', async () => {
    const { client, sent } = countingClient();
    const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
    await fc.assert(
      fc.asyncProperty(
        fc.string().filter((s) => !rfc3339.test(s)),
        async (text) => {
          await expect(client.refreshToken({ aaid: '1', expiredAt: text })).rejects.toMatchObject({ field: 'expiredAt' });
        },
      ),
      { numRuns: 300 },
    );
    expect(sent).toHaveLength(0);
  });
});

describe('createTokenClient options', () => {
  it.each([
    { options: { accessToken: '' }, field: 'accessToken', says: 'non-empty' },
    { options: { accessToken: 'Bearer abc' }, field: 'accessToken', says: 'remove the "Bearer " prefix' },
    { options: { accessToken: 'abc\r\nX-Evil: 1' }, field: 'accessToken', says: 'line breaks' },
    { options: { accountChannel: 'hk' }, field: 'accountChannel', says: 'must be one of "lb", "pspl_sg", got "hk"' },
    { options: { baseUrl: 'http://openapi.longbridge.com' }, field: 'baseUrl', says: 'must use https' },
    { options: { baseUrl: 'openapi.longbridge.com' }, field: 'baseUrl', says: 'absolute URL' },
    { options: { baseUrl: 'https://user:pw@openapi.longbridge.com' }, field: 'baseUrl', says: 'credentials' },
    { options: { timeoutMs: 0 }, field: 'timeoutMs', says: 'whole number' },
    { options: { timeoutMs: 1.5 }, field: 'timeoutMs', says: 'whole number' },
    { options: { fetch: 'curl' }, field: 'fetch', says: 'fetch function' },
  ])('refuses $field: $says', ({ options, field, says }) => {
    const create = () => createTokenClient({ accessToken: 'T', accountChannel: 'lb', ...options } as never);
    expect(create).toThrow(InvalidInputError);
    expect(create).toThrow(expect.objectContaining({ field, message: expect.stringContaining(says) }));
  });

  it.each([
    { field: 'accessToken', options: { accessToken: 'tok€n-1234567890' } },
    { field: 'appKey', options: { appKey: 'key-中文', appSecret: 'secret' } },
    { field: 'appSecret', options: { appKey: 'key', appSecret: 'secret-🔑' } },
  ])('refuses $field with a character above U+00FF (fetch cannot put it in a header), before anything is sent', ({ field, options }) => {
    let calls = 0;
    const fetch = (async () => (calls++, new Response('{}'))) as typeof globalThis.fetch;
    const create = () => createTokenClient({ accessToken: 'T', accountChannel: 'lb', fetch, ...options });
    expect(create).toThrow(InvalidInputError);
    expect(create).toThrow(expect.objectContaining({ field, message: expect.stringContaining('U+00FF') }));
    expect(calls).toBe(0);
  });

  it('TokenManager refuses such an initial token by the same check', () => {
    const create = () => new TokenManager({ refresh: async () => ({ token: 'x', expiresAt: NOW }), initial: { token: 'tok€n', expiresAt: NOW + 1 } });
    expect(create).toThrow(expect.objectContaining({ name: 'InvalidInputError', field: 'initial.token' }));
  });

  it('accepts a Latin-1 character in a credential: fetch sends it as one byte', async () => {
    const { client, sent } = countingClient({ accessToken: 'tokén' });
    await client.refreshAccessToken().catch(() => undefined);
    expect(sent).toHaveLength(1);
  });

  it('never echoes the access token in its complaints', () => {
    const create = () => createTokenClient({ accessToken: 'Bearer SECRET-123', accountChannel: 'lb' });
    expect(create).toThrow(expect.objectContaining({ message: expect.not.stringContaining('SECRET-123') }));
  });

  it.each(['http://127.0.0.1:4010', 'http://localhost:4010', 'http://[::1]:4010', 'https://openapi.longbridge.cn'])(
    'accepts baseUrl %s',
    (baseUrl) => {
      expect(() => createTokenClient({ accessToken: 'T', accountChannel: 'lb', baseUrl })).not.toThrow();
    },
  );
});
