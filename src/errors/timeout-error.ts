import { TokenApiError } from './token-api-error.js';

/** No complete reply within `timeoutMs`. The request may have reached the server. */
export class TimeoutError extends TokenApiError {
  override name = 'TimeoutError' as const;
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`no complete reply within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}
