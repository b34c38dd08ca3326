// Errors carry what support needs: the reply's request id, read from the headers listed in
// REQUEST_ID_HEADERS (README, Errors), never from the body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createTokenClient, InvalidResponseError, REQUEST_ID_HEADERS } from '../src/index.js';
import { startLoopbackServer, type Handler, type LoopbackServer } from './helpers/loopback-server.js';
import { rejectionOf } from './helpers/views.js';

const TOKEN = 'TOKEN-for-request-ids-1234';
let server: LoopbackServer & { setHandler(h: Handler): void };
beforeAll(async () => {
  server = await startLoopbackServer(() => undefined);
});
afterAll(() => server.close());

const answer = (status: number, body: string, headers: Record<string, string>): Handler => (_request, response) => {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  response.end(body);
};
const apiError = JSON.stringify({ code: 401003, message: 'token expired', data: null, request_id: 'FROM-THE-BODY' });

async function failure(handler: Handler) {
  server.setHandler(handler);
  const client = createTokenClient({ accessToken: TOKEN, accountChannel: 'lb', baseUrl: server.url, retry: false });
  return rejectionOf(client.refreshAccessToken());
}

describe('requestId', () => {
  it('reads the documented headers, in order', () => {
    expect(REQUEST_ID_HEADERS).toEqual(['x-request-id', 'x-trace-id', 'request-id']);
  });

  it.each(REQUEST_ID_HEADERS.map((header) => [header]))('on ApiError, from %s, and named in the message', async (header) => {
    const error = await failure(answer(401, apiError, { [header]: 'req-7f3a9c' }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 401003, requestId: 'req-7f3a9c' });
    expect((error as ApiError).message).toBe('token expired (code 401003, HTTP 401, request id req-7f3a9c)');
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ requestId: 'req-7f3a9c' });
  });

  it('the first listed header wins when several are sent', async () => {
    const error = await failure(answer(500, apiError, { 'x-trace-id': 'trace-2', 'x-request-id': 'req-1' }));
    expect(error).toMatchObject({ requestId: 'req-1' });
  });

  it.each([
    { reply: 'HTML 502', status: 502, body: '<html>Bad gateway</html>', reason: 'not-json' },
    { reply: 'code 0 without a token', status: 200, body: '{"code":0,"message":"","data":{}}', reason: 'missing-token' },
  ])('on InvalidResponseError ($reply)', async ({ status, body, reason }) => {
    const error = await failure(answer(status, body, { 'X-Request-Id': 'req-42' }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ reason, requestId: 'req-42', message: expect.stringContaining('request id req-42') });
  });

  it('never from the body; undefined when no header carries one', async () => {
    const error = await failure(answer(401, apiError, {}));
    expect(error).toMatchObject({ code: 401003, requestId: undefined });
    expect(JSON.stringify(error)).not.toContain('FROM-THE-BODY');
    expect((error as ApiError).message).toBe('token expired (code 401003, HTTP 401)');
  });

  it.each([
    { what: 'a value holding the token', value: `echo-${TOKEN}` },
    { what: 'a value of 300 characters', value: 'r'.repeat(300) },
    { what: 'a value with characters outside printable ASCII', value: 'req-\u00e9' },
  ])('is left out when the header is $what', async ({ value }) => {
    const error = await failure(answer(401, apiError, { 'x-request-id': value }));
    expect(error).toMatchObject({ code: 401003, requestId: undefined });
    expect(JSON.stringify(error)).not.toContain(TOKEN);
  });
});
