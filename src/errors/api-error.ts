import { TokenApiError } from './token-api-error.js';

/**
 * The server answered with the documented envelope and a non-zero `code`, whatever the
 * HTTP status. `message` is the envelope's message, read from `message` or `msg`.
 */
export class ApiError extends TokenApiError {
  override name = 'ApiError' as const;
  /** The envelope's `code`, e.g. 401003. Never 0. */
  readonly code: number;
  /** The HTTP status of the reply. */
  readonly status: number;

  constructor(init: { code: number; message: string; status: number }) {
    super(`${init.message || 'request failed'} (code ${init.code}, HTTP ${init.status})`);
    this.code = init.code;
    this.status = init.status;
  }
}
