// When and how long to wait before re-sending a request the server refused with HTTP 429.
// Only 429 is retried: the server says it did not process the request. Nothing else is
// re-sent automatically: a refresh that may have reached the server must never be repeated.

export interface RetryPolicy {
  /** Re-sends after the first attempt. Default 5 (as the official SDK). */
  retries: number;
  /** First back-off; doubles each time. Default 100 ms. */
  baseDelayMs: number;
  /** Cap of one back-off. Default 5 000 ms. */
  maxDelayMs: number;
  /** No re-send once this much time has passed since the first attempt (waits included). Default 10 000 ms. */
  maxElapsedMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, baseDelayMs: 100, maxDelayMs: 5_000, maxElapsedMs: 10_000 };

/** `Retry-After` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait before re-send number `retry` (0-based): exponential back-off, at least Retry-After. */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfterMs: number | undefined): number {
  const backoff = Math.min(policy.baseDelayMs * 2 ** retry, policy.maxDelayMs);
  return Math.max(backoff, retryAfterMs ?? 0);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener('abort', abort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
