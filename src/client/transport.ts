// The HTTP edge: the one place where a request meets the network. openapi-fetch builds the
// request (typed by the spec); this module signs it over the exact bytes it sends, sends it,
// re-sends on 429 by the retry policy, and caps the size of what it reads back.
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from '../../generated/openapi.js';
import { InvalidResponseError } from '../errors/invalid-response-error.js';
import { DEFAULT_RETRY, parseRetryAfter, retryDelay, sleep, type RetryPolicy } from './retry.js';
import type { Signer } from './signing.js';

/**
 * The request object openapi-fetch builds (its `Request` option) when no middleware will see
 * it. A plain holder of url, method, headers, body and signal: building an undici `Request`
 * here would be thrown away, since `fetch` builds its own. See `createApi()`.
 */
export class EdgeRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: BodyInit | null;
  readonly signal: AbortSignal | null;

  constructor(url: string | URL, init: RequestInit = {}) {
    this.url = String(url);
    this.method = (init.method ?? 'GET').toUpperCase();
    this.headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    this.body = init.body ?? null;
    this.signal = init.signal ?? null;
  }
}

/**
 * `client.api`: openapi-fetch over `fetch` (the transport). A call that no middleware sees
 * is built as an EdgeRequest; once middleware has been registered (`use()`), or when it is
 * given on a call (`middleware`), openapi-fetch builds a real `Request`, as it documents.
 */
export function createApi(options: { baseUrl: string; headers: Record<string, string>; fetch: (request: Request) => Promise<Response> }) {
  const api = createClient<paths>({ ...options, Request: EdgeRequest as unknown as typeof Request });
  let registered = false; // for good: ejecting middleware does not bring the EdgeRequest back
  const use = api.use;
  api.use = (...middleware) => {
    registered ||= middleware.some(Boolean);
    use(...middleware);
  };
  // Every method goes through `request`; openapi-fetch reads `Request` per call too, beside `fetch`.
  const untyped = api as unknown as Record<string, (url: string, init?: CallInit) => unknown> & {
    request(method: string, url: string, init?: CallInit): unknown;
  };
  const request = untyped.request;
  untyped.request = (method, url, init) =>
    request(method, url, registered || init?.middleware?.length ? { Request, ...init } : init);
  for (const method of ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE']) {
    untyped[method] = (url, init) => untyped.request(method, url, init);
  }
  return api;
}

type CallInit = { middleware?: Middleware[]; Request?: typeof Request };

export interface TransportOptions {
  fetch: typeof globalThis.fetch;
  signer: Signer | undefined;
  retry: RetryPolicy | false;
  now: () => number;
  maxResponseBytes: number;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
const encoder = new TextEncoder();

/** What one call of `refreshToken`/`refreshAccessToken` tells the transport. */
export interface CallLimits {
  /** `performance.now()` at which the call times out: a 429 wait that would end later is not taken. */
  deadline: number;
}

/** A fetch for openapi-fetch's `fetch` option; a call with a deadline passes `limits` (see client.ts). */
export function createTransport(options: TransportOptions) {
  const { signer, now, maxResponseBytes } = options;
  const retry = options.retry === false ? { ...DEFAULT_RETRY, retries: 0 } : options.retry;

  return async function send(input: EdgeRequest | Request, limits?: CallLimits): Promise<Response> {
    const { url, method, headers, signal } = input;
    const body = await bytesOf(input); // serialized once: these bytes are hashed and sent
    const started = now();
    let lastTimestamp = 0;
    for (let attempt = 0; ; attempt++) {
      if (signer) {
        lastTimestamp = await freshTimestamp(now, lastTimestamp, signal ?? undefined);
        const target = new URL(url);
        const signed = await signer.sign({
          method,
          path: target.pathname,
          query: target.search.slice(1),
          body,
          accessToken: headers.get('Authorization') ?? '',
          timestamp: lastTimestamp,
        });
        for (const [name, value] of Object.entries(signed)) headers.set(name, value);
      }
      const response = await options.fetch(url, { method, headers, body, signal, redirect: 'error' });
      if (signal?.aborted) {
        // A fetch that ignored the abort: the call has already ended; drop the late reply.
        void response.body?.cancel().catch(() => {});
        throw signal.reason;
      }
      if (response.status !== 429 || attempt >= retry.retries) return capped(response, maxResponseBytes);
      let delay = retryDelay(retry, attempt, parseRetryAfter(response.headers.get('Retry-After'), now()));
      // A signed re-send needs a new X-Timestamp: wait into the next second at least.
      if (signer) delay = Math.max(delay, (lastTimestamp + 1) * 1000 - now());
      // A wait past the budget, or past the call's deadline, ends the call now with the 429's ApiError.
      const outOfTime = limits !== undefined && performance.now() + delay >= limits.deadline;
      if (outOfTime || now() - started + delay > retry.maxElapsedMs) return capped(response, maxResponseBytes);
      await response.body?.cancel();
      await sleep(delay, signal ?? undefined);
    }
  };
}

async function bytesOf(input: EdgeRequest | Request): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (input instanceof EdgeRequest) {
    if (input.body === null) return undefined;
    if (typeof input.body === 'string') return encoder.encode(input.body);
    return new Uint8Array(await new Response(input.body).arrayBuffer());
  }
  return input.body === null ? undefined : new Uint8Array(await input.arrayBuffer());
}

/** Unix seconds, strictly after `previous`: a re-signed request never reuses X-Timestamp (403202). */
async function freshTimestamp(now: () => number, previous: number, signal: AbortSignal | undefined): Promise<number> {
  let ms = now();
  if (Math.floor(ms / 1000) <= previous) {
    await sleep((previous + 1) * 1000 - ms, signal);
    ms = now();
  }
  return Math.max(Math.floor(ms / 1000), previous + 1);
}

/**
 * Refuses a body larger than `max` bytes, by Content-Length or while it streams. A
 * compressed reply's Content-Length is the compressed size, so it is always counted.
 */
function capped(response: Response, max: number): Response {
  const declared = response.headers.get('Content-Length');
  const exact = declared !== null && !response.headers.has('Content-Encoding');
  if (exact && Number(declared) > max) {
    void response.body?.cancel();
    throw new InvalidResponseError('too-large', response.status, `the body is ${declared} bytes, over the ${max}-byte limit`);
  }
  if (exact || response.body === null) return response;
  let seen = 0;
  const limit = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > max) {
        controller.error(new InvalidResponseError('too-large', response.status, `the body is over the ${max}-byte limit`));
      } else controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(limit), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
