import { InvalidInputError } from './errors/invalid-input-error.js';

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

/** The largest instant a Date can hold, in ms since the epoch. */
export const MAX_EPOCH_MS = 8.64e15;

/**
 * True for a usable token: a non-empty string without surrounding white space, line breaks
 * or other control characters (it is sent raw as the Authorization header).
 */
export function isTokenString(value: unknown): value is string {
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value !== '' && value.trim() === value && !/[\x00-\x1f\x7f]/.test(value);
}

/** True for an expiry in ms since the epoch that a Date can represent. */
export function isEpochMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_EPOCH_MS;
}

// RFC 3339 date-time: a full date, a time and a zone.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Reads an instant: ms since the epoch (a number), a Date, or an RFC 3339 / ISO 8601
 * date-time string with a zone. Returns whole ms since the epoch, or NaN when unreadable.
 */
export function toEpochMs(value: unknown): number {
  let ms = Number.NaN;
  if (typeof value === 'number') ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string') {
    const m = DATE_TIME.exec(value);
    if (m) {
      ms = Date.parse(value.replace(' ', 'T'));
      const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const calendar = new Date(Date.UTC(year, month - 1, day));
      // Date.parse rolls 2023-02-30 over to March 2; a real calendar day round-trips.
      if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) ms = Number.NaN;
    }
  }
  return isEpochMs(ms) ? Math.floor(ms) : Number.NaN;
}

/** Checks a `StoredToken` passed to `save`; the token itself never appears in the error. */
export function checkStoredToken(value: unknown, field = 'token'): StoredToken {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidInputError(field, 'must be an object { token, expiresAt }');
  }
  const { token, expiresAt } = value as Record<string, unknown>;
  if (!isTokenString(token)) {
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
