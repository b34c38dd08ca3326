import { TokenApiError } from './token-api-error.js';

/**
 * Why a token store failed: the file (or Redis) could not be read or written; the file is
 * corrupt (not a token record) or not a regular file (`not-a-file`: a FIFO, a device, a
 * folder); a store's `load()` resolved with something that is not a record; the lock could
 * not be taken (`lock-failed`) or stayed taken by another member too long (`lock-timeout`);
 * the store held a token this manager did not refresh from, which it then used (`conflict`).
 */
export type TokenStoreErrorReason =
  | 'read-failed'
  | 'write-failed'
  | 'corrupt'
  | 'not-a-file'
  | 'invalid-record'
  | 'lock-failed'
  | 'lock-timeout'
  | 'conflict';

/**
 * A token store could not load or save. `path` names the file (file store only). The
 * stored content is never copied into the error: it holds a token.
 */
export class TokenStoreError extends TokenApiError {
  override name = 'TokenStoreError' as const;
  readonly reason: TokenStoreErrorReason;
  /** The token file, for the file store; the key and server, for the Redis store. */
  readonly path: string | undefined;

  constructor(reason: TokenStoreErrorReason, message: string, init: { path?: string; cause?: unknown } = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.reason = reason;
    this.path = init.path;
  }
}
