// What the client puts on the wire, byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenClient } from '../src/index.js';
import { reply, startLoopbackServer, successEnvelope, type LoopbackServer } from './helpers/loopback-server.js';

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer(reply(200, successEnvelope));
});
afterAll(() => server.close());

describe('the request refreshToken sends', () => {
  it('is exactly the method, path, three headers and body the spec defines', async () => {
    const client = createTokenClient({ accessToken: 'ACCESSTOKEN', accountChannel: 'pspl_sg', baseUrl: server.url });
    await client.refreshToken({ aaid: '20001', expiredAt: new Date('2099-04-14T12:13:57.859Z') });

    const request = server.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v1/openapi/token/refresh');
    expect(request.headers.authorization).toBe('ACCESSTOKEN');
    expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(request.headers['account-channel']).toBe('pspl_sg');
    expect(request.body.toString('utf8')).toBe('{"aaid":"20001","expired_at":"2099-04-14T12:13:57.859Z"}');
    expect(request.headers['content-length']).toBe(String(request.body.length));
  });

  it('sends expiredAt in UTC whatever offset the caller wrote', async () => {
    const client = createTokenClient({ accessToken: 'ACCESSTOKEN', accountChannel: 'lb', baseUrl: server.url });
    await client.refreshToken({ aaid: '20001', expiredAt: '2099-04-14T20:13:57.859+08:00' });
    expect(JSON.parse(server.requests.at(-1)!.body.toString()).expired_at).toBe('2099-04-14T12:13:57.859Z');
  });

  it('keeps a base path of baseUrl in front of the endpoint path', async () => {
    const client = createTokenClient({ accessToken: 'T', accountChannel: 'lb', baseUrl: `${server.url}/gateway/` });
    await client.refreshToken({ aaid: '20001', expiredAt: '2099-01-01T00:00:00Z' });
    expect(server.requests.at(-1)!.url).toBe('/gateway/v1/openapi/token/refresh');
  });
});
