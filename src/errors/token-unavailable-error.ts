import { isEpochMs } from '../instant.js';
import { TokenApiError } from './token-api-error.js';

/** Why `TokenManager` has no usable token. */
export type TokenUnavailableReason = 'no-token' | 'expired';

/**
 * `TokenManager` cannot hand out a token: it has none at all (`no-token`: no `initial`
 * token and nothing in the store), or the one it holds has expired and could not be
 * refreshed (`expired`; `cause` is the refresh's error, as the refresh function threw it).
 * Its own message and fields never carry the token; `cause` is clean when the refresh is
 * this package's client (`clientRefresh`), but a refresh function of your own that quotes
 * the token in its errors would show it there.
 */
export class TokenUnavailableError extends TokenApiError {
  override name = 'TokenUnavailableError' as const;
  readonly reason: TokenUnavailableReason;
  /** `expired`: when the token expired, in ms since the epoch. */
  readonly expiresAt: number | undefined;

  /** `why`: a short, token-free summary of the refresh failure (for `expired`). */
  constructor(reason: TokenUnavailableReason, init: { expiresAt?: number; why?: string; cause?: unknown } = {}) {
    super(
      reason === 'no-token'
        ? 'no access token: the token store holds none and no `initial` token was given; pass `initial: { token, expiresAt }` or save a token in the store'
        : `the access token expired at ${isoOf(init.expiresAt)} and could not be refreshed${init.why ? `: ${init.why}` : ''}; get a new token from the developer portal if the refresh keeps failing`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.reason = reason;
    this.expiresAt = init.expiresAt;
  }
}

function isoOf(ms: number | undefined): string {
  return isEpochMs(ms) ? new Date(ms).toISOString() : 'an unknown time';
}
