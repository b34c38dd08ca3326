// The live form, GET /v1/token/refresh, and signed requests end to end.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTokenClient } from '../src/index.js';
import { expectedSignature } from './helpers/expected-signature.js';
import { reply, startLoopbackServer, successEnvelope, type LoopbackServer } from './helpers/loopback-server.js';

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer(reply(200, successEnvelope));
});
afterAll(() => server.close());

describe('refreshAccessToken (the live form)', () => {
  it('works against the Prism mock', async () => {
    const client = createTokenClient({ accessToken: 'mock-token', accountChannel: 'lb', baseUrl: inject('prismUrl') });
    const data = await client.refreshAccessToken({ expiredAt: '2099-01-01T00:00:00Z' });
    expect(data.token).toMatch(/\S/);
  });

  it('sends GET /v1/token/refresh?expired_at=… with no body and no Account-Channel', async () => {
    const client = createTokenClient({ accessToken: 'ACCESSTOKEN', accountChannel: 'lb', baseUrl: server.url });
    await client.refreshAccessToken({ expiredAt: new Date('2099-01-01T00:00:00Z') });
    const request = server.requests.at(-1)!;
    expect(request.method).toBe('GET');
    expect(request.url).toBe('/v1/token/refresh?expired_at=2099-01-01T00%3A00%3A00.000Z');
    expect(request.body.length).toBe(0);
    expect(request.headers['account-channel']).toBeUndefined();
    expect(request.headers.authorization).toBe('ACCESSTOKEN');
  });

  it('defaults expired_at to now + 90 days, as the official SDKs', async () => {
    const now = Date.parse('2026-11-25T10:00:00Z');
    const client = createTokenClient({ accessToken: 'T', accountChannel: 'lb', baseUrl: server.url, now: () => now });
    await client.refreshAccessToken();
    const sent = new URL(server.requests.at(-1)!.url, server.url).searchParams.get('expired_at');
    expect(sent).toBe('2027-02-23T10:00:00.000Z');
  });
});

describe('signed requests', () => {
  const keys = { accessToken: 'ACCESSTOKEN', appKey: 'APPKEY', appSecret: 'APPSECRET' };

  it('reproduce the official GET vector through the client, clock injected', async () => {
    const client = createTokenClient({ ...keys, accountChannel: 'lb', baseUrl: server.url, now: () => 1795635898_000 });
    server.requests.length = 0;
    // The vector's query is expired_at=2027-01-01T00%3A00%3A00Z: sent through client.api to keep that exact string.
    await client.api.GET('/v1/token/refresh', { params: { query: { expired_at: '2027-01-01T00:00:00Z' } } });
    const request = server.requests[0]!;
    expect(request.url).toBe('/v1/token/refresh?expired_at=2027-01-01T00%3A00%3A00Z');
    expect(request.headers['x-timestamp']).toBe('1795635898');
    expect(request.headers['x-api-signature']).toBe(
      'HMAC-SHA256 SignedHeaders=authorization;x-api-key;x-timestamp, Signature=7d47b6dc9ea737ca6e856fffa29750d518df5bede19d1045833bea23ebc48402',
    );
  });

  it('sign the exact body bytes that arrive (checked by an independent implementation)', async () => {
    const client = createTokenClient({ ...keys, accountChannel: 'pspl_sg', baseUrl: server.url });
    await client.refreshToken({ aaid: '账户-20001', expiredAt: '2099-04-14T12:13:57.859Z' });
    const request = server.requests.at(-1)!;
    expect(request.headers['x-api-key']).toBe('APPKEY');
    expect(Math.abs(Number(request.headers['x-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    const signature = String(request.headers['x-api-signature']).split('Signature=')[1];
    expect(signature).toBe(expectedSignature(request, keys.accessToken, keys.appKey, keys.appSecret));
  });

  it('are accepted by the Prism mock under the signed security alternative', async () => {
    const client = createTokenClient({ ...keys, accountChannel: 'lb', baseUrl: inject('prismUrl') });
    const { response } = await client.api.POST('/v1/openapi/token/refresh', {
      params: { header: { 'Account-Channel': 'lb' } },
      body: { aaid: '20001', expired_at: '2099-01-01T00:00:00Z' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('sl-violations')).toBeNull();
  });

  it('need both appKey and appSecret', () => {
    expect(() => createTokenClient({ accessToken: 'T', accountChannel: 'lb', appKey: 'K' })).toThrow(
      expect.objectContaining({ field: 'appSecret', message: expect.stringContaining('both appKey and appSecret') }),
    );
  });

  it('unsigned requests carry no signing headers', async () => {
    const client = createTokenClient({ accessToken: 'T', accountChannel: 'lb', baseUrl: server.url });
    await client.refreshToken({ aaid: '1', expiredAt: '2099-01-01T00:00:00Z' });
    const headers = server.requests.at(-1)!.headers;
    expect(Object.keys(headers).filter((h) => h.startsWith('x-api') || h === 'x-timestamp')).toEqual([]);
  });
});
