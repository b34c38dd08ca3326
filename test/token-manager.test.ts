// TokenManager: the cached hot path, single-flight refresh, keep-the-old-token-on-failure
// with back-off, expiry, the store (load on first use, save after refresh, save failures),
// refresh-result checks, option checks, and that the token never leaks.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  createTokenClient,
  DEFAULT_REFRESH_WINDOW_MS,
  InvalidInputError,
  InvalidRefreshResultError,
  MemoryTokenStore,
  NetworkError,
  TokenApiError,
  TokenManager,
  TokenStoreError,
  TokenUnavailableError,
  type CurrentToken,
  type RefreshResult,
  type StoredToken,
  type TokenErrorContext,
  type TokenManagerOptions,
  type TokenStore,
} from '../src/index.js';
import { rejectionOf, views } from './helpers/views.js';

const OLD = 'SECRET-OLD-TOKEN-7c1e90';
const NEW = 'SECRET-NEW-TOKEN-e44a02';
const T0 = Date.parse('2030-01-01T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A manager on a fake clock, recording refresh calls and reports. */
function setup(overrides: Partial<TokenManagerOptions> & { refreshWith?: (current: CurrentToken) => Promise<RefreshResult> } = {}) {
  const clock = { t: T0 };
  const calls: CurrentToken[] = [];
  const errors: Array<{ error: unknown; context: TokenErrorContext }> = [];
  const refreshed: number[] = [];
  const refreshWith = overrides.refreshWith ?? (async () => ({ token: NEW, expiresAt: clock.t + 90 * DAY }));
  const { refreshWith: _, ...rest } = overrides;
  const manager = new TokenManager({
    initial: { token: OLD, expiresAt: T0 + 30 * DAY },
    now: () => clock.t,
    refresh: (current) => {
      calls.push(current);
      return refreshWith(current);
    },
    onError: (error, context) => errors.push({ error, context }),
    onRefresh: ({ expiresAt }) => refreshed.push(expiresAt),
    ...rest,
  });
  return { manager, clock, calls, errors, refreshed };
}

/** A store that counts calls and can be made to fail. */
class SpyStore implements TokenStore {
  loads = 0;
  saves: StoredToken[] = [];
  failLoad: unknown = undefined;
  failSave: unknown = undefined;
  #held: StoredToken | undefined;
  constructor(held?: StoredToken) {
    this.#held = held;
  }
  async load() {
    this.loads++;
    if (this.failLoad !== undefined) throw this.failLoad;
    return this.#held;
  }
  async save(token: StoredToken) {
    this.saves.push(token);
    if (this.failSave !== undefined) throw this.failSave;
    this.#held = token;
  }
}

describe('getToken(): a valid token outside the refresh window', () => {
  it('is returned without a refresh; the store is read once, on first use', async () => {
    const store = new SpyStore();
    const { manager, calls } = setup({ store });
    expect(manager.expiresAt).toBeUndefined();
    expect(await manager.getToken()).toBe(OLD);
    expect(await manager.getToken()).toBe(OLD);
    expect(calls).toHaveLength(0);
    expect(store.loads).toBe(1);
    expect(manager.expiresAt).toBe(T0 + 30 * DAY);
    expect(manager.refreshAt).toBe(T0 + 30 * DAY - DEFAULT_REFRESH_WINDOW_MS);
  });

  it('is one cached promise, handed out again without a refresh or a store read (its cost is in `npm run bench`)', async () => {
    const store = new SpyStore();
    const { manager, calls } = setup({ store });
    await manager.getToken();
    const first = manager.getToken();
    for (let i = 0; i < 1_000; i++) expect(manager.getToken()).toBe(first);
    expect(calls).toHaveLength(0);
    expect(store.loads).toBe(1);
  });

  it('is loaded from the store when there is no initial token', async () => {
    const store = new SpyStore({ token: OLD, expiresAt: T0 + 30 * DAY });
    const { manager, calls } = setup({ store, initial: undefined });
    expect(await manager.getToken()).toBe(OLD);
    expect(calls).toHaveLength(0);
  });

  it('prefers the store over `initial` when the stored token expires later (a refresh killed the configured one)', async () => {
    const store = new SpyStore({ token: NEW, expiresAt: T0 + 60 * DAY });
    const { manager } = setup({ store });
    expect(await manager.getToken()).toBe(NEW);
    expect(manager.expiresAt).toBe(T0 + 60 * DAY);
  });

  it('takes `initial.expiresAt` as ms, a Date or an ISO 8601 string', async () => {
    for (const expiresAt of [T0 + 30 * DAY, new Date(T0 + 30 * DAY), '2030-01-31T00:00:00Z', '2030-01-31T08:00:00+08:00']) {
      const { manager } = setup({ initial: { token: OLD, expiresAt } });
      expect(await manager.getToken()).toBe(OLD);
      expect(manager.expiresAt).toBe(T0 + 30 * DAY);
    }
  });
});

describe('getToken(): no token', () => {
  it('rejects with TokenUnavailableError "no-token" and reads the store again next time', async () => {
    const store = new SpyStore();
    const { manager, calls } = setup({ store, initial: undefined });
    const error = await rejectionOf(manager.getToken());
    expect(error).toBeInstanceOf(TokenUnavailableError);
    expect(error).toBeInstanceOf(TokenApiError);
    expect(error).toMatchObject({ name: 'TokenUnavailableError', reason: 'no-token' });
    expect((error as Error).message).toMatch(/initial/);
    await expect(manager.refreshNow()).rejects.toMatchObject({ reason: 'no-token' });
    await store.save({ token: OLD, expiresAt: T0 + 30 * DAY });
    expect(await manager.getToken()).toBe(OLD);
    expect(calls).toHaveLength(0);
  });

  it('rejects with the store error when the store fails and there is no initial token; retries the load', async () => {
    const store = new SpyStore({ token: OLD, expiresAt: T0 + 30 * DAY });
    store.failLoad = new TokenStoreError('read-failed', 'cannot read', { path: '/x' });
    const { manager } = setup({ store, initial: undefined });
    await expect(manager.getToken()).rejects.toBe(store.failLoad);
    store.failLoad = undefined;
    expect(await manager.getToken()).toBe(OLD);
  });

  it('uses the initial token when the store fails, and reports the load failure', async () => {
    const store = new SpyStore();
    store.failLoad = new Error('disk on fire');
    const { manager, errors } = setup({ store });
    expect(await manager.getToken()).toBe(OLD);
    expect(errors).toEqual([{ error: store.failLoad, context: { phase: 'load', expiresAt: T0 + 30 * DAY } }]);
  });

  it('rejects a store whose load() resolves with garbage with TokenStoreError "invalid-record"', async () => {
    const store = { load: async () => ({ token: '', expiresAt: 'tomorrow' }), save: async () => {} } as unknown as TokenStore;
    const { manager } = setup({ store, initial: undefined });
    await expect(manager.getToken()).rejects.toMatchObject({ name: 'TokenStoreError', reason: 'invalid-record' });
  });
});

describe('getToken(): within the refresh window', () => {
  it('refreshes with the current token, returns and saves the new one, reports the new expiry', async () => {
    const store = new SpyStore();
    const { manager, clock, calls, refreshed, errors } = setup({ store });
    clock.t = T0 + 30 * DAY - DEFAULT_REFRESH_WINDOW_MS; // the window starts
    expect(await manager.getToken()).toBe(NEW);
    expect(calls).toEqual([{ token: OLD, expiresAt: T0 + 30 * DAY }]);
    expect(store.saves).toEqual([{ token: NEW, expiresAt: clock.t + 90 * DAY, issuedAt: clock.t }]); // issuedAt: when it came back
    expect(refreshed).toEqual([clock.t + 90 * DAY]);
    expect(manager.expiresAt).toBe(clock.t + 90 * DAY);
    expect(await manager.getToken()).toBe(NEW);
    expect(calls).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('does not refresh a millisecond before the window', async () => {
    const { manager, clock, calls } = setup();
    clock.t = T0 + 30 * DAY - DEFAULT_REFRESH_WINDOW_MS - 1;
    expect(await manager.getToken()).toBe(OLD);
    expect(calls).toHaveLength(0);
  });

  it('honours refreshWindowMs, including 0 (refresh only once expired)', async () => {
    const small = setup({ refreshWindowMs: HOUR });
    small.clock.t = T0 + 30 * DAY - HOUR - 1;
    expect(await small.manager.getToken()).toBe(OLD);
    small.clock.t += 1;
    expect(await small.manager.getToken()).toBe(NEW);

    const zero = setup({ refreshWindowMs: 0 });
    zero.clock.t = T0 + 30 * DAY - 1;
    expect(await zero.manager.getToken()).toBe(OLD);
    zero.clock.t += 1;
    expect(await zero.manager.getToken()).toBe(NEW);
  });

  it('takes the refresh expiry as ms, a Date or an ISO 8601 string', async () => {
    for (const expiresAt of [T0 + 90 * DAY, new Date(T0 + 90 * DAY), '2030-04-01T00:00:00.000Z']) {
      const { manager } = setup({ initial: { token: OLD, expiresAt: T0 + HOUR }, refreshWith: async () => ({ token: NEW, expiresAt }) });
      expect(await manager.getToken()).toBe(NEW);
      expect(manager.expiresAt).toBe(T0 + 90 * DAY);
    }
  });

  it('never refreshes a new token before half its remaining life has passed (no storm when tokens are short)', async () => {
    const { manager, clock, calls } = setup({
      initial: { token: OLD, expiresAt: T0 + HOUR },
      refreshWith: async () => ({ token: `${NEW}-${calls.length}`, expiresAt: clock.t + 2 * HOUR }), // inside the 7-day window
    });
    expect(await manager.getToken()).toBe(`${NEW}-1`);
    clock.t += HOUR - 1;
    expect(await manager.getToken()).toBe(`${NEW}-1`);
    expect(calls).toHaveLength(1);
    clock.t += 1;
    expect(await manager.getToken()).toBe(`${NEW}-2`);
    expect(calls).toHaveLength(2);
  });

  it('10 000 concurrent callers share exactly one refresh', async () => {
    const gate = deferred<RefreshResult>();
    const { manager, clock, calls } = setup({ initial: { token: OLD, expiresAt: T0 + HOUR }, refreshWith: () => gate.promise });
    const all = Array.from({ length: 10_000 }, () => manager.getToken());
    await Promise.resolve();
    gate.resolve({ token: NEW, expiresAt: clock.t + 90 * DAY });
    const tokens = await Promise.all(all);
    expect(calls).toHaveLength(1);
    expect(new Set(tokens)).toEqual(new Set([NEW]));
  });

  it('any interleaving of getToken() / refreshNow() calls and the refresh makes exactly one request (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.constantFrom('get', 'get', 'get', 'now'), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        async (s, ops, fails) => {
          let requests = 0;
          const manager = new TokenManager({
            initial: { token: OLD, expiresAt: T0 + HOUR },
            now: () => T0,
            refresh: s.scheduleFunction(async function refresh() {
              requests++;
              if (fails) throw new NetworkError('down', { mayHaveReachedServer: false });
              return { token: NEW, expiresAt: T0 + 90 * DAY };
            }),
          });
          // Only explicit refreshNow() calls may start a refresh of their own once one has settled;
          // so count the refreshNow() calls that start after the first refresh settled.
          const results = ops.map((op) =>
            s.schedule(Promise.resolve(op)).then((o) => (o === 'get' ? manager.getToken() : manager.refreshNow())).then(
              (token) => ({ op, token }),
              (error: unknown) => ({ op, error }),
            ),
          );
          const settled = await s.waitFor(Promise.all(results));
          const nows = ops.filter((op) => op === 'now').length;
          expect(requests).toBeGreaterThanOrEqual(1);
          if (nows === 0) expect(requests).toBe(1);
          else expect(requests).toBeLessThanOrEqual(1 + nows);
          for (const r of settled) {
            if (r.op === 'get') expect(r).toEqual({ op: 'get', token: fails ? OLD : NEW });
            else if (fails) expect(r).toMatchObject({ op: 'now', error: { name: 'NetworkError' } });
            else expect(r).toEqual({ op: 'now', token: NEW });
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('N getToken() calls interleaved in any order with the refresh make exactly one request (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 60 }), fc.boolean(), async (s, n, fails) => {
        let requests = 0;
        const manager = new TokenManager({
          initial: { token: OLD, expiresAt: T0 + HOUR },
          now: () => T0,
          refresh: s.scheduleFunction(async function refresh() {
            requests++;
            if (fails) throw new Error('down');
            return { token: NEW, expiresAt: T0 + 90 * DAY };
          }),
        });
        const results = Array.from({ length: n }, () => s.schedule(Promise.resolve()).then(() => manager.getToken()));
        expect(await s.waitFor(Promise.all(results))).toEqual(Array(n).fill(fails ? OLD : NEW));
        expect(requests).toBe(1);
      }),
      { numRuns: 200 },
    );
  });
});

describe('getToken(): the refresh fails', () => {
  it('returns the old token while it is valid, reports the failure, backs off (doubling, capped)', async () => {
    const failure = new ApiError({ code: 500000, message: 'internal error', status: 500 });
    const { manager, clock, calls, errors } = setup({
      initial: { token: OLD, expiresAt: T0 + DAY },
      backoff: { initialMs: 1_000, maxMs: 3_000 },
      refreshWith: async () => {
        throw failure;
      },
    });
    expect(await manager.getToken()).toBe(OLD);
    expect(errors).toEqual([{ error: failure, context: { phase: 'refresh', expiresAt: T0 + DAY, retryAt: T0 + 1_000 } }]);
    expect(manager.refreshAt).toBe(T0 + 1_000);
    // During the back-off: the old token, no request.
    clock.t += 999;
    expect(await manager.getToken()).toBe(OLD);
    expect(calls).toHaveLength(1);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock.t = manager.refreshAt!;
      expect(await manager.getToken()).toBe(OLD);
      const last = errors[errors.length - 1]!.context;
      delays.push(last.retryAt! - clock.t);
    }
    expect(delays).toEqual([2_000, 3_000, 3_000, 3_000]);
    expect(calls).toHaveLength(5);
  });

  it('resets the back-off after a success', async () => {
    let fail = true;
    const { manager, clock, errors } = setup({
      initial: { token: OLD, expiresAt: T0 + DAY },
      backoff: { initialMs: 1_000, maxMs: 60_000 },
      refreshWith: async () => {
        if (fail) throw new Error('down');
        return { token: NEW, expiresAt: clock.t + 2 * HOUR };
      },
    });
    await manager.getToken();
    clock.t = manager.refreshAt!;
    await manager.getToken(); // second failure: 2 s
    fail = false;
    clock.t = manager.refreshAt!;
    expect(await manager.getToken()).toBe(NEW);
    fail = true;
    clock.t = manager.refreshAt!;
    expect(await manager.getToken()).toBe(NEW);
    expect(errors[errors.length - 1]!.context.retryAt! - clock.t).toBe(1_000);
  });

  it('once the old token has expired: rejects with TokenUnavailableError "expired", cause = the refresh error', async () => {
    const failure = new ApiError({ code: 401003, message: 'token expired', status: 401 });
    const { manager, clock, calls } = setup({
      initial: { token: OLD, expiresAt: T0 + HOUR },
      refreshWith: async () => {
        throw failure;
      },
    });
    clock.t = T0 + HOUR; // expired now
    const error = await rejectionOf(manager.getToken());
    expect(error).toBeInstanceOf(TokenUnavailableError);
    expect(error).toMatchObject({ name: 'TokenUnavailableError', reason: 'expired', expiresAt: T0 + HOUR, cause: failure });
    expect((error as Error).message).toContain('expired at 2030-01-01T01:00:00.000Z');
    expect((error as Error).message).toContain('ApiError: token expired (code 401003, HTTP 401)');
    // During the back-off it rejects again without a request.
    await expect(manager.getToken()).rejects.toMatchObject({ reason: 'expired', cause: failure });
    expect(calls).toHaveLength(1);
  });

  it('expires while backing off: the cached old token is not handed out past its expiry', async () => {
    const { manager, clock } = setup({
      initial: { token: OLD, expiresAt: T0 + 500 },
      backoff: { initialMs: 1_000 },
      refreshWith: async () => {
        throw new Error('down');
      },
    });
    expect(await manager.getToken()).toBe(OLD);
    clock.t = T0 + 499;
    expect(await manager.getToken()).toBe(OLD);
    clock.t = T0 + 500;
    await expect(manager.getToken()).rejects.toMatchObject({ reason: 'expired' });
  });

  it.each([
    ['not an object', 'not-an-object', () => 'just-a-string'],
    ['an empty token', 'invalid-token', () => ({ token: '', expiresAt: T0 + DAY })],
    ['a token with a line break', 'invalid-token', () => ({ token: `${NEW}\r\n`, expiresAt: T0 + DAY })],
    ['no expiry', 'invalid-expiry', () => ({ token: NEW })],
    ['an unreadable expiry', 'invalid-expiry', () => ({ token: NEW, expiresAt: 'next week' })],
    ['an invalid Date', 'invalid-expiry', () => ({ token: NEW, expiresAt: new Date(Number.NaN) })],
    ['an expiry of now', 'expiry-not-in-future', () => ({ token: NEW, expiresAt: T0 })],
    ['an expiry in the past', 'expiry-not-in-future', () => ({ token: NEW, expiresAt: '2029-12-31T23:59:59Z' })],
    ['seconds instead of ms', 'expiry-not-in-future', () => ({ token: NEW, expiresAt: Math.floor(T0 / 1000) + 90 * 86_400 })],
  ])('a refresh result with %s is an InvalidRefreshResultError; the old token is kept', async (what, reason, result) => {
    const { manager, errors } = setup({
      initial: { token: OLD, expiresAt: T0 + HOUR },
      refreshWith: async () => result() as RefreshResult,
    });
    expect(await manager.getToken()).toBe(OLD);
    expect(errors).toHaveLength(1);
    const error = errors[0]!.error;
    expect(error).toBeInstanceOf(InvalidRefreshResultError);
    expect(error).toMatchObject({ name: 'InvalidRefreshResultError', reason });
    expect(views(error)).not.toContain(NEW);
    expect(views(error)).not.toContain(OLD);
    if (what === 'seconds instead of ms') expect((error as Error).message).toMatch(/milliseconds, not seconds/);
  });

  it('a listener that throws does not break the manager', async () => {
    const { manager } = setup({
      initial: { token: OLD, expiresAt: T0 + HOUR },
      onError: () => {
        throw new Error('listener bug');
      },
      onRefresh: () => {
        throw new Error('listener bug');
      },
      refreshWith: async () => {
        throw new Error('down');
      },
    });
    expect(await manager.getToken()).toBe(OLD);
    const ok = setup({ initial: { token: OLD, expiresAt: T0 + HOUR }, onRefresh: () => { throw new Error('bug'); } });
    expect(await ok.manager.getToken()).toBe(NEW);
  });

  it('a refresh function that throws synchronously is a failed refresh', async () => {
    const { manager, errors } = setup({
      initial: { token: OLD, expiresAt: T0 + HOUR },
      refresh: () => {
        throw new Error('sync');
      },
    });
    expect(await manager.getToken()).toBe(OLD);
    expect(errors[0]!.context.phase).toBe('refresh');
  });
});

describe('the store', () => {
  it('a failed save: the new token is still returned and held, the failure is reported', async () => {
    const store = new SpyStore();
    store.failSave = new TokenStoreError('write-failed', 'disk full', { path: '/x' });
    const { manager, clock, calls, errors } = setup({ store, initial: { token: OLD, expiresAt: T0 + HOUR } });
    expect(await manager.getToken()).toBe(NEW);
    expect(await manager.getToken()).toBe(NEW);
    expect(calls).toHaveLength(1);
    expect(errors).toEqual([{ error: store.failSave, context: { phase: 'save', expiresAt: clock.t + 90 * DAY } }]);
  });

  it('getToken() resolves after the new token was saved; saves never overlap', async () => {
    const order: string[] = [];
    const gate = deferred<void>();
    const store: TokenStore = {
      load: async () => undefined,
      save: async () => {
        order.push('save start');
        await gate.promise;
        order.push('save end');
      },
    };
    const { manager } = setup({ store, initial: { token: OLD, expiresAt: T0 + HOUR } });
    const got = manager.getToken().then((t) => order.push(`got ${t === NEW ? 'new' : 'old'}`));
    const forced = manager.refreshNow(); // joins the flight, which includes the save
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(['save start']);
    gate.resolve();
    await got;
    expect(await forced).toBe(NEW);
    expect(order).toEqual(['save start', 'save end', 'got new']);
  });

  it('MemoryTokenStore is the default, and keeps copies', async () => {
    const store = new MemoryTokenStore();
    expect(await store.load()).toBeUndefined();
    const record = { token: OLD, expiresAt: T0 };
    await store.save(record);
    record.token = 'mutated';
    expect(await store.load()).toEqual({ token: OLD, expiresAt: T0 });
    expect(await new MemoryTokenStore({ token: NEW, expiresAt: T0 }).load()).toEqual({ token: NEW, expiresAt: T0 });
    await expect(store.save({ token: '', expiresAt: T0 })).rejects.toMatchObject({ name: 'InvalidInputError', field: 'token.token' });
    await expect(store.save({ token: OLD, expiresAt: Number.POSITIVE_INFINITY })).rejects.toMatchObject({ field: 'token.expiresAt' });
    expect(() => new MemoryTokenStore({ token: ' x', expiresAt: T0 })).toThrow(InvalidInputError);
  });
});

describe('refreshNow()', () => {
  it('refreshes outside the window and resolves the new token', async () => {
    const { manager, calls } = setup();
    expect(await manager.getToken()).toBe(OLD);
    expect(await manager.refreshNow()).toBe(NEW);
    expect(calls).toEqual([{ token: OLD, expiresAt: T0 + 30 * DAY }]);
    expect(await manager.getToken()).toBe(NEW);
  });

  it('ignores the back-off, rejects with the refresh error and keeps the old token', async () => {
    const failure = new Error('down');
    const { manager, calls, errors } = setup({
      initial: { token: OLD, expiresAt: T0 + HOUR },
      refreshWith: async () => {
        throw failure;
      },
    });
    expect(await manager.getToken()).toBe(OLD);
    await expect(manager.refreshNow()).rejects.toBe(failure);
    expect(calls).toHaveLength(2);
    expect(errors.map((e) => e.context.phase)).toEqual(['refresh', 'refresh']);
    expect(await manager.getToken()).toBe(OLD);
    expect(calls).toHaveLength(2);
  });

  it('a failure far outside the window does not bring the next automatic refresh forward', async () => {
    const { manager, clock, calls } = setup({
      initial: { token: OLD, expiresAt: T0 + 60 * DAY },
      refreshWith: async () => {
        throw new Error('down');
      },
    });
    expect(await manager.getToken()).toBe(OLD);
    await expect(manager.refreshNow()).rejects.toThrow('down');
    clock.t += HOUR; // long past the back-off, still 53+ days outside the 7-day window
    expect(await manager.getToken()).toBe(OLD);
    expect(calls).toHaveLength(1);
  });

  it('joins a refresh in flight', async () => {
    const gate = deferred<RefreshResult>();
    const { manager, clock, calls } = setup({ initial: { token: OLD, expiresAt: T0 + HOUR }, refreshWith: () => gate.promise });
    const a = manager.getToken();
    const b = manager.refreshNow();
    const c = manager.refreshNow();
    await new Promise((r) => setTimeout(r, 1));
    gate.resolve({ token: NEW, expiresAt: clock.t + 90 * DAY });
    expect(await Promise.all([a, b, c])).toEqual([NEW, NEW, NEW]);
    expect(calls).toHaveLength(1);
  });
});

describe('options', () => {
  const refresh = async () => ({ token: NEW, expiresAt: T0 + DAY });
  it.each([
    ['options', null],
    ['refresh', {}],
    ['refresh', { refresh: 'https://…' }],
    ['store', { refresh, store: {} }],
    ['store', { refresh, store: { load: async () => undefined } }],
    ['now', { refresh, now: 5 }],
    ['onError', { refresh, onError: 'console' }],
    ['onRefresh', { refresh, onRefresh: {} }],
    ['refreshWindowMs', { refresh, refreshWindowMs: -1 }],
    ['refreshWindowMs', { refresh, refreshWindowMs: 1.5 }],
    ['refreshWindowMs', { refresh, refreshWindowMs: '7d' }],
    ['backoff', { refresh, backoff: 1000 }],
    ['backoff.initialMs', { refresh, backoff: { initialMs: Number.NaN } }],
    ['backoff.maxMs', { refresh, backoff: { initialMs: 5_000, maxMs: 1_000 } }],
    ['initial', { refresh, initial: OLD }],
    ['initial.token', { refresh, initial: { token: '', expiresAt: T0 } }],
    ['initial.token', { refresh, initial: { token: `Bearer ${OLD}\n`, expiresAt: T0 } }],
    ['initial.expiresAt', { refresh, initial: { token: OLD } }],
    ['initial.expiresAt', { refresh, initial: { token: OLD, expiresAt: '2030-02-30T00:00:00Z' } }],
    ['initial.expiresAt', { refresh, initial: { token: OLD, expiresAt: '31/01/2030' } }],
  ])('%s: InvalidInputError naming the field', (field, options) => {
    let error: unknown;
    try {
      new TokenManager(options as TokenManagerOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ field });
    expect((error as Error).message.startsWith(`${field}: `)).toBe(true);
    expect(views(error)).not.toContain(OLD);
  });

  it('a large backoff.initialMs raises the default maxMs with it', async () => {
    const { manager, errors } = setup({
      initial: { token: OLD, expiresAt: T0 + DAY },
      backoff: { initialMs: 10 * 60_000 },
      refreshWith: async () => {
        throw new Error('down');
      },
    });
    await manager.getToken();
    expect(errors[0]!.context.retryAt).toBe(T0 + 10 * 60_000);
  });
});

describe('the token never leaks', () => {
  it('not from util.inspect, JSON or String() of the manager or the memory store, in any state', async () => {
    const store = new MemoryTokenStore({ token: OLD, expiresAt: T0 + HOUR });
    const { manager, clock } = setup({ store, initial: undefined });
    expect(views(manager)).not.toContain(OLD);
    await manager.getToken();
    expect(views(manager)).not.toContain(OLD);
    expect(views(store)).not.toContain(OLD);
    expect(String(manager)).toBe('[object TokenManager]');
    clock.t += 1;
    await manager.refreshNow();
    for (const value of [manager, store]) {
      expect(views(value)).not.toContain(OLD);
      expect(views(value)).not.toContain(NEW);
    }
  });

  /** An error's own views, without its `cause` (the refresh function's value, passed on unchanged). */
  const own = (error: unknown) => {
    const { cause: _, ...fields } = error as Error & { cause?: unknown };
    return [views(fields), (error as Error).message, (error as Error).stack, JSON.stringify(error), String(error)].join('\n');
  };

  it('not from any error the manager creates, even when the refresh error quotes the token', async () => {
    const collected: unknown[] = [];
    const leaky = new Error(`refresh failed for token ${OLD}`);
    const expired = setup({
      initial: { token: OLD, expiresAt: T0 + HOUR },
      refreshWith: async () => {
        throw leaky;
      },
    });
    expired.clock.t = T0 + HOUR;
    const error = await rejectionOf(expired.manager.getToken());
    expect((error as Error).message).toContain('refresh failed for token <redacted>'); // src/redact.ts
    collected.push(error);
    const short = setup({ initial: { token: 'short', expiresAt: T0 + HOUR }, refreshWith: async () => Promise.reject(new Error('no: short')) });
    short.clock.t = T0 + HOUR;
    const withheld = await rejectionOf(short.manager.getToken());
    expect((withheld as Error).message).toContain('Error (its message is withheld: it contains a token)');
    expect((withheld as Error).message).not.toContain('no: short');
    collected.push(await rejectionOf(setup({ initial: undefined }).manager.getToken()));
    const thrownString = setup({ initial: { token: OLD, expiresAt: T0 }, refreshWith: () => Promise.reject(OLD) });
    collected.push(await rejectionOf(thrownString.manager.getToken()));
    for (const result of [{ token: '' }, { token: OLD, expiresAt: OLD }, { token: `${OLD} `, expiresAt: T0 + DAY }]) {
      const s = setup({ initial: { token: OLD, expiresAt: T0 + HOUR }, refreshWith: async () => result as RefreshResult });
      await s.manager.getToken();
      collected.push(s.errors[0]!.error);
    }
    for (const initial of [{ token: `${OLD}\n`, expiresAt: T0 }, { token: OLD, expiresAt: OLD }]) {
      try {
        new TokenManager({ refresh: async () => ({ token: NEW, expiresAt: T0 }), initial });
      } catch (e) {
        collected.push(e);
      }
    }
    expect(collected).toHaveLength(8);
    for (const value of collected) {
      expect(value).toBeInstanceOf(TokenApiError);
      expect(own(value)).not.toContain(OLD);
      expect(own(value)).not.toContain(NEW);
    }
  });

  it('not from the whole error chain when the refresh is built on createTokenClient', async () => {
    const seen: string[] = [];
    let status = 200;
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      seen.push(request.headers.get('authorization') ?? '');
      const body =
        status === 200
          ? { code: 0, message: 'success', data: { token: NEW, expired_at: '2030-04-01T00:00:00.000Z', issued_at: '2030-01-01T00:00:00.000Z', account_info: { member_id: '1', aaid: '20001', account_channel: 'lb' } } }
          : { code: 401003, message: 'token expired', data: null };
      return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
    }) as typeof globalThis.fetch;
    const make = () =>
      setup({
        initial: { token: OLD, expiresAt: T0 + HOUR },
        refreshWith: async (current) => {
          const client = createTokenClient({ accessToken: current.token, accountChannel: 'lb', appKey: 'APPKEY', appSecret: 'APPSECRET', fetch });
          const data = await client.refreshAccessToken({ expiredAt: new Date(T0 + 90 * DAY) });
          return { token: data.token, expiresAt: data.expired_at };
        },
      });
    const ok = make();
    expect(await ok.manager.getToken()).toBe(NEW);
    expect(ok.manager.expiresAt).toBe(T0 + 90 * DAY);
    expect(seen).toEqual([OLD]); // authorised with the current token

    status = 401;
    const failing = make();
    failing.clock.t = T0 + HOUR;
    const error = await rejectionOf(failing.manager.getToken());
    expect(error).toMatchObject({ name: 'TokenUnavailableError', reason: 'expired', cause: { name: 'ApiError', code: 401003 } });
    expect(views(error)).not.toContain(OLD);
    expect(views(failing.errors)).not.toContain(OLD);
  });
});

describe('runtime neutrality', () => {
  it('the manager, the memory store and their errors import nothing from node:', () => {
    for (const file of [
      'lifecycle/token-manager.ts',
      'lifecycle/token-store.ts',
      'errors/token-unavailable-error.ts',
      'errors/invalid-refresh-result-error.ts',
      'errors/token-store-error.ts',
    ]) {
      const source = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
      expect(source, file).not.toMatch(/from\s+['"]node:|require\(|\bprocess\./);
    }
    const index = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8');
    expect(index).not.toMatch(/file-token-store/);
  });
});
