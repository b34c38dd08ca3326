import type { Client } from 'openapi-fetch';
import { accountChannelValues, type components, type operations, type paths } from '../../generated/openapi.js';
import { regionBaseUrls } from '../../generated/servers.js';
import { CREDENTIAL_RULE, isCredential } from '../credential.js';
import { readEnvelope, type RefreshTokenData } from './envelope.js';
import { describeNumber, describeValue, InvalidInputError, readField } from '../errors/invalid-input-error.js';
import { isEpochMs } from '../instant.js';
import { NetworkError } from '../errors/network-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import {
  toLiveExpiredAt,
  toRefreshTokenBody,
  toSignal,
  type CallOptions,
  type RefreshAccessTokenInput,
  type RefreshTokenInput,
} from './refresh-input.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { createSigner } from './signing.js';
import { createApi, createTransport, DEFAULT_MAX_RESPONSE_BYTES, EdgeRequest, isFromTheNetwork, readText, type CallLimits } from './transport.js';

/** `Account-Channel`: `lb` (Longbridge / 长桥) or `pspl_sg` (Phillip Securities Singapore / 新加坡辉立). */
export type AccountChannel = components['schemas']['AccountChannel'];

/** The request's media type, fixed by the spec: `application/json; charset=utf-8`. */
export type RequestContentType = keyof operations['refreshToken']['requestBody']['content'];
const CONTENT_TYPE: RequestContentType = 'application/json; charset=utf-8';

/** The paths of the two operations, checked against the spec's. */
const HISTORICAL_PATH = '/v1/openapi/token/refresh' satisfies keyof paths;
const LIVE_PATH = '/v1/token/refresh' satisfies keyof paths;

/** A region of the live service: `global` (the default) or `cn` (mainland China). */
export type Region = keyof typeof regionBaseUrls;
/** Each region's host, from the spec's `servers` (`x-region`; generated/servers.ts). */
export const REGION_BASE_URLS: Readonly<Record<Region, string>> = regionBaseUrls;
/** The global host, used when neither `baseUrl` nor `region` is given. */
export const DEFAULT_BASE_URL: string = regionBaseUrls.global;
export const DEFAULT_TIMEOUT_MS = 30_000;
/** The official SDKs' default lifetime of a refreshed token. */
export const DEFAULT_TOKEN_LIFETIME_MS = 90 * 24 * 3600 * 1000;

export interface TokenClientOptions {
  /** The current access token, sent raw as `Authorization` (no `Bearer` prefix). */
  accessToken: string;
  /**
   * Sent as `Account-Channel` by `refreshToken`, the historical form, which needs it: a client
   * created without it has no `refreshToken`. The live form (`refreshAccessToken`) does not use it.
   */
  accountChannel?: AccountChannel;
  /** Give both to sign every request (X-Api-Key, X-Timestamp, X-Api-Signature), as the live service requires. */
  appKey?: string;
  appSecret?: string;
  /** The host by region: `global` (https://openapi.longbridge.com, the default) or `cn` (https://openapi.longbridge.cn). Not with `baseUrl`. */
  region?: Region;
  /** `https://…`, or `http://` on a loopback host only. Default: the `region`'s host. Not with `region`. */
  baseUrl?: string;
  /** Used for every request, called as `fetch(url, init)`; defaults to the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Per call, retries included: reject with TimeoutError when no complete reply arrives in time. Default 30 000. */
  timeoutMs?: number;
  /** Re-sending on HTTP 429 (the only status re-sent); `false` turns it off. */
  retry?: Partial<RetryPolicy> | false;
  /** Replies larger than this are refused with InvalidResponseError `too-large`. Default 1 MiB. */
  maxResponseBytes?: number;
  /** The clock, in ms since the epoch (default `Date.now`): `expiredAt` checks and X-Timestamp. */
  now?: () => number;
}

export type { CallOptions, RefreshAccessTokenInput } from './refresh-input.js';

/** A client created without `accountChannel`: the live form and `client.api`. */
export interface LiveTokenClient {
  /** The live form, `GET /v1/token/refresh?expired_at=…`, as the live service and the official SDKs call it. */
  refreshAccessToken(input?: RefreshAccessTokenInput, options?: CallOptions): Promise<RefreshTokenData>;
  /** The underlying openapi-fetch client, typed by the spec; it sends Authorization, Content-Type and signs. */
  readonly api: Client<paths>;
}

/** A client created with `accountChannel`: also the historical form, `refreshToken`. */
export interface TokenClient extends LiveTokenClient {
  /** The historical form of the 2022-04-21 documentation page, `POST /v1/openapi/token/refresh`: creates a new token for `aaid`, valid until `expiredAt`. */
  refreshToken(input: RefreshTokenInput, options?: CallOptions): Promise<RefreshTokenData>;
}

/** What `call()` adds to each request of a call: its signal, and a fetch that knows its deadline. */
interface CallInit {
  signal: AbortSignal;
  fetch: (request: Request) => Promise<Response>;
}

/**
 * Creates a client for the refresh-token endpoint. Throws InvalidInputError for bad options.
 * With `accountChannel` it has `refreshToken` (the historical form) too; without it, only the
 * live form. It reads no environment: every setting is an option.
 */
export function createTokenClient(options: TokenClientOptions & { accountChannel: AccountChannel }): TokenClient;
export function createTokenClient(options: TokenClientOptions): LiveTokenClient;
export function createTokenClient(options: TokenClientOptions): TokenClient {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options', 'must be an object { accessToken, accountChannel, ... }');
  }
  const option = (key: keyof TokenClientOptions) => readField(options, key);
  const accessToken = checkHeaderSecret('accessToken', option('accessToken'));
  if (/^bearer\s/i.test(accessToken)) {
    throw new InvalidInputError('accessToken', 'must be the raw token: remove the "Bearer " prefix');
  }
  const channelOption = option('accountChannel');
  const accountChannel = channelOption === undefined ? undefined : checkAccountChannel(channelOption);
  const [appKey, appSecret] = [option('appKey'), option('appSecret')];
  const signer = checkSigningKeys(appKey, appSecret);
  const baseUrl = checkBaseUrl(option('baseUrl'), option('region'));
  const timeoutMs = checkMs('timeoutMs', option('timeoutMs') ?? DEFAULT_TIMEOUT_MS);
  const maxResponseBytes = checkMs('maxResponseBytes', option('maxResponseBytes') ?? DEFAULT_MAX_RESPONSE_BYTES);
  const retry = checkRetry(option('retry'));
  const clock = checkClock(option('now'));
  const fetchOption = option('fetch');
  if (fetchOption !== undefined && typeof fetchOption !== 'function') {
    throw new InvalidInputError('fetch', `must be a fetch function, got ${describeValue(fetchOption)}`);
  }
  const fetchImpl = (fetchOption as typeof globalThis.fetch | undefined) ?? ((url, init) => globalThis.fetch(url, init));
  const origin = new URL(baseUrl).origin;

  const send = createTransport({ fetch: fetchImpl, signer, retry, now: clock, maxResponseBytes });
  // What a server's words are scrubbed of before they become part of an error (src/redact.ts).
  const secrets = [accessToken, appKey as string | undefined, appSecret as string | undefined];
  const baseHeaders = { Authorization: accessToken, 'Content-Type': CONTENT_TYPE };
  const { api, usesMiddleware } = createApi({ baseUrl, headers: baseHeaders, fetch: (request) => send(request) });

  /**
   * A refresh call that no middleware sees (the usual case): the request openapi-fetch would
   * build (the URL, the client's headers plus `header`, the JSON body), built here without its
   * per-call cost, which was most of this client's CPU over a bare fetch (issue 12);
   * test/direct-request.test.ts checks that both ways send the same bytes. With middleware the
   * call goes through openapi-fetch, which hands the middleware a real Request. Resolves as
   * openapi-fetch does with `parseAs: 'stream'`: a 2xx body left unread, any other one read
   * (within the cap) and decoded as JSON where it is JSON.
   */
  async function direct(method: 'GET' | 'POST', url: string, header: Record<string, string>, body: string | undefined, init: CallInit) {
    // In openapi-fetch's order: its default Content-Type first where there is a body (then
    // overwritten by the client's), the client's headers, the call's.
    const headers = new Headers(body === undefined ? baseHeaders : { 'Content-Type': CONTENT_TYPE, Authorization: accessToken });
    for (const [name, value] of Object.entries(header)) headers.set(name, value);
    const response = await init.fetch(new EdgeRequest(url, { method, headers, body, signal: init.signal }) as unknown as Request);
    if (response.ok) return { response };
    let error: unknown = await readText(response, maxResponseBytes, init.signal);
    try {
      error = JSON.parse(error as string);
    } catch {
      // not JSON: the raw text, as openapi-fetch leaves it
    }
    return { error, response };
  }

  /**
   * One call: a hard deadline over everything (retries and the body read included), the
   * caller's signal, and our errors. The deadline and the caller's abort settle the call by
   * themselves, even when `fetch` ignores the signal; whatever the work does after that is
   * dropped (a late reply's body is cancelled by the transport). The transport notes every
   * signature the call sent in `limits.signatures`, so that the reply's message is scrubbed of
   * them too. `at` is the clock read when the call began: the clock is not read
   * again once a reply is in, so a clock gone bad cannot cost a refresh that went through.
   */
  function call(
    request: (init: CallInit) => Promise<{ data?: unknown; error?: unknown; response: Response }>,
    callerSignal: AbortSignal | undefined,
    at: number,
  ): Promise<RefreshTokenData> {
    if (callerSignal?.aborted) return Promise.reject(callerSignal.reason);
    const controller = new AbortController();
    const limits: CallLimits = { deadline: performance.now() + timeoutMs, signatures: [] };
    const init: CallInit = { signal: controller.signal, fetch: (req: Request) => send(req, limits) };
    return new Promise<RefreshTokenData>((resolve, reject) => {
      const stop = (reason: unknown) => {
        settle();
        reject(reason);
        controller.abort(reason);
      };
      const timer = setTimeout(() => stop(new TimeoutError(timeoutMs)), timeoutMs);
      const forward = () => stop(callerSignal!.reason);
      callerSignal?.addEventListener('abort', forward, { once: true });
      const settle = () => {
        clearTimeout(timer);
        callerSignal?.removeEventListener('abort', forward);
      };
      request(init)
        .then(async ({ error, response }) =>
          // A 2xx body is read here, capped as it is read (parseAs 'stream' leaves it unread).
          readEnvelope(
            response.ok ? await readText(response, maxResponseBytes, controller.signal) : error,
            response,
            at,
            [...secrets, ...limits.signatures],
          ),
        )
        .then(
          (data) => (settle(), resolve(data)),
          // What a middleware (or anything but fetch and the body read) threw passes unchanged.
          (error: unknown) => (settle(), reject(isFromTheNetwork(error) ? networkFailure(error, origin) : error)),
        );
    });
  }

  return {
    api,
    refreshToken(input, callOptions) {
      let body, signal, at;
      try {
        if (accountChannel === undefined) {
          throw new InvalidInputError(
            'accountChannel',
            'is needed by refreshToken (the historical POST form): create the client with accountChannel "lb" or "pspl_sg", or call refreshAccessToken (the live form), which needs none',
          );
        }
        at = clock();
        signal = toSignal(callOptions);
        body = toRefreshTokenBody(input, at);
      } catch (error) {
        return Promise.reject(error);
      }
      const header = { 'Account-Channel': accountChannel };
      return call(
        (init) =>
          usesMiddleware()
            ? api.POST(HISTORICAL_PATH, { params: { header }, body, parseAs: 'stream', ...init })
            : direct('POST', `${baseUrl}${HISTORICAL_PATH}`, header, JSON.stringify(body), init),
        signal,
        at,
      );
    },
    refreshAccessToken(input, callOptions) {
      let expired_at: string, signal, at;
      try {
        at = clock();
        signal = toSignal(callOptions);
        expired_at = toLiveExpiredAt(input, at, DEFAULT_TOKEN_LIFETIME_MS);
      } catch (error) {
        return Promise.reject(error);
      }
      return call(
        (init) =>
          usesMiddleware()
            ? api.GET(LIVE_PATH, { params: { query: { expired_at } }, parseAs: 'stream', ...init })
            : direct('GET', `${baseUrl}${LIVE_PATH}?expired_at=${encodeURIComponent(expired_at)}`, {}, undefined, init),
        signal,
        at,
      );
    },
  };
}

// Failures that prove the request never left this machine; anything else may have reached the server.
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_INVALID_ARG']);
// TLS failures of the handshake, before any byte of the request is written: the certificate
// checks, and OpenSSL refusing the server's first reply (https to a plain-http port is
// ERR_SSL_WRONG_VERSION_NUMBER) or the protocol it offers.
const TLS_FAILURE =
  /^(CERT_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|ERR_SSL_(WRONG_VERSION_NUMBER|UNSUPPORTED_PROTOCOL|SSLV3_ALERT_HANDSHAKE_FAILURE|TLSV1_ALERT_PROTOCOL_VERSION)$)/;

/** Maps what fetch threw to NetworkError; this package's own errors pass through. */
function networkFailure(error: unknown, origin: string): unknown {
  if (!(error instanceof TypeError)) return error;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  // Node puts the code on `cause`; Bun on the TypeError itself.
  const ownCode = (error as { code?: unknown }).code;
  const code = typeof cause?.code === 'string' ? cause.code : typeof ownCode === 'string' ? ownCode : undefined;
  const why = code ?? String(cause?.message ?? error.message);
  // fetch refuses blocked ports ("bad port") before connecting.
  const neverSent = code ? NEVER_SENT.has(code) || TLS_FAILURE.test(code) : cause?.message === 'bad port';
  const mayHaveReachedServer = !neverSent;
  return new NetworkError(`request to ${origin} failed: ${why}`, { cause: error, mayHaveReachedServer });
}

/** A credential that goes into a header. Its value never appears in a message. */
function checkHeaderSecret(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidInputError(field, `must be a non-empty string, got ${describeValue(value)}`);
  }
  if (!isCredential(value)) {
    throw new InvalidInputError(field, CREDENTIAL_RULE);
  }
  return value;
}

function checkSigningKeys(appKey: unknown, appSecret: unknown) {
  if (appKey === undefined && appSecret === undefined) return undefined;
  if (appKey === undefined || appSecret === undefined) {
    const missing = appKey === undefined ? 'appKey' : 'appSecret';
    throw new InvalidInputError(missing, 'signing needs both appKey and appSecret: give both, or neither for unsigned requests');
  }
  return createSigner(checkHeaderSecret('appKey', appKey), checkHeaderSecret('appSecret', appSecret));
}

function checkAccountChannel(value: unknown): AccountChannel {
  if (!accountChannelValues.includes(value as AccountChannel)) {
    throw new InvalidInputError(
      'accountChannel',
      `must be one of ${accountChannelValues.map((v) => `"${v}"`).join(', ')}, got ${
        typeof value === 'string' ? JSON.stringify(value) : describeValue(value)
      }`,
    );
  }
  return value as AccountChannel;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

function checkBaseUrl(value: unknown, region: unknown): string {
  if (region !== undefined) {
    if (value !== undefined) throw new InvalidInputError('region', 'cannot be combined with baseUrl: give one of the two');
    if (typeof region === 'string' && Object.hasOwn(regionBaseUrls, region)) return regionBaseUrls[region as Region];
    const regions = Object.keys(regionBaseUrls).map((name) => `"${name}"`).join(' or ');
    throw new InvalidInputError('region', `must be ${regions}, got ${typeof region === 'string' ? JSON.stringify(region.slice(0, 20)) : describeValue(region)}`);
  }
  if (value === undefined) return DEFAULT_BASE_URL;
  if (typeof value !== 'string') throw new InvalidInputError('baseUrl', `must be a URL string, got ${describeValue(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError('baseUrl', `must be an absolute URL such as "${DEFAULT_BASE_URL}", got ${JSON.stringify(value)}`);
  }
  if (url.username || url.password) {
    throw new InvalidInputError('baseUrl', 'must not contain credentials; pass the token as accessToken');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new InvalidInputError(
      'baseUrl',
      `must use https (plain http is allowed only on a loopback host such as 127.0.0.1), got ${url.protocol}//${url.host}`,
    );
  }
  if (url.search || url.hash) throw new InvalidInputError('baseUrl', 'must not have a query or a fragment');
  return url.href.replace(/\/+$/, '');
}

function checkMs(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > 2_147_483_647) {
    throw new InvalidInputError(field, `must be a whole number from 1 to 2147483647, got ${describeNumber(value)}`);
  }
  return value;
}

function checkRetry(value: unknown): RetryPolicy | false {
  if (value === false) return false;
  if (value === undefined) return DEFAULT_RETRY;
  if (typeof value !== 'object' || value === null) {
    throw new InvalidInputError('retry', `must be false or { retries, baseDelayMs, maxDelayMs, maxElapsedMs }, got ${describeValue(value)}`);
  }
  const policy = { ...DEFAULT_RETRY };
  for (const key of Object.keys(DEFAULT_RETRY) as Array<keyof RetryPolicy>) {
    const n = readField(value, key, `retry.${key}`) ?? DEFAULT_RETRY[key];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 2_147_483_647 || (key === 'retries' && n > 20)) {
      throw new InvalidInputError(`retry.${key}`, `must be a whole number from 0 to ${key === 'retries' ? 20 : 2147483647}, got ${describeNumber(n)}`);
    }
    policy[key] = n;
  }
  return policy;
}

/**
 * The caller's clock (default `Date.now`), checked at every read: a value that is not ms since
 * the epoch, from 0 to 8.64e15, is InvalidInputError `now`, so no request goes out stamped
 * `X-Timestamp: NaN`. What the clock itself throws passes through.
 */
function checkClock(now: unknown): () => number {
  if (now === undefined) return Date.now;
  if (typeof now !== 'function') {
    throw new InvalidInputError('now', `must be a function returning ms since the epoch, such as () => Date.now(), got ${describeValue(now)}`);
  }
  return () => {
    const ms: unknown = now();
    if (isEpochMs(ms) && ms >= 0) return ms;
    throw new InvalidInputError('now', `must return ms since the epoch, a number from 0 to 8.64e15, but returned ${describeNumber(ms)}`);
  };
}
