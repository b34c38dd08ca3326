import createClient, { type Client } from 'openapi-fetch';
import { accountChannelValues, type components, type operations, type paths } from '../generated/openapi.js';
import { readEnvelope, type RefreshTokenData } from './envelope.js';
import { InvalidInputError } from './errors/invalid-input-error.js';
import { NetworkError } from './errors/network-error.js';
import { TimeoutError } from './errors/timeout-error.js';
import { describe, toRefreshTokenBody, type RefreshTokenInput } from './refresh-input.js';

/** `Account-Channel`: `lb` (Longbridge / 长桥) or `pspl_sg` (Phillip Securities Singapore / 新加坡辉立). */
export type AccountChannel = components['schemas']['AccountChannel'];

/** The request's media type, fixed by the spec: `application/json; charset=utf-8`. */
export type RequestContentType = keyof operations['refreshToken']['requestBody']['content'];
const CONTENT_TYPE: RequestContentType = 'application/json; charset=utf-8';

/** The spec's first server, used when no `baseUrl` is given. */
export const DEFAULT_BASE_URL = 'https://openapi.longbridge.com';
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface TokenClientOptions {
  /** The current access token, sent raw as `Authorization` (no `Bearer` prefix). */
  accessToken: string;
  /** Sent as `Account-Channel`. */
  accountChannel: AccountChannel;
  /** `https://…`, or `http://` on a loopback host only. Default https://openapi.longbridge.com. */
  baseUrl?: string;
  /** Used for every request; defaults to the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Per call: reject with TimeoutError when no complete reply arrives in time. Default 30 000. */
  timeoutMs?: number;
  /** The clock, in ms since the epoch (default `Date.now`); `expiredAt` must be after it. */
  now?: () => number;
}

export interface CallOptions {
  /** Aborts the call; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface TokenClient {
  /** Creates a new token for `aaid`, valid until `expiredAt`; resolves with the reply's `data`. */
  refreshToken(input: RefreshTokenInput, options?: CallOptions): Promise<RefreshTokenData>;
  /** The underlying openapi-fetch client, typed by the spec; it sends Authorization and Content-Type. */
  readonly api: Client<paths>;
}

/** Creates a client for the refresh-token endpoint. Throws InvalidInputError for bad options. */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options', 'must be an object { accessToken, accountChannel, ... }');
  }
  const accessToken = checkAccessToken(options.accessToken);
  const accountChannel = checkAccountChannel(options.accountChannel);
  const baseUrl = checkBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  const timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const now = options.now ?? Date.now;
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new InvalidInputError('fetch', `must be a fetch function, got ${describe(options.fetch)}`);
  }

  const api = createClient<paths>({
    baseUrl,
    fetch: options.fetch, // openapi-fetch falls back to the global fetch
    headers: { Authorization: accessToken, 'Content-Type': CONTENT_TYPE },
  });

  return {
    api,
    async refreshToken(input, callOptions = {}) {
      const body = toRefreshTokenBody(input, now());
      const signal = withTimeout(timeoutMs, callOptions.signal);
      try {
        const { data, error, response } = await api.POST('/v1/openapi/token/refresh', {
          params: { header: { 'Account-Channel': accountChannel } },
          body,
          parseAs: 'text',
          signal,
        });
        return readEnvelope(response.ok ? data : error, response.status);
      } catch (error) {
        throw failureOf(error, signal, callOptions.signal, timeoutMs, baseUrl);
      }
    },
  };
}

function withTimeout(timeoutMs: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** Maps what fetch threw to this package's errors; our own errors pass through. */
function failureOf(
  error: unknown,
  signal: AbortSignal,
  callerSignal: AbortSignal | undefined,
  timeoutMs: number,
  baseUrl: string,
): unknown {
  if (callerSignal?.aborted) return callerSignal.reason;
  if (signal.aborted) return new TimeoutError(timeoutMs);
  if (error instanceof TypeError) {
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const why = typeof cause?.code === 'string' ? cause.code : String(cause?.message ?? error.message);
    return new NetworkError(`request to ${new URL(baseUrl).origin} failed: ${why}`, { cause: error });
  }
  return error;
}

function checkAccessToken(value: unknown): string {
  // The token itself never appears in these messages.
  if (typeof value !== 'string' || value === '') {
    throw new InvalidInputError('accessToken', `must be a non-empty string, got ${describe(value)}`);
  }
  if (/^bearer\s/i.test(value)) {
    throw new InvalidInputError('accessToken', 'must be the raw token: remove the "Bearer " prefix');
  }
  if (value.trim() !== value || /[\r\n\0]/.test(value)) {
    throw new InvalidInputError('accessToken', 'must not contain line breaks or surrounding white space');
  }
  return value;
}

function checkAccountChannel(value: unknown): AccountChannel {
  if (!accountChannelValues.includes(value as AccountChannel)) {
    throw new InvalidInputError(
      'accountChannel',
      `must be one of ${accountChannelValues.map((v) => `"${v}"`).join(', ')}, got ${
        typeof value === 'string' ? JSON.stringify(value) : describe(value)
      }`,
    );
  }
  return value as AccountChannel;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

function checkBaseUrl(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidInputError('baseUrl', `must be a URL string, got ${describe(value)}`);
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

function checkTimeout(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > 2_147_483_647) {
    throw new InvalidInputError('timeoutMs', `must be a whole number of milliseconds from 1 to 2147483647, got ${String(value)}`);
  }
  return value;
}
