// The HTTP edge (src/client/transport.ts and the per-call deadline in client.ts): what a call
// does when fetch misbehaves, when 429s outlast the deadline, with middleware, and with replies
// over the size cap.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, createTokenClient, TimeoutError } from '../src/index.js';
import { successEnvelope } from './helpers/loopback-server.js';

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
