// The bridge from the HTTP client to the TokenManager: a RefreshFunction that calls the API
// authorised with the manager's current token.
import { createTokenClient, DEFAULT_TIMEOUT_MS, DEFAULT_TOKEN_LIFETIME_MS, type TokenClient, type TokenClientOptions } from '../client/client.js';
import { InvalidInputError } from '../errors/invalid-input-error.js';
import { toEpochMs } from '../instant.js';
import type { RefreshFunction } from './token-manager.js';

export interface ClientRefreshOptions extends Omit<TokenClientOptions, 'accessToken'> {
  /**
   * Without `aaid`: the live form, `GET /v1/token/refresh` (`refreshAccessToken`), as the
   * live service and the official SDKs use it. With `aaid`: the historical form of the 2022-04-21 page,
   * `POST /v1/openapi/token/refresh` (`refreshToken`) for that account.
   */
  aaid?: string;
  /** Lifetime asked for each new token. Default 90 days, as the official SDKs. */
  lifetimeMs?: number;
}

/**
 * A RefreshFunction for `new TokenManager({ refresh })`. Its options are checked here, at
 * once (as `createTokenClient` checks them), not at the first refresh. Its `deadlineMs` is
 * the client's `timeoutMs` (429 re-sends included), which the manager's lock TTL exceeds.
 */
export function clientRefresh(options: ClientRefreshOptions): RefreshFunction {
  const { aaid, lifetimeMs = DEFAULT_TOKEN_LIFETIME_MS, ...clientOptions } = options;
  if (!Number.isInteger(lifetimeMs) || lifetimeMs <= 0) {
    throw new InvalidInputError('lifetimeMs', `must be a whole number of ms above 0, got ${String(lifetimeMs)}`);
  }
  // Validates every client option now; the token is the manager's, given per refresh.
  createTokenClient({ ...clientOptions, accessToken: 'validation-only' });
  if (aaid !== undefined && clientOptions.accountChannel === undefined) {
    throw new InvalidInputError('accountChannel', 'is needed with aaid (the historical POST form): give accountChannel "lb" or "pspl_sg", or leave out aaid for the live form');
  }
  const now = clientOptions.now ?? Date.now;
  const refresh: RefreshFunction = async (current) => {
    const client = createTokenClient({ ...clientOptions, accessToken: current.token }) as TokenClient; // refreshToken only with aaid, checked above
    const asked = now() + lifetimeMs;
    const expiredAt = new Date(asked);
    const data = aaid === undefined ? await client.refreshAccessToken({ expiredAt }) : await client.refreshToken({ aaid, expiredAt });
    // The server has issued data.token and the old token is dead: never let an unreadable
    // or skewed `expired_at` (unix seconds, a past instant) throw the new token away. Use the
    // server's expiry when it is a readable instant in the future, else the one asked for.
    const served = toEpochMs(data.expired_at);
    return { token: data.token, expiresAt: served > now() ? served : asked };
  };
  return Object.assign(refresh, { deadlineMs: clientOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS });
}
