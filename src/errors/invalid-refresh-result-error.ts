import { TokenApiError } from './token-api-error.js';

/** What is wrong with what a refresh function resolved with. */
export type InvalidRefreshResultReason = 'not-an-object' | 'invalid-token' | 'invalid-expiry' | 'expiry-not-in-future';

/**
 * The refresh function resolved, but not with a usable `{ token, expiresAt }`: no token, or
 * an expiry that is unreadable or not in the future. The values themselves are never
 * copied into the error (the token is a secret). `TokenManager` treats it as a failed
 * refresh.
 */
export class InvalidRefreshResultError extends TokenApiError {
  override name = 'InvalidRefreshResultError' as const;
  readonly reason: InvalidRefreshResultReason;

  constructor(reason: InvalidRefreshResultReason, detail: string) {
    super(`invalid refresh result: ${detail}`);
    this.reason = reason;
  }
}
