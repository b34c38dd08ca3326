import { TokenApiError } from './token-api-error.js';

/**
 * Why a token store failed: the file could not be read or written, the file is corrupt
 * (not a token record), or a store's `load()` resolved with something that is not one.
 */
export type TokenStoreErrorReason = 'read-failed' | 'write-failed' | 'corrupt' | 'invalid-record';

/**
 * A token store could not load or save. `path` names the file (file store only). The
 * stored content is never copied into the error: it holds a token.
 */
export class TokenStoreError extends TokenApiError {
  override name = 'TokenStoreError' as const;
  readonly reason: TokenStoreErrorReason;
  /** The token file, for the file store. */
  readonly path: string | undefined;

  constructor(reason: TokenStoreErrorReason, message: string, init: { path?: string; cause?: unknown } = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.reason = reason;
    this.path = init.path;
  }
}
