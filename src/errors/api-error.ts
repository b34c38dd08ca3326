import { errorCodes, type DocumentedErrorKind } from '../../generated/error-codes.js';
import { TokenApiError } from './token-api-error.js';

/** What kind of failure an API error code is; `unknown` for a code the spec does not document. */
export type ApiErrorKind = DocumentedErrorKind | 'unknown';

/**
 * The server answered with the documented envelope and a non-zero `code`, whatever the
 * HTTP status. `message` is the envelope's message, read from `message` or `msg`, scrubbed
 * of every credential and signature the client sent (or withheld when one is too short to
 * scrub); `kind`
 * and `hint` come from the spec's table of error codes (openapi.yaml, info.x-error-codes).
 */
export class ApiError extends TokenApiError {
  override name = 'ApiError' as const;
  /** The envelope's `code`, e.g. 401003. Never 0. */
  readonly code: number;
  /** The HTTP status of the reply. */
  readonly status: number;
  readonly kind: ApiErrorKind;
  /** One line: what to do about it. */
  readonly hint: string;
  /** From `Retry-After`, when the server sent one. */
  readonly retryAfterMs: number | undefined;
  /** The reply's request id, from a response header (REQUEST_ID_HEADERS), when the server sent one. */
  readonly requestId: string | undefined;

  constructor(init: { code: number; message: string; status: number; retryAfterMs?: number | undefined; requestId?: string | undefined }) {
    const id = init.requestId === undefined ? '' : `, request id ${init.requestId}`;
    super(`${init.message || 'request failed'} (code ${init.code}, HTTP ${init.status}${id})`);
    const documented = errorCodes[init.code];
    this.code = init.code;
    this.status = init.status;
    this.kind = documented?.kind ?? (init.status >= 500 ? 'server-error' : 'unknown');
    this.hint =
      documented?.hint ??
      (init.status >= 500
        ? 'Server fault: do not blindly re-send a refresh, the old token may already be invalid; check the token first.'
        : 'An error code this package does not know: see the message, and the Longbridge OpenAPI documentation.');
    this.retryAfterMs = init.retryAfterMs;
    this.requestId = init.requestId;
  }
}
