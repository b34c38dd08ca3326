import { TokenApiError } from './token-api-error.js';

/**
 * No complete reply within `timeoutMs`. The request may have reached the server: if it was
 * a refresh, the old token may already be invalid, so it is not re-sent.
 */
export class TimeoutError extends TokenApiError {
  override name = 'TimeoutError' as const;
  readonly timeoutMs: number;
  readonly mayHaveReachedServer = true;

  constructor(timeoutMs: number) {
    super(
      `no complete reply within ${timeoutMs} ms; the request may have reached the server: if it was a refresh, the old token may already be invalid`,
    );
    this.timeoutMs = timeoutMs;
  }
}
