import { describeValue, InvalidInputError } from '../errors/invalid-input-error.js';
import { InvalidRefreshResultError } from '../errors/invalid-refresh-result-error.js';
import { TokenStoreError } from '../errors/token-store-error.js';
import { TokenUnavailableError } from '../errors/token-unavailable-error.js';
import { isCredential } from '../credential.js';
import { isEpochMs, toEpochMs } from '../instant.js';
import { MemoryTokenStore, type StoredToken, type TokenStore } from './token-store.js';

/** The token the manager holds, handed to the refresh function (which must authorise with it). */
export interface CurrentToken {
  readonly token: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

/** What a refresh resolves with. `expiresAt`: ms since the epoch, a Date or an ISO 8601 string. */
export interface RefreshResult {
  token: string;
  expiresAt: number | Date | string;
}

/**
 * Exchanges the current token for a new one (e.g. built on `createTokenClient(...)`'s
 * refresh call, authorised with `current.token`). A successful refresh invalidates the old
 * token. The manager never aborts a refresh it started (a refresh cut off after it reached
 * the server would leave a dead old token and no new one), so give the call its own timeout.
 */
export type RefreshFunction = (current: CurrentToken) => Promise<RefreshResult>;

/** Where a reported failure happened. */
export interface TokenErrorContext {
  /**
   * `refresh`: the refresh failed (the old token is kept while it is valid);
   * `save`: the new token could not be persisted (it is held in memory and used anyway);
   * `load`: the store could not be read (the `initial` token is used instead).
   */
  readonly phase: 'refresh' | 'save' | 'load';
  /** Expiry of the token the manager now holds (ms since the epoch), if any. */
  readonly expiresAt: number | undefined;
  /** `refresh`: the earliest time `getToken()` tries again (ms since the epoch). */
  readonly retryAt?: number;
}

export interface TokenManagerOptions {
  /** Gets a new token; see `RefreshFunction`. */
  refresh: RefreshFunction;
  /** Where the refreshed token is persisted and read on first use. Default: a `MemoryTokenStore`. */
  store?: TokenStore;
  /**
   * The token to start with, e.g. from the developer portal. On first use the store is read
   * too, and whichever of the two expires later is used (after a refresh the configured
   * token is dead and the store holds its successor).
   */
  initial?: { token: string; expiresAt: number | Date | string };
  /**
   * Refresh when the token expires within this many ms. Default 7 days (`DEFAULT_REFRESH_WINDOW_MS`).
   * After a refresh the next one is never due before half of the new token's remaining
   * life has passed, so a window longer than the token's lifetime cannot cause a refresh storm.
   */
  refreshWindowMs?: number;
  /**
   * After a failed refresh, `getToken()` waits this long before it tries again (it returns
   * the old token meanwhile, or rejects once that has expired): `initialMs`, doubling per
   * consecutive failure up to `maxMs`. Default 1 s up to 5 min. `refreshNow()` ignores it.
   */
  backoff?: { initialMs?: number; maxMs?: number };
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Called for every failure that `getToken()` survives (refresh, save, load). Exceptions it throws are ignored. */
  onError?: (error: unknown, context: TokenErrorContext) => void;
  /** Called after each successful refresh, with the new expiry (never the token). */
  onRefresh?: (info: { readonly expiresAt: number }) => void;
}

/** 7 days: a weekly job still refreshes in time, and an outage of up to a week is ridden out. */
export const DEFAULT_REFRESH_WINDOW_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_BACKOFF_INITIAL_MS = 1_000;
export const DEFAULT_BACKOFF_MAX_MS = 5 * 60 * 1000;

type Outcome = { ok: true } | { ok: false; error: unknown };
const OK: Outcome = { ok: true };

/**
 * Holds the access token and its expiry and keeps it fresh.
 *
 * - `getToken()` resolves the token. While the token is outside the refresh window this is
 *   one clock read and one comparison, returning a cached promise. Inside the window it
 *   refreshes first; all concurrent callers share one refresh.
 * - A failed refresh keeps the old token while it is valid, reports the failure to
 *   `onError` and backs off; once the token has expired, `getToken()` rejects with
 *   `TokenUnavailableError` (`reason: 'expired'`, `cause`: the refresh's error).
 * - The new token is saved to the store; if that fails it is still used (the old one is
 *   dead) and the failure is reported.
 *
 * The token is kept in `#private` fields only: it never shows in `util.inspect`, JSON or
 * `String()` of the manager, nor in any error it creates.
 */
export class TokenManager {
  readonly #refresh: RefreshFunction;
  readonly #store: TokenStore;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #backoffInitialMs: number;
  readonly #backoffMaxMs: number;
  readonly #onError: TokenManagerOptions['onError'];
  readonly #onRefresh: TokenManagerOptions['onRefresh'];

  #initial: StoredToken | undefined;
  #loaded = false;
  #token: string | undefined;
  #expiresAt = Number.NaN;
  /** Until then `getToken()` returns `#cached` without further checks; always ≤ `#expiresAt`. */
  #freshUntil = Number.NEGATIVE_INFINITY;
  #cached: Promise<string> | undefined;
  /** No automatic refresh before this (back-off after a failure). */
  #retryAt = Number.NEGATIVE_INFINITY;
  #backoffMs = 0;
  #lastError: unknown;
  #loading: Promise<void> | undefined;
  #flight: Promise<Outcome> | undefined;
  #pending: Promise<string> | undefined;

  constructor(options: TokenManagerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidInputError('options', 'must be an object { refresh, store?, initial?, ... }');
    }
    if (typeof options.refresh !== 'function') {
      throw new InvalidInputError('refresh', 'must be a function (current) => Promise<{ token, expiresAt }>');
    }
    this.#refresh = options.refresh;
    this.#store = checkStore(options.store) ?? new MemoryTokenStore();
    this.#now = checkFunction('now', options.now) ?? Date.now;
    this.#onError = checkFunction('onError', options.onError);
    this.#onRefresh = checkFunction('onRefresh', options.onRefresh);
    this.#windowMs = checkMs('refreshWindowMs', options.refreshWindowMs, DEFAULT_REFRESH_WINDOW_MS);
    const backoff = options.backoff ?? {};
    if (typeof backoff !== 'object' || backoff === null) {
      throw new InvalidInputError('backoff', 'must be an object { initialMs?, maxMs? }');
    }
    this.#backoffInitialMs = checkMs('backoff.initialMs', backoff.initialMs, DEFAULT_BACKOFF_INITIAL_MS);
    this.#backoffMaxMs = checkMs('backoff.maxMs', backoff.maxMs, Math.max(DEFAULT_BACKOFF_MAX_MS, this.#backoffInitialMs));
    if (this.#backoffMaxMs < this.#backoffInitialMs) {
      throw new InvalidInputError('backoff.maxMs', `must be at least backoff.initialMs (${this.#backoffInitialMs})`);
    }
    if (options.initial !== undefined) this.#initial = checkInitial(options.initial);
  }

  /**
   * Resolves a valid token, refreshing first when it expires within the refresh window.
   * Rejects with `TokenUnavailableError` when there is no token, or it has expired and the
   * refresh failed; with the store's error when there is no `initial` token and the store
   * cannot be read.
   */
  getToken(): Promise<string> {
    if (this.#now() < this.#freshUntil) return this.#cached as Promise<string>;
    return (this.#pending ??= this.#slowGetToken().finally(() => {
      this.#pending = undefined;
    }));
  }

  /**
   * Refreshes now, whatever the expiry and the back-off, and resolves the new token; joins
   * a refresh already in flight. Rejects with the refresh's error (also reported to
   * `onError`); the old token is kept.
   */
  async refreshNow(): Promise<string> {
    await this.#ensureLoaded();
    if (this.#token === undefined) throw new TokenUnavailableError('no-token');
    const outcome = await this.#refreshOnce();
    if (!outcome.ok) throw outcome.error;
    return this.#token;
  }

  /** When the held token expires (ms since the epoch); `undefined` before it is known. */
  get expiresAt(): number | undefined {
    return this.#token === undefined ? undefined : this.#expiresAt;
  }

  /** When `getToken()` will next refresh (ms since the epoch), or retry after a failure. */
  get refreshAt(): number | undefined {
    if (this.#token === undefined) return undefined;
    return Math.max(this.#freshUntil, this.#retryAt);
  }

  get [Symbol.toStringTag](): string {
    return 'TokenManager';
  }

  async #slowGetToken(): Promise<string> {
    await this.#ensureLoaded();
    const now = this.#now();
    if (now < this.#freshUntil) return this.#token as string;
    if (this.#token === undefined) throw new TokenUnavailableError('no-token');
    if (now < this.#retryAt && this.#flight === undefined) return this.#fallback(now, this.#lastError);
    const outcome = await this.#refreshOnce();
    return outcome.ok ? this.#token : this.#fallback(this.#now(), outcome.error);
  }

  /** The old token while it is valid, else the expired error. */
  #fallback(now: number, error: unknown): string {
    if (now < this.#expiresAt) return this.#token as string;
    throw new TokenUnavailableError('expired', {
      expiresAt: this.#expiresAt,
      why: summarize(error, this.#token),
      cause: error,
    });
  }

  #ensureLoaded(): Promise<void> | undefined {
    if (this.#loaded) return undefined;
    return (this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    }));
  }

  async #load(): Promise<void> {
    let stored: StoredToken | undefined;
    try {
      stored = checkLoaded(await this.#store.load());
    } catch (error) {
      if (this.#initial === undefined) throw error;
      this.#report(error, { phase: 'load', expiresAt: this.#initial.expiresAt });
    }
    const initial = this.#initial;
    const chosen = stored === undefined || (initial !== undefined && initial.expiresAt >= stored.expiresAt) ? initial : stored;
    if (chosen === undefined) return; // still nothing: read the store again next time
    this.#initial = undefined;
    this.#loaded = true;
    this.#hold(chosen, this.#now(), false);
  }

  #refreshOnce(): Promise<Outcome> {
    return (this.#flight ??= this.#runRefresh().finally(() => {
      this.#flight = undefined;
    }));
  }

  async #runRefresh(): Promise<Outcome> {
    const current: CurrentToken = { token: this.#token as string, expiresAt: this.#expiresAt };
    let next: StoredToken;
    try {
      next = checkRefreshResult(await this.#refresh(current), this.#now());
    } catch (error) {
      this.#lastError = error;
      this.#backoffMs = this.#backoffMs === 0 ? this.#backoffInitialMs : Math.min(this.#backoffMs * 2, this.#backoffMaxMs);
      this.#retryAt = this.#now() + this.#backoffMs;
      // Serve the old token straight from the cache until the back-off ends (or it expires);
      // a failed refreshNow() far outside the window must not make the next refresh sooner.
      this.#freshUntil = Math.min(Math.max(this.#freshUntil, this.#retryAt), this.#expiresAt);
      this.#report(error, { phase: 'refresh', expiresAt: this.#expiresAt, retryAt: this.#retryAt });
      return { ok: false, error };
    }
    this.#hold(next, this.#now(), true);
    this.#backoffMs = 0;
    this.#retryAt = Number.NEGATIVE_INFINITY;
    this.#lastError = undefined;
    if (this.#onRefresh) {
      try {
        this.#onRefresh({ expiresAt: next.expiresAt });
      } catch {
        // a listener's failure is not ours
      }
    }
    // Saved inside the flight, so saves never overlap and an older token never overwrites a newer one.
    try {
      await this.#store.save(next);
    } catch (error) {
      this.#report(error, { phase: 'save', expiresAt: next.expiresAt });
    }
    return OK;
  }

  #hold(token: StoredToken, now: number, refreshed: boolean): void {
    this.#token = token.token;
    this.#expiresAt = token.expiresAt;
    this.#cached = Promise.resolve(token.token);
    let refreshAt = token.expiresAt - this.#windowMs;
    // A fresh token is never refreshed before half its remaining life has passed.
    if (refreshed) refreshAt = Math.max(refreshAt, now + (token.expiresAt - now) / 2);
    this.#freshUntil = Math.min(refreshAt, token.expiresAt);
  }

  #report(error: unknown, context: TokenErrorContext): void {
    if (!this.#onError) return;
    try {
      this.#onError(error, context);
    } catch {
      // a listener's failure is not ours
    }
  }
}

/** Checks what a refresh function resolved with; throws InvalidRefreshResultError. */
export function checkRefreshResult(result: unknown, now: number): StoredToken {
  if (typeof result !== 'object' || result === null) {
    throw new InvalidRefreshResultError('not-an-object', `the refresh function must resolve with { token, expiresAt }, got ${describeValue(result)}`);
  }
  const { token, expiresAt } = result as Record<string, unknown>;
  if (!isCredential(token)) {
    throw new InvalidRefreshResultError(
      'invalid-token',
      `\`token\` must be a non-empty string without surrounding white space or line breaks, got ${describeValue(token)}`,
    );
  }
  const ms = toEpochMs(expiresAt);
  if (Number.isNaN(ms)) {
    throw new InvalidRefreshResultError(
      'invalid-expiry',
      `\`expiresAt\` must be ms since the epoch, a valid Date or an ISO 8601 date-time with a time zone, got ${expiryKind(expiresAt)}`,
    );
  }
  if (ms <= now) {
    const hint = typeof expiresAt === 'number' && ms < 1e11 ? ' (a number is read as milliseconds, not seconds, since the epoch)' : '';
    throw new InvalidRefreshResultError(
      'expiry-not-in-future',
      `\`expiresAt\` ${new Date(ms).toISOString()} is not after now (${isoOrRaw(now)})${hint}`,
    );
  }
  return { token, expiresAt: ms };
}

function checkInitial(value: unknown): StoredToken {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidInputError('initial', 'must be an object { token, expiresAt }');
  }
  const { token, expiresAt } = value as Record<string, unknown>;
  if (!isCredential(token)) {
    throw new InvalidInputError('initial.token', 'must be a non-empty string without surrounding white space or line breaks');
  }
  const ms = toEpochMs(expiresAt);
  if (Number.isNaN(ms)) {
    throw new InvalidInputError(
      'initial.expiresAt',
      `must be ms since the epoch, a valid Date or an ISO 8601 date-time with a time zone such as "2027-01-01T00:00:00Z", got ${expiryKind(expiresAt)}`,
    );
  }
  return { token, expiresAt: ms };
}

function checkLoaded(value: unknown): StoredToken | undefined {
  if (value === undefined || value === null) return undefined;
  const { token, expiresAt } = (typeof value === 'object' ? value : {}) as Record<string, unknown>;
  if (!isCredential(token) || !isEpochMs(expiresAt)) {
    throw new TokenStoreError(
      'invalid-record',
      "the token store's load() must resolve with { token: non-empty string, expiresAt: ms since the epoch } or undefined",
    );
  }
  return { token, expiresAt: Math.floor(expiresAt) };
}

function checkStore(value: unknown): TokenStore | undefined {
  if (value === undefined) return undefined;
  const store = value as Partial<TokenStore> | null;
  if (typeof store !== 'object' || store === null || typeof store.load !== 'function' || typeof store.save !== 'function') {
    throw new InvalidInputError('store', 'must be a TokenStore: an object with load() and save(token) methods');
  }
  return store as TokenStore;
}

function checkFunction<T>(field: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidInputError(field, `must be a function, got ${describeValue(value)}`);
  }
  return value;
}

function checkMs(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) {
    throw new InvalidInputError(field, `must be a whole number of milliseconds, 0 or more, got ${typeof value === 'number' ? String(value) : describeValue(value)}`);
  }
  return value;
}

function expiryKind(value: unknown): string {
  if (typeof value === 'string') return 'a string that is not one';
  if (typeof value === 'number') return `${value} (not a finite time a Date can hold)`;
  return describeValue(value);
}

function isoOrRaw(ms: number): string {
  return isEpochMs(ms) ? new Date(ms).toISOString() : String(ms);
}

/** `Name: message` of a refresh failure, with the token cut out, for the expired error's message. */
function summarize(error: unknown, secret: string | undefined): string {
  let text: string;
  if (error instanceof Error) text = `${error.name}: ${error.message}`;
  else if (typeof error === 'string') text = error;
  else text = `a non-Error value (${error === null ? 'null' : typeof error}) was thrown`;
  if (secret) text = text.split(secret).join('[token]');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
