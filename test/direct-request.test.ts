// refreshToken and refreshAccessToken build their request themselves when no middleware is
// registered (src/client/client.ts, `direct`), and through openapi-fetch when some is. Both
// ways must put the same bytes on the wire and read every reply alike: this file proves it
// by sending each call both ways, with the same clock, to a server that records what arrives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createTokenClient, InvalidResponseError, type TokenClient } from '../src/index.js';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest } from './helpers/loopback-server.js';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const keys = { appKey: 'APPKEY-direct', appSecret: 'APPSECRET-direct' };
const success = JSON.stringify({
  code: 0,
  message: 'success',
  data: {
    token: 'm_next-token',
    expired_at: '2027-02-24T12:00:00.000Z',
    issued_at: '2026-11-26T12:00:00.000Z',
    account_info: { member_id: '10086', aaid: '20001', account_channel: 'lb' },
  },
});

let server: LoopbackServer & { setHandler(h: Parameters<typeof startLoopbackServer>[0]): void };
beforeAll(async () => {
  server = await startLoopbackServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(success);
  });
});
afterAll(() => server?.close());

/** Two clients alike but for a no-op middleware on the second (which sends through openapi-fetch). */
function pair(signed: boolean): [direct: TokenClient, viaOpenapiFetch: TokenClient] {
  const options = { accessToken: 'TOKEN-direct-0001', accountChannel: 'lb' as const, baseUrl: server.url, now: () => NOW, ...(signed ? keys : {}) };
  const viaOpenapiFetch = createTokenClient(options);
  viaOpenapiFetch.api.use({ onRequest: () => undefined });
  return [createTokenClient(options), viaOpenapiFetch];
}

/** What arrived, as the server saw it: method, URL, every header (names as sent, in order) and body. */
async function sent(call: () => Promise<unknown>): Promise<Omit<RecordedRequest, 'headers'>> {
  const before = server.requests.length;
  await call().catch(() => undefined);
  expect(server.requests.length).toBe(before + 1);
  const { method, url, rawHeaders, body } = server.requests.at(-1)!;
  return { method, url, rawHeaders, body };
}

describe.each([
  ['unsigned', false],
  ['signed', true],
])('%s, without middleware and through openapi-fetch', (_label, signed) => {
  it('refreshToken (POST) sends the same bytes both ways', async () => {
    const [direct, viaOpenapiFetch] = pair(signed);
    const input = { aaid: '账户-20001', expiredAt: '2027-02-24T12:00:00+08:00' };
    const a = await sent(() => direct.refreshToken(input));
    const b = await sent(() => viaOpenapiFetch.refreshToken(input));
    expect(a).toEqual(b);
    expect(a.rawHeaders).toContain('Account-Channel');
  });

  it('refreshAccessToken (GET) sends the same bytes both ways, the query encoded alike', async () => {
    const [direct, viaOpenapiFetch] = pair(signed);
    const input = { expiredAt: '2027-02-24T12:00:00.5+08:00' };
    const a = await sent(() => direct.refreshAccessToken(input));
    const b = await sent(() => viaOpenapiFetch.refreshAccessToken(input));
    expect(a).toEqual(b);
    expect(a.url).toBe('/v1/token/refresh?expired_at=2027-02-24T04%3A00%3A00.500Z');
    expect(a.body.length).toBe(0);
  });
});

describe('both ways read a reply alike', () => {
  const replies: Array<[string, number, string]> = [
    ['a success', 200, success],
    ['an error envelope on 401', 401, JSON.stringify({ code: 401004, message: 'token invalid' })],
    ['an error envelope on 200', 200, JSON.stringify({ code: 403201, msg: 'signature invalid' })],
    ['a body that is not JSON on 502', 502, '<html>bad gateway</html>'],
    ['an empty body on 500', 500, ''],
    ['a JSON string holding an envelope on 400', 400, JSON.stringify(JSON.stringify({ code: 0, data: { token: 't' } }))],
  ];

  it.each(replies)('%s', async (_label, status, body) => {
    server.setHandler((_request, response) => {
      response.writeHead(status, { 'Content-Type': 'application/json' }).end(body);
    });
    try {
      const outcome = (call: Promise<unknown>) =>
        call.then(
          (data) => ({ data }),
          (error: unknown) => ({ error: { name: (error as Error).name, message: (error as Error).message, code: (error as ApiError).code, reason: (error as InvalidResponseError).reason } }),
        );
      const [direct, viaOpenapiFetch] = pair(false);
      const input = { aaid: '20001', expiredAt: '2027-02-24T12:00:00Z' };
      const a = await outcome(direct.refreshToken(input));
      expect(a).toEqual(await outcome(viaOpenapiFetch.refreshToken(input)));
      expect(await outcome(direct.refreshAccessToken())).toEqual(a);
    } finally {
      server.setHandler((_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/json' }).end(success);
      });
    }
  });
});

it('a fetch given as an option gets the URL and an init whose body is the JSON text', async () => {
  const seen: Array<{ url: unknown; body: unknown; method: unknown }> = [];
  const client = createTokenClient({
    accessToken: 'TOKEN-direct-0001',
    accountChannel: 'lb',
    baseUrl: 'http://127.0.0.1:9',
    now: () => NOW,
    fetch: (async (url: unknown, init: RequestInit) => {
      seen.push({ url, body: init.body, method: init.method });
      return new Response(success, { headers: { 'Content-Type': 'application/json' } });
    }) as typeof fetch,
  });
  await client.refreshToken({ aaid: '20001', expiredAt: '2027-02-24T12:00:00Z' });
  expect(seen).toEqual([
    { url: 'http://127.0.0.1:9/v1/openapi/token/refresh', method: 'POST', body: '{"aaid":"20001","expired_at":"2027-02-24T12:00:00.000Z"}' },
  ]);
});
