// A loopback server injects faults; each call ends in its documented error or in success,
// never in an unhandled rejection or a hang. Every client here signs its requests, and
// nothing thrown shows the token, the app secret or a signature.
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createTokenClient, InvalidResponseError, NetworkError, TimeoutError } from '../src/index.js';
import { reply, startLoopbackServer, successEnvelope, type Handler, type LoopbackServer } from './helpers/loopback-server.js';

const TOKEN = 'TOKEN-9b1f3c-live';
const APP_SECRET = 'APP-SECRET-77aa01';
const input = { aaid: '20001', expiredAt: '2099-01-01T00:00:00Z' };
const thrown: unknown[] = [];

let server: LoopbackServer & { setHandler(h: Handler): void };
beforeAll(async () => {
  server = await startLoopbackServer(reply(200, successEnvelope));
});
afterAll(() => server.close());

function client(extra: Parameters<typeof createTokenClient>[0] extends infer O ? Partial<O> : never = {}) {
  return createTokenClient({
    accessToken: TOKEN,
    appKey: 'APP-KEY',
    appSecret: APP_SECRET,
    accountChannel: 'lb',
    baseUrl: server.url,
    timeoutMs: 2_000,
    retry: { baseDelayMs: 10, maxDelayMs: 50, maxElapsedMs: 5_000 },
    ...extra,
  });
}

async function outcome(handler: Handler, extra: Parameters<typeof client>[0] = {}) {
  server.setHandler(handler);
  const before = server.requests.length;
  try {
    const data = await client(extra).refreshToken(input);
    return { data, error: undefined, requests: server.requests.length - before };
  } catch (error) {
    thrown.push(error);
    return { data: undefined, error, requests: server.requests.length - before };
  }
}

const raw = (status: number, body: string, headers: Record<string, string | number> = {}): Handler => (_req, res) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(body);
};

describe('replies that are not the envelope', () => {
  it.each([
    { fault: '500 with HTML', handler: raw(500, '<html><h1>500 Internal Server Error</h1></html>', { 'Content-Type': 'text/html' }), reason: 'not-json', status: 500 },
    { fault: '502 with an empty body', handler: raw(502, ''), reason: 'empty-body', status: 502 },
    { fault: 'truncated JSON', handler: raw(200, '{"code":0,"message":"","data":{"token":"ab'), reason: 'not-json', status: 200 },
    { fault: 'non-JSON 200', handler: raw(200, 'OK', { 'Content-Type': 'text/plain' }), reason: 'not-json', status: 200 },
    { fault: '`code` as a string', handler: raw(200, '{"code":"0","message":"","data":null}'), reason: 'not-an-envelope', status: 200 },
    {
      fault: 'success without data.token',
      handler: reply(200, { ...successEnvelope, data: { ...successEnvelope.data, token: '' } }),
      reason: 'missing-token',
      status: 200,
    },
  ])('$fault → InvalidResponseError $reason', async ({ handler, reason, status }) => {
    const { error, requests } = await outcome(handler);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ reason, status });
    expect(requests).toBe(1);
  });

  it('an oversized body (by Content-Length) → InvalidResponseError too-large', async () => {
    const { error } = await outcome(raw(200, JSON.stringify({ ...successEnvelope, pad: 'x'.repeat(4096) })), { maxResponseBytes: 1024 });
    expect(error).toMatchObject({ name: 'InvalidResponseError', reason: 'too-large' });
  });

  it('an oversized body (chunked, no Content-Length) → InvalidResponseError too-large, the stream is cut', async () => {
    let chunksWritten = 0;
    const { error } = await outcome(
      async (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        for (let i = 0; i < 64 && !res.destroyed; i++) {
          res.write('x'.repeat(1024));
          chunksWritten++;
          await new Promise((r) => setTimeout(r, 2));
        }
        res.end();
      },
      { maxResponseBytes: 4096 },
    );
    expect(error).toMatchObject({ name: 'InvalidResponseError', reason: 'too-large' });
    expect(chunksWritten).toBeGreaterThan(4);
  });
});

describe('documented error codes', () => {
  it.each([
    { code: 401003, status: 401, kind: 'token-expired' },
    { code: 401004, status: 401, kind: 'token-invalid' },
    { code: 401102, status: 401, kind: 'token-invalid' },
    { code: 403201, status: 403, kind: 'signature-invalid' },
    { code: 403202, status: 403, kind: 'duplicate-request' },
    { code: 403203, status: 403, kind: 'api-key-illegal' },
    { code: 403205, status: 403, kind: 'ip-not-allowed' },
    { code: 500000, status: 500, kind: 'server-error' },
    { code: 123456, status: 400, kind: 'unknown' },
    { code: 599999, status: 503, kind: 'server-error' },
  ])('$code → ApiError $kind with a hint, sent once', async ({ code, status, kind }) => {
    const { error, requests } = await outcome(reply(status, { code, message: 'x', data: null }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code, status, kind, hint: expect.stringMatching(/\w{3,}/) });
    expect(requests).toBe(1);
  });
});

describe('HTTP 429', () => {
  it('then success → success after one re-send, re-signed with a new X-Timestamp', async () => {
    let n = 0;
    const { data, requests } = await outcome((req, res) =>
      n++ === 0 ? raw(429, '{"code":429002,"message":"api request is limited","data":null}')(req, res, undefined as never) : reply(200, successEnvelope)(req, res, undefined as never),
    );
    expect(data?.token).toBe(successEnvelope.data.token);
    expect(requests).toBe(2);
    const [first, second] = server.requests.slice(-2);
    expect(Number(second!.headers['x-timestamp'])).toBeGreaterThan(Number(first!.headers['x-timestamp']));
    expect(second!.headers['x-api-signature']).not.toBe(first!.headers['x-api-signature']);
    expect(second!.body.equals(first!.body)).toBe(true);
  });

  it('forever → ApiError rate-limited after the bounded number of attempts', async () => {
    const { error, requests } = await outcome(raw(429, '{"code":429001,"message":"ip request ratelimit","data":null}'), {
      // Each signed re-send waits into the next second: 3 attempts take up to ~2 s, so the
      // call gets room for them (a wait that does not fit would end the call early, by design).
      retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 1, maxElapsedMs: 10_000 },
      timeoutMs: 10_000,
    });
    expect(error).toMatchObject({ name: 'ApiError', code: 429001, kind: 'rate-limited', status: 429 });
    expect(requests).toBe(3);
  });

  it('honours Retry-After, and gives up at once when it is past the time budget', async () => {
    const { error, requests } = await outcome(
      raw(429, '{"code":429002,"message":"api request is limited","data":null}', { 'Retry-After': '3600' }),
    );
    expect(error).toMatchObject({ kind: 'rate-limited', retryAfterMs: 3_600_000 });
    expect(requests).toBe(1);
  });

  it('is not retried when retry is false', async () => {
    const { requests } = await outcome(raw(429, '{"code":429002,"message":"limited","data":null}'), { retry: false });
    expect(requests).toBe(1);
  });
});

describe('faults of the connection', () => {
  it('a reply slower than the timeout → TimeoutError that warns the token may be spent', async () => {
    const { error, requests } = await outcome(
      (_req, res) => void setTimeout(() => !res.destroyed && reply(200, successEnvelope)(_req, res, undefined as never), 1_000),
      { timeoutMs: 100 },
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ timeoutMs: 100, mayHaveReachedServer: true, message: expect.stringContaining('old token may already be invalid') });
    expect(requests).toBe(1);
  });

  it('a reset after the request was read → NetworkError, not re-sent, may have reached the server', async () => {
    const { error, requests } = await outcome((_req, _res, socket) => void socket.destroy());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ mayHaveReachedServer: true });
    expect(requests).toBe(1);
  });

  it('a body cut off mid-way → NetworkError, not re-sent', async () => {
    const { error, requests } = await outcome((_req, res, socket) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '500' });
      res.write('{"code":0,"data":{"token":"abc');
      setTimeout(() => socket.destroy(), 20);
    });
    expect(error).toBeInstanceOf(NetworkError);
    expect(requests).toBe(1);
  });

  it('a reset before the request is read → NetworkError, not re-sent', async () => {
    let connections = 0;
    const tcp = createTcpServer((socket) => {
      connections++;
      socket.resetAndDestroy();
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
      const error = await client({ baseUrl: url }).refreshToken(input).catch((e: unknown) => (thrown.push(e), e));
      expect(error).toBeInstanceOf(NetworkError);
      expect(connections).toBe(1);
    } finally {
      await new Promise((resolve) => tcp.close(resolve));
    }
  });

  it('https to a plain-http port (a TLS handshake failure) → NetworkError that knows the request never left', async () => {
    const plain = await startLoopbackServer(reply(200, successEnvelope));
    try {
      const error = await client({ baseUrl: plain.url.replace('http:', 'https:') })
        .refreshToken(input)
        .catch((e: unknown) => (thrown.push(e), e));
      expect(error).toMatchObject({ name: 'NetworkError', mayHaveReachedServer: false, message: expect.stringContaining('ERR_SSL_WRONG_VERSION_NUMBER') });
      expect(plain.requests).toHaveLength(0);
    } finally {
      await plain.close();
    }
  });

  it('nothing listening → NetworkError that knows the request never left', async () => {
    const closed = await startLoopbackServer(reply(200, successEnvelope));
    await closed.close();
    const error = await client({ baseUrl: closed.url }).refreshToken(input).catch((e: unknown) => (thrown.push(e), e));
    expect(error).toMatchObject({ name: 'NetworkError', mayHaveReachedServer: false });
  });

  it("a refusal as Bun reports it (the code on the TypeError itself, no cause) → the request never left", async () => {
    const bunRefusal = Object.assign(new TypeError('ECONNREFUSED: Unable to connect. Is the computer able to access the url?'), { code: 'ECONNREFUSED' });
    const refused = createTokenClient({ accessToken: 'TOKEN-faults-bun', accountChannel: 'lb', baseUrl: 'http://127.0.0.1:9', fetch: async () => Promise.reject(bunRefusal) });
    const error = await refused.refreshToken(input).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NetworkError', mayHaveReachedServer: false, message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('secrets', () => {
  it('no token, app secret or signature appears in anything thrown above', () => {
    const signatures = server.requests.map((r) => String(r.headers['x-api-signature']).split('Signature=')[1]).filter(Boolean);
    expect(signatures.length).toBeGreaterThan(10);
    expect(thrown.length).toBeGreaterThanOrEqual(20);
    const secrets = [TOKEN, APP_SECRET, ...signatures];
    for (const error of thrown) {
      const views = [String(error), inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error)].join('\n');
      for (const secret of secrets) expect(views).not.toContain(secret);
    }
  });
});

describe('a blocked port', () => {
  it('→ NetworkError that knows the request never left (fetch refuses it before connecting)', async () => {
    const error = await client({ baseUrl: 'http://127.0.0.1:9' }).refreshToken(input).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NetworkError', mayHaveReachedServer: false });
  });
});

describe('a compressed reply', () => {
  it('is capped by its decompressed size, not its Content-Length', async () => {
    const { gzipSync } = await import('node:zlib');
    const huge = gzipSync(JSON.stringify({ ...successEnvelope, pad: 'x'.repeat(4_000_000) }));
    const { error } = await outcome(
      (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': huge.length });
        res.end(huge);
      },
      { maxResponseBytes: 1024 * 1024 },
    );
    expect(huge.length).toBeLessThan(1024 * 1024);
    expect(error).toMatchObject({ name: 'InvalidResponseError', reason: 'too-large' });
  });

  it('within the cap is read as usual', async () => {
    const { gzipSync } = await import('node:zlib');
    const small = gzipSync(JSON.stringify(successEnvelope));
    const { data } = await outcome((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': small.length });
      res.end(small);
    });
    expect(data?.token).toBe(successEnvelope.data.token);
  });
});

describe('signed re-sends after 429', () => {
  it('count the wait for a fresh X-Timestamp against the time budget', async () => {
    const { error, requests } = await outcome(raw(429, '{"code":429002,"message":"limited","data":null}'), {
      retry: { retries: 5, baseDelayMs: 10, maxDelayMs: 10, maxElapsedMs: 1_500 },
    });
    expect(error).toMatchObject({ kind: 'rate-limited' });
    // Each signed re-send waits into a new second, so a 1.5 s budget allows at most 2 re-sends
    // (without counting that wait, all 5 would go out over ~5 s).
    expect(requests).toBeLessThanOrEqual(3);
  });
});
