import { isCredential } from '../credential.js';
import { InvalidInputError } from '../errors/invalid-input-error.js';
import { isEpochMs } from '../instant.js';

/**
 * A token and when it expires, as a store keeps it. `expiresAt` is in milliseconds since
 * the epoch (a number, so comparisons on the hot path need no Date).
 */
export interface StoredToken {
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * Where `TokenManager` persists the token. A successful refresh invalidates the old token,
 * so the new one must survive a restart: `save` is called after every refresh, `load` on
 * first use. `load` resolves `undefined` when the store holds no token yet.
 *
 * Implementations must never put the token into an error, a log line or their own
 * `util.inspect` / JSON output (keep it in a `#private` field).
 */
export interface TokenStore {
  load(): Promise<StoredToken | undefined>;
  save(token: StoredToken): Promise<void>;
}

/** Checks a `StoredToken` passed to `save`; the token itself never appears in the error. */
export function checkStoredToken(value: unknown, field = 'token'): StoredToken {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidInputError(field, 'must be an object { token, expiresAt }');
  }
  const { token, expiresAt } = value as Record<string, unknown>;
  if (!isCredential(token)) {
    throw new InvalidInputError(`${field}.token`, 'must be a non-empty string without surrounding white space or line breaks');
  }
  if (!isEpochMs(expiresAt)) {
    throw new InvalidInputError(`${field}.expiresAt`, 'must be a finite number of milliseconds since the epoch');
  }
  return { token, expiresAt: Math.floor(expiresAt) };
}

/**
 * The default store: keeps the token in memory only, so a restart loses it. Use the file
 * store (`longbridge-token-api/file-store`, Node only) or your own `TokenStore` to keep the
 * refreshed token across restarts.
 */
export class MemoryTokenStore implements TokenStore {
  #token: string | undefined;
  #expiresAt = 0;

  constructor(initial?: StoredToken) {
    if (initial !== undefined) this.#set(checkStoredToken(initial, 'initial'));
  }

  async load(): Promise<StoredToken | undefined> {
    return this.#token === undefined ? undefined : { token: this.#token, expiresAt: this.#expiresAt };
  }

  async save(token: StoredToken): Promise<void> {
    this.#set(checkStoredToken(token));
  }

  #set(token: StoredToken): void {
    this.#token = token.token;
    this.#expiresAt = token.expiresAt;
  }
}
