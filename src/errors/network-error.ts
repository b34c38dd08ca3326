import { TokenApiError } from './token-api-error.js';

/** The request could not be completed: connection refused or reset, DNS, TLS. */
export class NetworkError extends TokenApiError {
  override name = 'NetworkError' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
