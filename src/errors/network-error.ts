import { TokenApiError } from './token-api-error.js';

/** The request could not be completed: connection refused or reset, DNS, TLS, a redirect. */
export class NetworkError extends TokenApiError {
  override name = 'NetworkError' as const;
  /**
   * False only when the request certainly never reached the server (connection refused,
   * host not found). When true, a refresh may have been carried out: the old token may
   * already be invalid, so do not blindly re-send it.
   */
  readonly mayHaveReachedServer: boolean;

  constructor(message: string, options: { cause?: unknown; mayHaveReachedServer: boolean }) {
    super(
      options.mayHaveReachedServer
        ? `${message}; the request may have reached the server: if it was a refresh, the old token may already be invalid`
        : message,
      { cause: options.cause },
    );
    this.mayHaveReachedServer = options.mayHaveReachedServer;
  }
}
