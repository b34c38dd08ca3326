import { TokenApiError } from './token-api-error.js';

/** Why a reply is not the documented envelope. */
export type InvalidResponseReason = 'empty-body' | 'not-json' | 'not-an-envelope' | 'missing-token' | 'too-large';

/**
 * The reply is not the documented `{code, message, data}` envelope. The body itself is
 * never copied into the error: it may hold a token.
 */
export class InvalidResponseError extends TokenApiError {
  override name = 'InvalidResponseError' as const;
  readonly reason: InvalidResponseReason;
  readonly status: number;
  /** The reply's request id, from a response header (REQUEST_ID_HEADERS), when the server sent one. */
  readonly requestId: string | undefined;

  constructor(reason: InvalidResponseReason, status: number, detail: string, requestId?: string) {
    super(`invalid response (HTTP ${status}${requestId === undefined ? '' : `, request id ${requestId}`}): ${detail}`);
    this.reason = reason;
    this.status = status;
    this.requestId = requestId;
  }
}
