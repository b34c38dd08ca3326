// The HTTP edge (src/client/transport.ts and the per-call deadline in client.ts): what a call
// does when fetch misbehaves, when 429s outlast the deadline, with middleware, and with replies
// over the size cap.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { gzipSync } from 'node:zlib';
import { ApiError, createTokenClient, InvalidResponseError, NetworkError, TimeoutError, type TokenClient } from '../src/index.js';
import { expectedSignature } from './helpers/expected-signature.js';
import { reply, startLoopbackServer, successEnvelope, type LoopbackServer } from './helpers/loopback-server.js';

const input = { aaid: '20001', expiredAt: '2099-01-01T00:00:00Z' };
const base = { accessToken: 'TOKEN-edge-0001', accountChannel: 'lb' as const, baseUrl: 'http://127.0.0.1:9999' };

/** A promise's state without waiting for it. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** Unhandled rejections seen while `run` runs (and the macrotask after it). */
async function unhandledDuring(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const record = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', record);
  try {
    await run();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', record);
  }
  return seen;
}

describe('timeoutMs is a hard limit', () => {
  afterEach(() => void vi.useRealTimers());

  // A fetch that ignores the abort signal and never settles.
  const deaf = (() => new Promise<Response>(() => {})) as typeof fetch;

  it('ends the call with TimeoutError when fetch ignores the signal and never settles', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const call = track(createTokenClient({ ...base, fetch: deaf, timeoutMs: 1_000 }).refreshToken(input));
    await vi.advanceTimersByTimeAsync(999);
    expect(call.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.error).toBeInstanceOf(TimeoutError);
    expect(call.error).toMatchObject({ timeoutMs: 1_000, mayHaveReachedServer: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends the call with the caller’s reason when the caller aborts and fetch ignores it', { timeout: 5_000 }, async () => {
    const controller = new AbortController();
    const call = createTokenClient({ ...base, fetch: deaf }).refreshAccessToken({}, { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toEqual(new Error('caller gave up'));
  });

  it('clears its timer when the call ends', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const answers = (async () => Response.json(successEnvelope)) as typeof fetch;
    const data = await createTokenClient({ ...base, fetch: answers }).refreshToken(input);
    expect(data.token).toBe(successEnvelope.data.token);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels the body of a reply that arrives after the deadline, with no unhandled rejection', { timeout: 5_000 }, async () => {
    let arrive!: (response: Response) => void;
    const late = (() => new Promise<Response>((resolve) => (arrive = resolve))) as typeof fetch;
    let cancelled!: () => void;
    const bodyCancelled = new Promise<void>((resolve) => (cancelled = resolve));
    const unhandled = await unhandledDuring(async () => {
      await expect(createTokenClient({ ...base, fetch: late, timeoutMs: 20 }).refreshToken(input)).rejects.toBeInstanceOf(TimeoutError);
      const body = new ReadableStream<Uint8Array>({ cancel: () => cancelled() });
      arrive(new Response(body, { status: 200, headers: { 'Content-Type': 'application/json' } }));
      await bodyCancelled;
    });
    expect(unhandled).toEqual([]);
  });
});

describe('HTTP 429 until the deadline', () => {
  afterEach(() => void vi.useRealTimers());

  /** A fetch that answers 429 every time, counting the requests. */
  function limited(headers: Record<string, string> = {}) {
    const sent: number[] = [];
    const fetch = (async () => {
      sent.push(performance.now());
      return new Response('{"code":429002,"message":"api request is limited","data":null}', {
        status: 429,
        headers: { 'Content-Type': 'application/json', ...headers },
      });
    }) as typeof globalThis.fetch;
    return { fetch, sent };
  }

  async function runUntilSettled(call: ReturnType<typeof track>, limitMs: number): Promise<number> {
    const start = performance.now();
    while (!call.settled && performance.now() - start < limitMs) await vi.advanceTimersByTimeAsync(10);
    return performance.now() - start;
  }

  it('ends with the rate-limited ApiError, not TimeoutError, when the next wait does not fit in timeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const server = limited();
    const call = track(createTokenClient({ ...base, fetch: server.fetch, timeoutMs: 3_000 }).refreshToken(input));
    const took = await runUntilSettled(call, 5_000);
    expect(call.error).toBeInstanceOf(ApiError);
    expect(call.error).toMatchObject({ code: 429002, kind: 'rate-limited', status: 429 });
    // Waits of 100, 200, 400 and 800 ms fit; the next (1 600 ms, at 1 500 ms) would end past 3 000 ms.
    expect(server.sent.length).toBe(5);
    expect(took).toBeLessThan(3_000);
  });

  it('ends at once, with retryAfterMs, when Retry-After asks for more than the time left', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const server = limited({ 'Retry-After': '5' });
    const call = track(createTokenClient({ ...base, fetch: server.fetch, timeoutMs: 3_000 }).refreshAccessToken());
    const took = await runUntilSettled(call, 5_000);
    expect(call.error).toMatchObject({ name: 'ApiError', kind: 'rate-limited', retryAfterMs: 5_000 });
    expect(server.sent.length).toBe(1);
    expect(took).toBeLessThan(100);
  });
});

describe('middleware on client.api', () => {
  let server: LoopbackServer & { setHandler(h: Parameters<typeof startLoopbackServer>[0]): void };
  beforeAll(async () => {
    server = await startLoopbackServer(reply(200, successEnvelope));
  });
  afterAll(() => server.close());
  const keys = { accessToken: 'TOKEN-edge-0001', appKey: 'APPKEY-edge', appSecret: 'APPSECRET-edge' };

  it('receives a real Request whose every member works', async () => {
    const client = createTokenClient({ ...base, baseUrl: server.url });
    const seen: Record<string, unknown> = {};
    client.api.use({
      async onRequest({ request }) {
        seen.isRequest = request instanceof Request;
        seen.url = request.url;
        seen.method = request.method;
        seen.authorization = request.headers.get('Authorization');
        seen.signal = request.signal instanceof AbortSignal;
        seen.text = await request.clone().text();
        seen.json = await request.clone().json();
        seen.bytes = (await request.clone().arrayBuffer()).byteLength;
        seen.copy = new Request(request.clone(), { headers: { 'X-Copy': '1' } }).headers.get('X-Copy'); // new Request(request) takes its body
        return undefined; // the original goes out
      },
    });
    await client.refreshToken(input);
    const body = '{"aaid":"20001","expired_at":"2099-01-01T00:00:00.000Z"}';
    expect(seen).toEqual({
      isRequest: true,
      url: `${server.url}/v1/openapi/token/refresh`,
      method: 'POST',
      authorization: base.accessToken,
      signal: true,
      text: body,
      json: JSON.parse(body),
      bytes: body.length,
      copy: '1',
    });
    expect(server.requests.at(-1)!.body.toString()).toBe(body);
  });

  it('given on one call only, also receives a real Request', async () => {
    const client = createTokenClient({ ...base, baseUrl: server.url });
    let isRequest: boolean | undefined;
    await client.api.GET('/v1/token/refresh', {
      params: { query: { expired_at: '2099-01-01T00:00:00Z' } },
      middleware: [{ onRequest: ({ request }) => void (isRequest = request instanceof Request && typeof request.clone === 'function') }],
    });
    expect(isRequest).toBe(true);
  });

  it('without middleware, signs the UTF-8 bytes it sends, beyond ASCII too', async () => {
    const client = createTokenClient({ ...base, ...keys, baseUrl: server.url });
    await client.refreshToken({ ...input, aaid: '账户-20001-ü' });
    const sent = server.requests.at(-1)!;
    expect(JSON.parse(sent.body.toString('utf8'))).toMatchObject({ aaid: '账户-20001-ü' });
    const signature = String(sent.headers['x-api-signature']).split('Signature=')[1];
    expect(signature).toBe(expectedSignature(sent, keys.accessToken, keys.appKey, keys.appSecret));
  });

  it('may return a changed Request: its bytes are the ones sent and signed', async () => {
    const client = createTokenClient({ ...base, ...keys, baseUrl: server.url });
    const changed = '{"aaid":"20002","expired_at":"2099-02-02T00:00:00.000Z"}';
    client.api.use({
      onRequest: ({ request }) =>
        new Request(request, { body: changed, headers: { Authorization: request.headers.get('Authorization')!, 'X-Trace': 'mw' } }),
    });
    await client.refreshToken(input);
    const sent = server.requests.at(-1)!;
    expect(sent.body.toString()).toBe(changed);
    expect(sent.headers['x-trace']).toBe('mw');
    const signature = String(sent.headers['x-api-signature']).split('Signature=')[1];
    expect(signature).toBe(expectedSignature(sent, keys.accessToken, keys.appKey, keys.appSecret));
  });

  it('may return a Response: nothing is sent and the call resolves with it', async () => {
    const client = createTokenClient({ ...base, baseUrl: server.url });
    client.api.use({ onRequest: () => Response.json({ ...successEnvelope, data: { ...successEnvelope.data, token: 'FROM-MIDDLEWARE' } }) });
    const before = server.requests.length;
    const data = await client.refreshAccessToken();
    expect(data.token).toBe('FROM-MIDDLEWARE');
    expect(server.requests.length).toBe(before);
  });

  it('once ejected, the calls go as before', async () => {
    const client = createTokenClient({ ...base, baseUrl: server.url });
    let calls = 0;
    const counting = { onRequest: () => void calls++ };
    client.api.use(counting);
    await client.refreshToken(input);
    client.api.eject(counting);
    await client.refreshToken(input);
    expect(calls).toBe(1);
  });
});

describe('errors of the caller’s own code', () => {
  it('a middleware’s error passes through unchanged, never as NetworkError', async () => {
    const client = createTokenClient({ ...base, fetch: async () => Response.json(successEnvelope) });
    const mine = new TypeError('my middleware broke');
    client.api.use({
      onRequest() {
        throw mine;
      },
    });
    await expect(client.refreshToken(input)).rejects.toBe(mine);
    await expect(client.refreshAccessToken()).rejects.toBe(mine);
  });

  it('so does an error thrown by a middleware’s onResponse', async () => {
    const client = createTokenClient({ ...base, fetch: async () => Response.json(successEnvelope) });
    const mine = new TypeError('cannot log this');
    client.api.use({
      onResponse() {
        throw mine;
      },
    });
    await expect(client.refreshToken(input)).rejects.toBe(mine);
  });

  it('an error your fetch throws that is not a TypeError passes through unchanged', async () => {
    const mine = new Error('offline mode');
    const client = createTokenClient({ ...base, fetch: async () => Promise.reject(mine) });
    await expect(client.refreshToken(input)).rejects.toBe(mine);
  });

  it('a TypeError from fetch (how fetch reports a network failure) is a NetworkError', async () => {
    const failed = new TypeError('fetch failed');
    const client = createTokenClient({ ...base, fetch: async () => Promise.reject(failed) });
    const error = await client.refreshToken(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ cause: failed, mayHaveReachedServer: true });
  });
});

describe('maxResponseBytes', () => {
  let server: LoopbackServer & { setHandler(h: Parameters<typeof startLoopbackServer>[0]): void };
  beforeAll(async () => {
    server = await startLoopbackServer(reply(200, successEnvelope));
  });
  afterAll(() => server.close());

  const envelope = (pad: number) => JSON.stringify({ ...successEnvelope, pad: 'x'.repeat(pad) });
  // The three shapes a reply comes in: a Content-Length, chunked (no length), gzip (chunked).
  const shapes = {
    'Content-Length': (text: string) => (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    },
    chunked: (text: string) => (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (let i = 0; i < text.length; i += 1000) res.write(text.slice(i, i + 1000));
      res.end();
    },
    gzip: (text: string) => (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end(gzipSync(text)); // a few hundred bytes on the wire, counted decompressed
    },
  };
  const calls = {
    refreshToken: (c: TokenClient) => c.refreshToken(input),
    refreshAccessToken: (c: TokenClient) => c.refreshAccessToken(),
    'client.api.POST': async (c: TokenClient) => {
      const { data } = await c.api.POST('/v1/openapi/token/refresh', {
        params: { header: { 'Account-Channel': 'lb' } },
        body: { aaid: '20001', expired_at: '2099-01-01T00:00:00Z' },
      });
      return (data as { data: { token: string } }).data;
    },
  };
  const cases = Object.keys(shapes).flatMap((shape) => Object.keys(calls).map((call) => ({ shape, call })));

  it.each(cases)('$call with a $shape reply over the cap → InvalidResponseError too-large', async ({ shape, call }) => {
    server.setHandler(shapes[shape as keyof typeof shapes](envelope(20_000)) as never);
    const client = createTokenClient({ ...base, baseUrl: server.url, maxResponseBytes: 10_000 });
    const error = await calls[call as keyof typeof calls](client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ reason: 'too-large', status: 200 });
  });

  it.each(cases)('$call with a $shape reply within the cap is read as usual', async ({ shape, call }) => {
    server.setHandler(shapes[shape as keyof typeof shapes](envelope(5_000)) as never);
    const client = createTokenClient({ ...base, baseUrl: server.url, maxResponseBytes: 10_000 });
    const data = await calls[call as keyof typeof calls](client);
    expect(data.token).toBe(successEnvelope.data.token);
  });

  it.each(['chunked', 'gzip'] as const)(
    'refreshToken and refreshAccessToken cap a %s reply while reading it: no stream or Response built per call',
    async (shape) => {
      server.setHandler(shapes[shape](envelope(100)) as never);
      const client = createTokenClient({ ...base, baseUrl: server.url });
      const streams = vi.spyOn(globalThis, 'TransformStream');
      const responses = vi.spyOn(globalThis, 'Response');
      try {
        await client.refreshToken(input);
        await client.refreshAccessToken();
        expect(streams).not.toHaveBeenCalled();
        expect(responses).not.toHaveBeenCalled();
      } finally {
        streams.mockRestore();
        responses.mockRestore();
      }
    },
  );
});
