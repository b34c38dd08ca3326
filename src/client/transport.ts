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
 * `usesMiddleware()`: whether `use()` has registered any (for good: ejecting it all does not
 * bring the EdgeRequest back).
 */
export function createApi(options: { baseUrl: string; headers: Record<string, string>; fetch: (request: Request) => Promise<Response> }) {
  const api = createClient<paths>({ ...options, Request: EdgeRequest as unknown as typeof Request });
  let registered = false;
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
  return { api, usesMiddleware: () => registered };
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

/**
 * One call of `refreshToken`/`refreshAccessToken`: it has a deadline, and it reads a 2xx body
 * itself with `readText()`, which enforces the size cap there (no stream wrapped per call).
 */
export interface CallLimits {
  /** `performance.now()` at which the call times out: a 429 wait that would end later is not taken. */
  deadline: number;
  /** Filled in by the transport: the hex of every X-Api-Signature the call sent, for scrubbing (src/redact.ts). */
  signatures: string[];
}

/** A fetch for openapi-fetch's `fetch` option; a call of our own passes `limits` (see client.ts). */
export function createTransport(options: TransportOptions) {
  const { signer, now, maxResponseBytes } = options;
  const retry = options.retry === false ? { ...DEFAULT_RETRY, retries: 0 } : options.retry;
  const last = (response: Response, limits: CallLimits | undefined) =>
    limits && response.ok ? response : capped(response, maxResponseBytes);

  return async function send(input: EdgeRequest | Request, limits?: CallLimits): Promise<Response> {
    const { url, method, headers, signal } = input;
    const body = await bodyOf(input); // serialized once: what is hashed is what is sent
    const started = now();
    const target = signer && new URL(url);
    let lastTimestamp = 0;
    for (let attempt = 0; ; attempt++) {
      if (signer && target) {
        // Unix seconds, strictly after the last attempt's: a re-signed request never reuses
        // X-Timestamp (403202). The 429 wait below already reaches the next second; this is
        // for a clock that moved back.
        if (Math.floor(now() / 1000) <= lastTimestamp) await sleep((lastTimestamp + 1) * 1000 - now(), signal ?? undefined);
        lastTimestamp = Math.max(Math.floor(now() / 1000), lastTimestamp + 1);
        const signed = await signer.sign({
          method,
          path: target.pathname,
          query: target.search.slice(1),
          body,
          accessToken: headers.get('Authorization') ?? '',
          timestamp: lastTimestamp,
        });
        headers.set('X-Api-Key', signed['X-Api-Key']);
        headers.set('X-Timestamp', signed['X-Timestamp']);
        headers.set('X-Api-Signature', signed['X-Api-Signature']);
        limits?.signatures.push(signed['X-Api-Signature'].slice(signed['X-Api-Signature'].lastIndexOf('=') + 1)); // "…, Signature=<hex>"
      }
      let response: Response;
      try {
        response = await options.fetch(url, { method, headers, body, signal, redirect: 'error' });
      } catch (error) {
        throw fromTheNetwork(error);
      }
      if (signal?.aborted) {
        // A fetch that ignored the abort: the call has already ended; drop the late reply.
        void response.body?.cancel().catch(() => {});
        throw signal.reason;
      }
      if (response.status !== 429 || attempt >= retry.retries) return last(response, limits);
      let delay = retryDelay(retry, attempt, parseRetryAfter(response.headers.get('Retry-After'), now()));
      // A signed re-send needs a new X-Timestamp: wait into the next second at least.
      if (signer) delay = Math.max(delay, (lastTimestamp + 1) * 1000 - now());
      // A wait past the budget, or past the call's deadline, ends the call now with the 429's ApiError.
      const outOfTime = limits !== undefined && performance.now() + delay >= limits.deadline;
      if (outOfTime || now() - started + delay > retry.maxElapsedMs) return last(response, limits);
      await response.body?.cancel();
      await sleep(delay, signal ?? undefined);
    }
  };
}

/**
 * The body as it will be sent: a string stays a string (fetch sends its UTF-8 bytes, and the
 * signature hashes the same; encoding it here would cost fetch a second copy), anything else
 * becomes its bytes.
 */
async function bodyOf(input: EdgeRequest | Request): Promise<Uint8Array<ArrayBuffer> | string | undefined> {
  if (input instanceof EdgeRequest) {
    if (input.body === null) return undefined;
    if (typeof input.body === 'string') return input.body;
    return new Uint8Array(await new Response(input.body).arrayBuffer());
  }
  return input.body === null ? undefined : new Uint8Array(await input.arrayBuffer());
}

const networkFailures = new WeakSet<object>();

/** Marks what fetch, or reading a body, threw: only these can be network failures (not a middleware's error). */
function fromTheNetwork(error: unknown): unknown {
  if (typeof error === 'object' && error !== null) networkFailures.add(error);
  return error;
}

/** True for an error thrown by fetch or while reading a reply's body (see `networkFailure` in client.ts). */
export function isFromTheNetwork(error: unknown): boolean {
  return networkFailures.has(error as object);
}

/**
 * A reply's body, refused with InvalidResponseError `too-large` past `max` bytes: by an exact
 * Content-Length before reading, else counted as the bytes arrive (after decompression: a gzip
 * reply counts by its decompressed size). Once `signal` has aborted (a fetch that ignored it),
 * reading stops and the body is cancelled.
 */
export async function readBody(response: Response, max: number, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>[]> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  const reader = response.body?.getReader();
  let over = (exactLength(response) ?? 0) > max;
  for (let seen = 0; reader; ) {
    if (over || signal?.aborted) {
      void reader.cancel().catch(() => {});
      throw signal?.aborted ? signal.reason : new InvalidResponseError('too-large', response.status, `the body is over the ${max}-byte limit`);
    }
    let read: ReadableStreamReadResult<Uint8Array<ArrayBuffer>>;
    try {
      read = await reader.read();
    } catch (error) {
      throw fromTheNetwork(error);
    }
    if (read.done) break;
    chunks.push(read.value);
    over = (seen += read.value.byteLength) > max;
  }
  return chunks;
}

const decoder = new TextDecoder();

/** `readBody()` decoded as UTF-8, as `Response.text()` decodes. */
export async function readText(response: Response, max: number, signal?: AbortSignal): Promise<string> {
  let text = '';
  for (const chunk of await readBody(response, max, signal)) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** Content-Length when it is the body's length (not of a compressed body). */
function exactLength(response: Response): number | undefined {
  const declared = response.headers.get('Content-Length');
  return declared === null || response.headers.has('Content-Encoding') ? undefined : Number(declared);
}

/**
 * The reply as openapi-fetch will read it (calls through `client.api`, and replies other than
 * 2xx), within the cap: as it is when its exact length is within the cap, else read first.
 */
async function capped(response: Response, max: number): Promise<Response> {
  if (response.body === null || (exactLength(response) ?? Infinity) <= max) return response;
  return new Response(new Blob(await readBody(response, max)), response);
}
