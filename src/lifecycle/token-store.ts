import { isCredential } from '../credential.js';
import { InvalidInputError } from '../errors/invalid-input-error.js';
import { isEpochMs, toEpochMs } from '../instant.js';

/**
 * A token and when it expires, as a store keeps it. `expiresAt` is in milliseconds since
 * the epoch (a number, so comparisons on the hot path need no Date).
 */
export interface StoredToken {
  readonly token: string;
  readonly expiresAt: number;
  /**
   * When the member that refreshed it got it (ms since the epoch), stamped by `TokenManager`.
   * Optional: with it, every member, a restarted one too, agrees when a token that lives less
   * than twice `refreshWindowMs` is due (half its life); a store should keep it with the token.
   */
  readonly issuedAt?: number;
}

/**
 * Where `TokenManager` persists the token. A successful refresh invalidates the old token,
 * so the new one must survive a restart: `load` is read on first use and again around
 * every refresh, `save` keeps a new token. `load` resolves `undefined` when the store
 * holds no token yet.
 *
 * **Coordination (optional).** A store that several processes or machines share offers
 * `lock` and `waitForChange` (both, or neither). A `TokenManager` on such a store
 * coordinates by default, so a fleet holding one token makes one refresh per rotation:
 *
 * 1. re-read the store: if it holds a token other than the one held (and not one this
 *    manager already replaced), another member has rotated: use it;
 * 2. `lock(ttlMs)`; no lock: `waitForChange` (the holder saves or releases, or its lease
 *    runs out: a dead holder's lock expires after `ttlMs`, then `lock` succeeds), go to 1
 *    (a token the wait resolved with is that step's read);
 * 3. re-read the store under the lock (same test as 1), through `lock.load()` when the lock
 *    offers it (a read made in the same atomic step as taking the lock);
 * 4. refresh, renewing the lock every `ttlMs / 3` meanwhile;
 * 5. `lock.saveIf(seen, next)`: saved only if the store still holds `seen` (what step 3
 *    read) and the lock is still this one, checked by the store in the same step;
 * 6. `lock.release()`.
 *
 * A fencing value (`TokenStoreLock.fence`) names one holding of the lock; a holder whose
 * lease ran out (paused, partitioned) finds its `saveIf` refused with `'lost'` even when it
 * resumes mid-save. The formats of `FileTokenStore` and `RedisTokenStore` are documented
 * with them, so members written in other languages can take part.
 *
 * Implementations must never put the token into an error, a log line or their own
 * `util.inspect` / JSON output (keep it in a `#private` field).
 */
export interface TokenStore {
  load(): Promise<StoredToken | undefined>;
  /** Replaces the stored token unconditionally (no lock): for single-process use. */
  save(token: StoredToken): Promise<void>;
  /**
   * Takes the store's lock for `ttlMs` (a lease; a lock whose lease ran out is free), or
   * resolves `undefined` when another holder has it. Rejects when the store cannot be reached.
   */
  lock?(ttlMs: number): Promise<TokenStoreLock | undefined>;
  /**
   * Resolves when the stored token may differ from `seen` (`undefined`: the store was
   * empty) or the lock may have been released, or after `timeoutMs`, or when `signal`
   * aborts; whichever comes first. It never rejects: the caller re-reads the store after
   * it, so a spurious wake-up is harmless, and a missed one costs at most `timeoutMs`.
   * When the store's own notice of a save (made after the wait began) carried the saved
   * token, it may resolve with that token instead: the caller takes it as its read if it is a
   * valid token that expires after the one the caller last read, and reads the store otherwise
   * (a late notice of an older save is never taken).
   */
  waitForChange?(seen: string | undefined, options: { timeoutMs: number; signal?: AbortSignal }): Promise<StoredToken | void>;
}

/** What `TokenStoreLock.saveIf` did: `changed`: the store no longer holds the token expected; `lost`: the lock is no longer this one. */
export type SaveIfResult = 'saved' | 'changed' | 'lost';

/** One holding of a store's lock (see `TokenStore.lock`). */
export interface TokenStoreLock {
  /** The fencing value: unique to this holding, checked by the store on every step below. */
  readonly fence: string;
  /**
   * Reads the store under this lock, as `TokenStore.load` does (optional). A store that read
   * it in the same atomic step as it took the lock answers from that read, without another
   * round trip; the manager calls it once, right after the lock was taken.
   */
  load?(): Promise<StoredToken | undefined>;
  /** Extends the lease by the `ttlMs` it was taken with; `false` when the lock is no longer this one. */
  renew(): Promise<boolean>;
  /**
   * Compare-and-set: saves `next` only if the store holds `expected` (`undefined`: holds
   * nothing) and this lock is still held, both checked in the same atomic step as the write.
   * `onVisible`, when given, is called at most once, as soon as other members can read `next`
   * and before the store has finished making it durable (an fsync still running): the
   * manager serves the new token to its callers then. A store that writes in one step may
   * ignore it (the manager serves on `'saved'` anyway).
   */
  saveIf(expected: string | undefined, next: StoredToken, options?: { onVisible?: () => void }): Promise<SaveIfResult>;
  /** Frees the lock if it is still this one; never frees another holder's lock. */
  release(): Promise<void>;
}

/** True when `store` offers the coordination capabilities (`lock` and `waitForChange`). */
export function canCoordinate(store: TokenStore): store is TokenStore & Required<Pick<TokenStore, 'lock' | 'waitForChange'>> {
  return typeof store.lock === 'function' && typeof store.waitForChange === 'function';
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
  const { issuedAt } = value as Record<string, unknown>;
  if (issuedAt === undefined) return { token, expiresAt: Math.floor(expiresAt) };
  if (!isEpochMs(issuedAt)) {
    throw new InvalidInputError(`${field}.issuedAt`, 'must be a finite number of milliseconds since the epoch, or left out');
  }
  return { token, expiresAt: Math.floor(expiresAt), issuedAt: Math.floor(issuedAt) };
}

/**
 * A record read from a store's text form (a file, a Redis hash), its dates ISO 8601 strings
 * there. A missing or unreadable `token` or `expiresAt` throws what `corrupt(what)` builds
 * (naming the place, never the token); `issuedAt` is kept when readable and left out otherwise,
 * since it is advisory (see `StoredToken`).
 */
export function readRecord(token: unknown, expiresAt: unknown, issuedAt: unknown, corrupt: (what: string) => Error): StoredToken {
  if (!isCredential(token)) throw corrupt('has no valid "token"');
  const expires = typeof expiresAt === 'string' ? toEpochMs(expiresAt) : Number.NaN;
  if (Number.isNaN(expires)) throw corrupt('has no valid "expiresAt" (an ISO 8601 date-time)');
  const issued = typeof issuedAt === 'string' ? toEpochMs(issuedAt) : Number.NaN;
  return Number.isNaN(issued) ? { token, expiresAt: expires } : { token, expiresAt: expires, issuedAt: issued };
}

/**
 * The default store: keeps the token in memory only, so a restart loses it. Use the file
 * store (`longbridge-token-api/file-store`, Node only) or your own `TokenStore` to keep the
 * refreshed token across restarts.
 */
export class MemoryTokenStore implements TokenStore {
  /** Private: never shown by `util.inspect` or JSON. */
  #record: StoredToken | undefined;

  constructor(initial?: StoredToken) {
    if (initial !== undefined) this.#record = checkStoredToken(initial, 'initial');
  }

  async load(): Promise<StoredToken | undefined> {
    return this.#record && { ...this.#record };
  }

  async save(token: StoredToken): Promise<void> {
    this.#record = checkStoredToken(token);
  }
}
