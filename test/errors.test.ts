// Every failure rejects with one of the package's typed errors, and none of them ever
// shows the access token.
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  createTokenClient,
  InvalidInputError,
  InvalidResponseError,
  NetworkError,
  TimeoutError,
  TokenApiError,
} from '../src/index.js';
import { reply, startLoopbackServer, successEnvelope, type LoopbackServer } from './helpers/loopback-server.js';

const SECRET_TOKEN = 'SECRET-ACCESS-TOKEN-5f0c2e';
const input = { aaid: '20001', expiredAt: '2099-01-01T00:00:00Z' };
const thrown: unknown[] = [];

let server: LoopbackServer & { setHandler: (h: Parameters<typeof startLoopbackServer>[0]) => void };
beforeAll(async () => {
  server = await startLoopbackServer(reply(200, successEnvelope));
});
afterAll(() => server.close());

function clientFor(fetchImpl?: typeof fetch, timeoutMs?: number) {
  return createTokenClient({
    accessToken: SECRET_TOKEN,
    accountChannel: 'lb',
    baseUrl: server.url,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    thrown.push(error);
    return error;
  }
  throw new Error('expected the call to fail');
}

const respondWith = (status: number, body: string, type = 'application/json') =>
  (async () => new Response(body, { status, headers: { 'Content-Type': type } })) as typeof fetch;

describe('ApiError', () => {
  it.each([
    { status: 401, body: { code: 401003, message: 'token expired', data: null } },
    { status: 403, body: { code: 403201, msg: 'signature invalid', data: null } },
    { status: 200, body: { code: 429002, message: 'api request is limited', data: null } },
  ])('carries code, normalized message and status (HTTP $status, code $body.code)', async ({ status, body }) => {
    const error = await failureOf(clientFor(respondWith(status, JSON.stringify(body))).refreshToken(input));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(TokenApiError);
    expect(error).toMatchObject({ name: 'ApiError', code: body.code, status });
    expect((error as ApiError).message).toContain(body.message ?? body.msg);
  });
});

describe('InvalidResponseError', () => {
  it.each([
    { case: 'HTML 500', status: 500, body: '<html><body>Bad gateway</body></html>', reason: 'not-json' },
    { case: 'empty 502', status: 502, body: '', reason: 'empty-body' },
    { case: 'truncated JSON', status: 200, body: '{"code":0,"data":{"tok', reason: 'not-json' },
    { case: 'code as a string', status: 200, body: '{"code":"0","message":"","data":null}', reason: 'not-an-envelope' },
    { case: 'a JSON array', status: 200, body: '[]', reason: 'not-an-envelope' },
    { case: 'success without data', status: 200, body: '{"code":0,"message":""}', reason: 'missing-token' },
    ...[200, 500].map((status) => ({
      case: `a JSON string holding a code-0 envelope, HTTP ${status} (decoded once)`,
      status,
      body: JSON.stringify(JSON.stringify(successEnvelope)),
      reason: 'not-an-envelope',
    })),
    {
      case: 'a JSON string holding an error envelope, HTTP 500 (not an ApiError)',
      status: 500,
      body: JSON.stringify(JSON.stringify({ code: 401003, message: 'token expired', data: null })),
      reason: 'not-an-envelope',
    },
    {
      case: 'success without data.token',
      status: 200,
      body: JSON.stringify({ ...successEnvelope, data: { ...successEnvelope.data, token: undefined } }),
      reason: 'missing-token',
    },
  ])('names the problem: $case', async ({ status, body, reason }) => {
    const error = await failureOf(clientFor(respondWith(status, body)).refreshToken(input));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ name: 'InvalidResponseError', reason, status });
  });

  it('never copies the body into the error (it may hold a token)', async () => {
    const body = JSON.stringify({ code: '0', data: { token: 'LEAKED-NEW-TOKEN' } });
    const error = await failureOf(clientFor(respondWith(200, body)).refreshToken(input));
    expect(inspect(error, { depth: 5 }) + JSON.stringify(error)).not.toContain('LEAKED-NEW-TOKEN');
  });
});

describe('NetworkError', () => {
  it('when nothing listens on the port', async () => {
    const closed = await startLoopbackServer(reply(200, successEnvelope));
    await closed.close();
    const client = createTokenClient({ accessToken: SECRET_TOKEN, accountChannel: 'lb', baseUrl: closed.url });
    const error = await failureOf(client.refreshToken(input));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ name: 'NetworkError', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('when the connection is reset before a reply', async () => {
    server.setHandler((_request, _response, socket) => void socket.destroy());
    try {
      const error = await failureOf(clientFor().refreshToken(input));
      expect(error).toBeInstanceOf(NetworkError);
    } finally {
      server.setHandler(reply(200, successEnvelope));
    }
  });
});

describe('TimeoutError', () => {
  it('when no reply arrives within timeoutMs', async () => {
    const hang = ((_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
      })) as typeof fetch;
    const error = await failureOf(clientFor(hang, 50).refreshToken(input));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ name: 'TimeoutError', timeoutMs: 50 });
  });

  it('a caller abort rejects with the caller’s reason, not a TimeoutError', async () => {
    const controller = new AbortController();
    const hang = ((_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
        controller.abort(new Error('caller gave up'));
      })) as typeof fetch;
    const error = await failureOf(clientFor(hang).refreshToken(input, { signal: controller.signal }));
    expect(error).toEqual(new Error('caller gave up'));
  });
});

describe('InvalidInputError', () => {
  it('names the field and sends nothing', async () => {
    let calls = 0;
    const counting = (async () => (calls++, new Response('{}'))) as typeof fetch;
    const error = await failureOf(clientFor(counting).refreshToken({ aaid: '', expiredAt: '2099-01-01T00:00:00Z' }));
    expect(error).toMatchObject({ name: 'InvalidInputError', field: 'aaid' });
    expect(calls).toBe(0);
  });
});

describe('no error shows the access token', () => {
  it('in message, toString(), util.inspect or JSON.stringify of anything thrown above', () => {
    expect(thrown.length).toBeGreaterThanOrEqual(14);
    for (const error of thrown) {
      const views = [String(error), (error as Error).message, inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error)];
      for (const view of views) expect(view).not.toContain(SECRET_TOKEN);
    }
  });

  it('nor does util.inspect or JSON of the client', () => {
    const client = clientFor();
    expect(inspect(client, { depth: 10, showHidden: true })).not.toContain(SECRET_TOKEN);
    expect(JSON.stringify(client)).not.toContain(SECRET_TOKEN);
  });

  it('JSON of an error keeps its public fields', () => {
    const error = new ApiError({ code: 401003, message: 'token expired', status: 401 });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'ApiError',
      code: 401003,
      status: 401,
      kind: 'token-expired',
      hint: expect.stringContaining('developer console'),
      message: 'token expired (code 401003, HTTP 401)',
    });
    expect(new InvalidInputError('aaid', 'must be a non-empty string')).toMatchObject({ field: 'aaid' });
  });
});
