import { describeValue, InvalidInputError } from '../errors/invalid-input-error.js';
import { InvalidRefreshResultError } from '../errors/invalid-refresh-result-error.js';
import { TokenStoreError } from '../errors/token-store-error.js';
import { TokenUnavailableError } from '../errors/token-unavailable-error.js';
import { isCredential } from '../credential.js';
import { isEpochMs, toEpochMs } from '../instant.js';
import { scrubOrWithhold } from '../redact.js';
import { canCoordinate, MemoryTokenStore, type StoredToken, type TokenStore, type TokenStoreLock } from './token-store.js';

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
 * `deadlineMs`, when set (as `clientRefresh` sets it), is that timeout: the lock's TTL must
 * exceed it.
 */
export type RefreshFunction = ((current: CurrentToken) => Promise<RefreshResult>) & { readonly deadlineMs?: number };

/** Where a reported failure happened. */
export interface TokenErrorContext {
  /**
   * `refresh`: the refresh failed (the old token is kept while it is valid);
   * `save`: the new token could not be persisted (it is held in memory and used anyway);
   * `load`: the store could not be read (the token held, or the `initial` one, is used);
   * `lock`: the store's lock could not be taken, renewed or released, or stayed taken too long.
   */
  readonly phase: 'refresh' | 'save' | 'load' | 'lock';
  /** Expiry of the token the manager now holds (ms since the epoch), if any. */
  readonly expiresAt: number | undefined;
  /** `refresh`, `load`, `lock`: the earliest time `getToken()` tries again (ms since the epoch). */
  readonly retryAt?: number;
}

/** What listeners learn when the held token is replaced. */
export interface TokenChange {
  /** The new token's expiry, ms since the epoch. */
  readonly expiresAt: number;
  /** `refresh`: this manager refreshed; `store`: another member did, and this manager took the successor from the store. */
  readonly source: 'refresh' | 'store';
}

/** Gets every new token the manager takes, e.g. to rebuild an SDK `Config`. */
export type TokenListener = (token: string, change: TokenChange) => void;

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
  /**
   * Coordinate with the other members of a fleet through the store's lock (see `TokenStore`).
   * Default: `true` when the store can (`FileTokenStore`, `RedisTokenStore`), else `false`.
   * `false` opts out: this manager then refreshes without the lock, and one refresh per
   * rotation across processes is no longer guaranteed.
   */
  coordinate?: boolean;
  /**
   * Lease of the store's lock, renewed every third of it while this manager refreshes; a
   * member that dies holding the lock blocks the others for at most this long. Must exceed
   * the refresh's own deadline (`refresh.deadlineMs`). Default: 60 s, or twice the
   * refresh's deadline when that is longer (`DEFAULT_LOCK_TTL_MS`).
   */
  lockTtlMs?: number;
  /**
   * Refresh in the background when the window opens (and retry after failures), with
   * chained timers that never keep the process alive (`unref()`). Default `false`:
   * refreshes happen inside `getToken()`. `close()` stops it.
   */
  autoRefresh?: boolean;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Called for every failure that `getToken()` survives (refresh, save, load, lock). Exceptions it throws are ignored. */
  onError?: (error: unknown, context: TokenErrorContext) => void;
  /** Called after each change of the held token, with the new expiry (never the token). */
  onRefresh?: (info: TokenChange) => void;
}

/** 7 days: a weekly job still refreshes in time, and an outage of up to a week is ridden out. */
export const DEFAULT_REFRESH_WINDOW_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_BACKOFF_INITIAL_MS = 1_000;
export const DEFAULT_BACKOFF_MAX_MS = 5 * 60 * 1000;
/** Twice the client's default 30 s timeout (which covers its 429 re-sends). */
export const DEFAULT_LOCK_TTL_MS = 60_000;
/** The longest delay a timer can hold (2^31 − 1 ms, about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How many replaced tokens are remembered, so a store behind this manager is never mistaken for a rotation. */
const RETIRED_KEPT = 16;

type Outcome = { ok: true } | { ok: false; error: unknown };
const OK: Outcome = { ok: true };

/** A failure inside a rotation, with the phase it is reported under. */
class Failure {
  constructor(
    readonly phase: TokenErrorContext['phase'],
    readonly error: unknown,
  ) {}
}

/** What one read of the store found (`stored`: `undefined` when it held nothing). */
interface StoreRead {
  readonly stored: StoredToken | undefined;
}

/** One rotation in progress. `early` settles before `done` when waiting callers can be served already. */
interface Flight {
  readonly done: Promise<Outcome>;
  readonly early: Promise<Outcome>;
}

/**
 * Holds the access token and its expiry and keeps it fresh.
 *
 * - `getToken()` resolves the token. While the token is outside the refresh window this is
 *   one clock read and one comparison, returning a cached promise: no store read, no
 *   network. Inside the window it rotates first; all concurrent callers share one rotation.
 * - A rotation re-reads the store first (another process may have rotated already); on a
 *   store that can coordinate (see `TokenStore`) it takes the store's lock, re-reads, refreshes,
 *   saves with a compare-and-set and releases, so a fleet makes one refresh per rotation.
 *   A member that finds the lock taken waits for the store to change and takes the
 *   successor; after `lockTtlMs` its callers get the old token (while it is valid) and it
 *   goes on trying.
 * - A new token is saved before anything else happens (listeners, callers); if the save
 *   fails it is still used (the old one is dead) and the failure is reported.
 * - A failed refresh keeps the old token while it is valid, reports the failure to
 *   `onError` and backs off; once the token has expired, `getToken()` rejects with
 *   `TokenUnavailableError` (`reason: 'expired'`, `cause`: the refresh's error). An
 *   `ApiError` 401004 (token replaced) makes it re-read the store and take a newer token
 *   there; a refresh is never re-sent blindly.
 *
 * The token is kept in `#private` fields only: it never shows in `util.inspect`, JSON or
 * `String()` of the manager, nor in any error it creates.
 */
export class TokenManager {
  readonly #refresh: RefreshFunction;
  readonly #store: TokenStore;
  readonly #coordinated: boolean;
  readonly #lockTtlMs: number;
  readonly #autoRefresh: boolean;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #backoffInitialMs: number;
  readonly #backoffMaxMs: number;
  readonly #onError: TokenManagerOptions['onError'];
  readonly #onRefresh: TokenManagerOptions['onRefresh'];
  readonly #listeners = new Set<TokenListener>();

  #initial: StoredToken | undefined;
  #loaded = false;
  #token: string | undefined;
  #expiresAt = Number.NaN;
  /** Until then `getToken()` returns `#cached` without further checks; always ≤ `#expiresAt`. */
  #freshUntil = Number.NEGATIVE_INFINITY;
  #cached: Promise<string> | undefined;
  /** Tokens this manager replaced (newest last): never taken back from a store that lags behind. */
  readonly #retired: string[] = [];
  /**
   * The stored token that `initial` won over on first use (the stored one expired sooner): taken
   * from the store only once the server refuses the held token as replaced (401004), which shows
   * the stored one was the live token after all (a refresh whose new token expires before
   * `initial`). Forgotten once the held token changes.
   */
  #setAside: string | undefined;
  /** No automatic refresh before this (back-off after a failure). */
  #retryAt = Number.NEGATIVE_INFINITY;
  #backoffMs = 0;
  #lastError: unknown;
  #loading: Promise<StoreRead | undefined> | undefined;
  #flight: Flight | undefined;
  #pending: Promise<string> | undefined;
  /** A refreshed token the store does not hold yet (its save failed or lost the lock), and what the store held then. */
  #unsaved: { next: StoredToken; seen: string | undefined } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Delay before the next try to save an unsaved token; doubles per failure. */
  #saveRetryMs = 0;
  /** That try's timer: one at a time. */
  #saveRetry: ReturnType<typeof setTimeout> | undefined;

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
    this.#coordinated = checkCoordinate(options.coordinate, this.#store);
    this.#lockTtlMs = checkLockTtl(options.lockTtlMs, this.#refresh.deadlineMs);
    this.#autoRefresh = checkBoolean('autoRefresh', options.autoRefresh) ?? false;
    if (options.initial !== undefined) this.#initial = checkInitial(options.initial);
    if (this.#autoRefresh) this.#arm(0);
  }

  /**
   * Resolves a valid token, rotating first when it expires within the refresh window.
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
   * Rotates now, whatever the expiry and the back-off, and resolves the new token: the one
   * this manager refreshed, or the successor another member saved in the store since this
   * manager last read it. Joins a rotation in flight. Rejects with the failure (also
   * reported to `onError`); the old token is kept.
   */
  async refreshNow(): Promise<string> {
    const read = await this.#ensureLoaded();
    if (this.#token === undefined) throw new TokenUnavailableError('no-token');
    return this.#rotated(await this.#untilDone(this.#join(read)));
  }

  /**
   * Tells the manager that `token` was refused by the API (your own quote or trade call got
   * 401003 or 401004). When it is the token held, the manager re-reads the store and takes
   * a newer token from there (a rotation done elsewhere, e.g. by a cron job), else rotates
   * under the lock. Resolves the token to use now; when `token` was already replaced, that
   * is the current one, at once. Rejects like `refreshNow()`.
   */
  async invalidate(token: string): Promise<string> {
    if (typeof token !== 'string' || token === '') {
      throw new InvalidInputError('token', `must be the token the API refused (a non-empty string), got ${describeValue(token)}`);
    }
    const read = await this.#ensureLoaded();
    if (this.#token === undefined) throw new TokenUnavailableError('no-token');
    if (token !== this.#token) return this.#token;
    return this.#rotated(await this.#untilDone(this.#join(read)));
  }

  /**
   * Calls `listener(token, { expiresAt, source })` after every change of the held token
   * (never for the first one loaded): build your SDK's `Config` again there. Returns a
   * function that unsubscribes. Exceptions the listener throws are ignored.
   */
  subscribe(listener: TokenListener): () => void {
    if (typeof listener !== 'function') {
      throw new InvalidInputError('listener', `must be a function (token, { expiresAt, source }) => void, got ${describeValue(listener)}`);
    }
    const entry: TokenListener = (token, change) => listener(token, change);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Stops the background refresh (`autoRefresh`) for good; `getToken()` keeps working. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
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
    const read = await this.#ensureLoaded();
    const now = this.#now();
    if (now < this.#freshUntil) return this.#token as string;
    if (this.#token === undefined) throw new TokenUnavailableError('no-token');
    if (now < this.#retryAt && this.#flight === undefined) return this.#fallback(now, this.#lastError);
    const flight = this.#join(read);
    const outcome = await Promise.race([flight.done, flight.early]);
    return outcome.ok ? (this.#token as string) : this.#fallback(this.#now(), outcome.error);
  }

  /** Waits for the whole rotation, or for its early success (a refreshed token held before its save). */
  #untilDone(flight: Flight): Promise<Outcome> {
    return Promise.race([flight.done, flight.early.then((early) => (early.ok ? early : flight.done))]);
  }

  #rotated(outcome: Outcome): string {
    if (!outcome.ok) throw outcome.error;
    return this.#token as string;
  }

  /** The old token while it is valid, else the expired error. */
  #fallback(now: number, error: unknown): string {
    if (now < this.#expiresAt) return this.#token as string;
    throw new TokenUnavailableError('expired', {
      expiresAt: this.#expiresAt,
      why: summarize(error, [this.#token, ...this.#retired]),
      cause: error,
    });
  }

  /** Reads the store on first use; resolves what it read then (`undefined` when it had read before, or the read failed). */
  #ensureLoaded(): Promise<StoreRead | undefined> | undefined {
    if (this.#loaded) return undefined;
    return (this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    }));
  }

  async #load(): Promise<StoreRead | undefined> {
    let stored: StoredToken | undefined;
    let read: StoreRead | undefined;
    try {
      stored = await this.#readStore();
      read = { stored };
    } catch (error) {
      if (this.#initial === undefined) throw error;
      this.#report(error, { phase: 'load', expiresAt: this.#initial.expiresAt });
    }
    const initial = this.#initial;
    // The same token in both: the stored record, which may know when it was issued.
    const chosen = stored === undefined || (initial !== undefined && initial.token !== stored.token && initial.expiresAt >= stored.expiresAt) ? initial : stored;
    if (chosen === undefined) return read; // still nothing: read the store again next time
    // The one not chosen is, as a rule, older: a store behind `initial` holds a token that was
    // replaced. Not always (see #setAside), so it is set aside, not retired.
    if (stored !== undefined && chosen !== stored) this.#setAside = stored.token;
    this.#initial = undefined;
    this.#loaded = true;
    this.#hold(chosen, this.#now(), false);
    return read;
  }

  #readStore(): Promise<StoredToken | undefined> {
    return this.#store.load().then(checkLoaded);
  }

  /** Joins the rotation in flight, or starts one; `read`: what the store held just now, if this call read it already. */
  #join(read?: StoreRead): Flight {
    if (this.#flight) return this.#flight;
    let serveEarly!: (outcome: Outcome) => void;
    const early = new Promise<Outcome>((resolve) => {
      serveEarly = resolve;
    });
    const done = this.#rotate(serveEarly, read).then((outcome) => {
      this.#flight = undefined;
      serveEarly(outcome); // a no-op when the callers were served early
      // A refreshed token the store does not hold yet is tried again, however this try ended
      // (its save failed, or the store could not even be read or locked): until it is saved,
      // no other member and no restart can have it.
      if (this.#unsaved !== undefined) this.#retryUnsavedLater();
      if (this.#autoRefresh) this.#arm();
      return outcome;
    });
    return (this.#flight = { done, early });
  }

  /** One rotation; `serveEarly` lets waiting callers go before it ends. Never rejects. */
  async #rotate(serveEarly: (outcome: Outcome) => void, read: StoreRead | undefined): Promise<Outcome> {
    try {
      if (this.#coordinated) await this.#rotateTogether(serveEarly, read);
      else await this.#rotateAlone(read);
    } catch (error) {
      const failure = error instanceof Failure ? error : new Failure('refresh', error);
      return this.#failed(failure);
    }
    this.#backoffMs = 0;
    this.#retryAt = Number.NEGATIVE_INFINITY;
    this.#lastError = undefined;
    return OK;
  }

  /** Without coordination: the store is read for a newer token, then written unconditionally. */
  async #rotateAlone(read: StoreRead | undefined): Promise<void> {
    try {
      const successor = this.#successor(read ? read.stored : await this.#readStore());
      if (successor) return this.#settleUnsaved(successor);
    } catch (error) {
      // Only persistence: a failed read does not stop the refresh.
      this.#report(error, { phase: 'load', expiresAt: this.#expiresAt });
    }
    // A token refreshed before and not saved yet is saved now, not refreshed again.
    const next = this.#unsaved !== undefined ? { source: 'refresh' as const, token: this.#unsaved.next } : await this.#callRefresh();
    if (next.source === 'store') return this.#take(next.token, 'store');
    try {
      await this.#store.save(next.token);
      this.#unsaved = undefined;
      this.#saveRetryMs = 0;
    } catch (error) {
      this.#unsaved = { next: next.token, seen: undefined };
      this.#report(error, { phase: 'save', expiresAt: next.token.expiresAt });
    }
    if (next.token.token !== this.#token) this.#take(next.token, 'refresh');
  }

  /**
   * The fleet protocol (see `TokenStore`): re-read, lock, re-read, refresh, compare-and-set
   * save, release. A refreshed token that could not be saved (the save failed, or the lock
   * was lost meanwhile) is held and served at once, and saved under a new lock.
   */
  async #rotateTogether(serveEarly: (outcome: Outcome) => void, read: StoreRead | undefined): Promise<void> {
    const store = this.#store as Required<TokenStore>;
    const ttl = this.#lockTtlMs;
    const started = performance.now(); // elapsed time on the monotonic clock: a step of the wall clock (NTP) does not stretch a wait
    for (let fresh = read; ; ) {
      // Step 1; on first use, the read that loaded the manager just now is this read, and
      // after a wait, what the store's notification carried (when it did).
      const seen = fresh ? fresh.stored : await this.#phase('load', this.#readStore());
      fresh = undefined;
      const successor = this.#successor(seen);
      if (successor) return this.#settleUnsaved(successor);
      if (this.#unsaved !== undefined && this.#unsaved.next.token !== this.#token) this.#unsaved = undefined;
      // Waited a whole TTL: the holder is presumed dead. Serve the old token (while it is
      // valid) to the callers, and go on: its lease has run out, so the lock can be taken.
      const waited = performance.now() - started;
      if (waited >= ttl) serveEarly({ ok: false, error: new TokenStoreError('lock-timeout', `another member has held the token store's lock for over ${ttl} ms (lockTtlMs)`) });
      const lock = await this.#phase('lock', store.lock(ttl));
      if (lock === undefined) {
        if (waited >= 2 * ttl) {
          throw new Failure(
            'lock',
            new TokenStoreError('lock-timeout', `the token store's lock stayed taken by another member for over ${2 * ttl} ms (twice lockTtlMs); the token held is kept`),
          );
        }
        const timeoutMs = (waited < ttl ? ttl : 2 * ttl) - waited;
        fresh = carriedRead(await store.waitForChange(seen?.token, { timeoutMs }), seen);
        continue;
      }
      const done = await this.#underLock(lock, serveEarly);
      if (done) return;
    }
  }

  /** Steps 3–5 under the lock; `false` when the token still has to be saved under a new lock. Always releases. */
  async #underLock(lock: TokenStoreLock, serveEarly: (outcome: Outcome) => void): Promise<boolean> {
    const renewal = this.#keepRenewed(lock);
    try {
      const seen = await this.#phase('load', lock.load ? lock.load().then(checkLoaded) : this.#readStore());
      const successor = this.#successor(seen);
      if (successor) {
        this.#settleUnsaved(successor);
        serveEarly(OK);
        return true;
      }
      let next = this.#unsaved?.next;
      if (next === undefined) {
        const result = await this.#callRefresh();
        if (result.source === 'store') {
          this.#take(result.token, 'store');
          serveEarly(OK);
          return true;
        }
        next = result.token;
      }
      // Save first, then everything else. The callers are served once the other members can
      // read the new token (a file's rename), while its fsync runs: serving it adds nothing
      // to what a crash can lose, since the server has already killed the old token.
      const saving = next;
      let saved;
      try {
        saved = await lock.saveIf(seen?.token, next, { onVisible: () => this.#serve(saving, serveEarly) });
      } catch (error) {
        this.#holdUnsaved(next, seen?.token, serveEarly);
        this.#report(error, { phase: 'save', expiresAt: next.expiresAt });
        return true;
      }
      if (saved === 'saved') {
        this.#unsaved = undefined;
        this.#saveRetryMs = 0;
        this.#serve(next, serveEarly); // if the store did not call onVisible; the callers need not wait for the release
        return true;
      }
      // 'lost': our lease ran out (a pause); 'changed': the store moved on under us. The new
      // token is live and its predecessor dead: serve it, then save it under a new lock
      // unless the store now holds a successor of its own, which is then taken.
      this.#holdUnsaved(next, seen?.token, serveEarly);
      return false;
    } finally {
      renewal();
      await lock.release().catch((error: unknown) => this.#report(error, { phase: 'lock', expiresAt: this.#expiresAt }));
    }
  }

  /** A refreshed token not yet in the store: held and served now (the old one is dead). */
  #holdUnsaved(next: StoredToken, seen: string | undefined, serveEarly: (outcome: Outcome) => void): void {
    this.#unsaved = { next, seen };
    this.#serve(next, serveEarly);
  }

  /** Holds the refreshed `next` (unless held already) and lets the waiting callers go. */
  #serve(next: StoredToken, serveEarly: (outcome: Outcome) => void): void {
    if (next.token !== this.#token) this.#take(next, 'refresh');
    serveEarly(OK);
  }

  /** The store holds a successor: take it, dropping an unsaved token of ours. */
  #settleUnsaved(stored: StoredToken): void {
    if (this.#unsaved !== undefined) {
      this.#report(
        new TokenStoreError('conflict', 'the token store holds a token this manager did not refresh from; it is used, and the token refreshed here is dropped'),
        { phase: 'save', expiresAt: stored.expiresAt },
      );
      this.#unsaved = undefined;
    }
    this.#take(stored, 'store');
  }

  /** After a failed save: try again on the back-off schedule, in the background. */
  #retryUnsavedLater(): void {
    this.#saveRetryMs = this.#saveRetryMs === 0 ? this.#backoffInitialMs : Math.min(this.#saveRetryMs * 2, this.#backoffMaxMs);
    // A try that failed while an earlier one was still scheduled (a caller's rotation) replaces it.
    clearTimeout(this.#saveRetry);
    this.#saveRetry = setTimeout(() => {
      if (this.#unsaved !== undefined) void this.#join().done;
    }, this.#saveRetryMs);
    (this.#saveRetry as { unref?: () => void }).unref?.();
  }

  /** Renews the lock every third of its TTL; returns the function that stops it. */
  #keepRenewed(lock: TokenStoreLock): () => void {
    const timer = setInterval(() => {
      lock.renew().then(
        (held) => {
          if (!held) clearInterval(timer);
        },
        (error: unknown) => this.#report(error, { phase: 'lock', expiresAt: this.#expiresAt }),
      );
    }, Math.max(1, Math.floor(this.#lockTtlMs / 3)));
    (timer as { unref?: () => void }).unref?.();
    return () => clearInterval(timer);
  }

  /**
   * Calls the refresh with the token held. An `ApiError` 401004 (token replaced elsewhere)
   * makes it read the store: a newer token there is the result. Nothing is re-sent.
   */
  async #callRefresh(): Promise<{ source: 'refresh' | 'store'; token: StoredToken }> {
    const current: CurrentToken = { token: this.#token as string, expiresAt: this.#expiresAt };
    try {
      return { source: 'refresh', token: checkRefreshResult(await this.#refresh(current), this.#now()) };
    } catch (error) {
      if (isTokenReplaced(error)) {
        const successor = this.#successor(await this.#readStore().catch(() => undefined), { replaced: true });
        if (successor) return { source: 'store', token: successor };
      }
      throw new Failure('refresh', error);
    }
  }

  #phase<T>(phase: TokenErrorContext['phase'], promise: Promise<T>): Promise<T> {
    return promise.catch((error: unknown) => {
      throw new Failure(phase, error);
    });
  }

  #failed(failure: Failure): Outcome {
    const { error, phase } = failure;
    this.#lastError = error;
    this.#backoffMs = this.#backoffMs === 0 ? this.#backoffInitialMs : Math.min(this.#backoffMs * 2, this.#backoffMaxMs);
    this.#retryAt = this.#now() + this.#backoffMs;
    // Serve the old token straight from the cache until the back-off ends (or it expires);
    // a failed refreshNow() far outside the window must not make the next refresh sooner.
    this.#freshUntil = Math.min(Math.max(this.#freshUntil, this.#retryAt), this.#expiresAt);
    this.#report(error, { phase, expiresAt: this.#expiresAt, retryAt: this.#retryAt });
    return { ok: false, error };
  }

  /**
   * `stored` when it is another member's successor: not the token held, not one replaced here,
   * not expired, and not the one set aside on first use unless the server has just refused the
   * held token as `replaced`.
   */
  #successor(stored: StoredToken | undefined, { replaced = false } = {}): StoredToken | undefined {
    const taken =
      stored !== undefined &&
      stored.token !== this.#token &&
      !this.#retired.includes(stored.token) &&
      (replaced || stored.token !== this.#setAside) &&
      stored.expiresAt > this.#now();
    return taken ? stored : undefined;
  }

  /** Replaces the held token and tells the listeners (after the save: the caller saved first). */
  #take(token: StoredToken, source: TokenChange['source']): void {
    if (this.#token !== undefined) this.#retire(this.#token);
    this.#setAside = undefined;
    this.#hold(token, this.#now(), true);
    const change: TokenChange = { expiresAt: token.expiresAt, source };
    if (this.#onRefresh) {
      try {
        this.#onRefresh(change);
      } catch {
        // a listener's failure is not ours
      }
    }
    for (const listener of this.#listeners) {
      try {
        listener(token.token, change);
      } catch {
        // a listener's failure is not ours
      }
    }
  }

  #retire(token: string): void {
    if (this.#retired.includes(token)) return;
    this.#retired.push(token);
    if (this.#retired.length > RETIRED_KEPT) this.#retired.shift();
  }

  #hold(token: StoredToken, now: number, replaced: boolean): void {
    this.#token = token.token;
    this.#expiresAt = token.expiresAt;
    this.#cached = Promise.resolve(token.token);
    let refreshAt = token.expiresAt - this.#windowMs;
    // A new token is never refreshed before half its life has passed, counted from when it was
    // issued: from `issuedAt` where the store kept it, so that every member, a restarted one
    // too, has the same point (one from a clock ahead of ours counts from now); else, for a
    // token that replaced ours, from now.
    const issuedAt = token.issuedAt === undefined ? (replaced ? now : undefined) : Math.min(token.issuedAt, now);
    if (issuedAt !== undefined) refreshAt = Math.max(refreshAt, issuedAt + (token.expiresAt - issuedAt) / 2);
    this.#freshUntil = Math.min(refreshAt, token.expiresAt);
  }

  /** `autoRefresh`: wakes at `refreshAt` (chained: a timer holds at most 2^31 − 1 ms), never keeping the process alive. */
  #arm(delay?: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const at = this.refreshAt;
    if (delay === undefined && at === undefined) return;
    const wait = delay ?? Math.max(0, (at as number) - this.#now());
    this.#timer = setTimeout(() => this.#wake(), Math.min(wait, MAX_TIMER_MS));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #wake(): void {
    this.#timer = undefined;
    const at = this.refreshAt;
    if (at !== undefined && this.#now() < at) return this.#arm(); // a chained leg of a long wait
    const rearm = () => {
      // A rotation in flight re-arms when it ends; without a token (the store failed and
      // there is no `initial` one) try again after the first back-off step.
      if (!this.#flight) this.#arm(this.#token === undefined ? this.#backoffInitialMs : undefined);
    };
    this.getToken().then(rearm, (error: unknown) => {
      // Refresh failures were reported where they happened; a failed first load was not.
      if (this.#token === undefined) this.#report(error, { phase: 'load', expiresAt: undefined });
      rearm();
    });
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
  return { token, expiresAt: ms, issuedAt: now };
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

/**
 * What a wait resolved with, as the next look's read: only a valid token that expires after the
 * one `seen` before the wait. Anything else (nothing, a malformed value, an older token whose
 * notice came late, from a save before the one seen) is not a read: the store is read instead.
 */
function carriedRead(carried: unknown, seen: StoredToken | undefined): StoreRead | undefined {
  try {
    const stored = checkLoaded(carried);
    if (stored && stored.expiresAt > (seen ? seen.expiresAt : -Infinity)) return { stored };
  } catch {
    // malformed: not a read
  }
  return undefined;
}

function checkLoaded(value: unknown): StoredToken | undefined {
  if (value === undefined || value === null) return undefined;
  const { token, expiresAt, issuedAt } = (typeof value === 'object' ? value : {}) as Record<string, unknown>;
  if (!isCredential(token) || !isEpochMs(expiresAt)) {
    throw new TokenStoreError(
      'invalid-record',
      "the token store's load() must resolve with { token: non-empty string, expiresAt: ms since the epoch } or undefined",
    );
  }
  const record = { token, expiresAt: Math.floor(expiresAt) };
  // `issuedAt` is advisory (see StoredToken): one that is not a time is dropped, not an error.
  return isEpochMs(issuedAt) ? { ...record, issuedAt: Math.floor(issuedAt) } : record;
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

/** `Name: message` of a refresh failure, scrubbed of the tokens (src/redact.ts), for the expired error's message. */
function summarize(error: unknown, secrets: Array<string | undefined>): string {
  let text: string;
  if (error instanceof Error) text = `${error.name}: ${error.message}`;
  else if (typeof error === 'string') text = error;
  else text = `a non-Error value (${error === null ? 'null' : typeof error}) was thrown`;
  const name = error instanceof Error ? error.name : 'the failure';
  text = scrubOrWithhold(text, secrets, `${name} (its message is withheld: it contains a token)`);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * An `ApiError` with code 401004 (token invalid or replaced). Checked by name and code, not
 * `instanceof`, so the manager alone does not pull in the table of error codes.
 */
function isTokenReplaced(error: unknown): boolean {
  return error instanceof Error && error.name === 'ApiError' && (error as { code?: unknown }).code === 401004;
}

function checkCoordinate(value: unknown, store: TokenStore): boolean {
  const coordinate = checkBoolean('coordinate', value);
  if (coordinate === true && !canCoordinate(store)) {
    throw new InvalidInputError('coordinate', 'the store has no lock() and waitForChange(): use FileTokenStore or RedisTokenStore, or leave coordinate unset');
  }
  return coordinate ?? canCoordinate(store);
}

function checkLockTtl(value: unknown, deadlineMs: unknown): number {
  const deadline = typeof deadlineMs === 'number' && Number.isFinite(deadlineMs) && deadlineMs > 0 ? deadlineMs : 0;
  if (value === undefined) return Math.max(DEFAULT_LOCK_TTL_MS, 2 * deadline);
  const ttl = checkMs('lockTtlMs', value, DEFAULT_LOCK_TTL_MS);
  if (ttl < 1 || ttl <= deadline) {
    throw new InvalidInputError(
      'lockTtlMs',
      `must exceed the refresh's own deadline (${deadline} ms: its timeout, 429 re-sends included), else a slow but live holder could lose the lock; got ${ttl}`,
    );
  }
  return ttl;
}

function checkBoolean(field: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidInputError(field, `must be true or false, got ${describeValue(value)}`);
  }
  return value;
}
