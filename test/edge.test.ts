// The HTTP edge (src/client/transport.ts and the per-call deadline in client.ts): what a call
// does when fetch misbehaves, when 429s outlast the deadline, with middleware, and with replies
// over the size cap.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTokenClient, TimeoutError } from '../src/index.js';
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
