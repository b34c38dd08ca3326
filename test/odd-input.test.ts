// Odd values anywhere a caller can put them: createTokenClient throws InvalidInputError for
// its options; the methods never throw synchronously, they reject, with one of the package's
// errors naming the field, and send nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenClient, InvalidInputError, TokenApiError } from '../src/index.js';
import { successEnvelope } from './helpers/loopback-server.js';
import { NOW, recordingClient } from './helpers/recording-client.js';

const clientWith = (extra: Record<string, unknown> = {}) => recordingClient(extra);

const revoked = (() => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
})();
const throwing = () => {
  throw new Error('hostile');
};
/** Values that break a careless `String(x)`, `x instanceof Date`, `x.getTime()` or `x.field`. */
const HOSTILE: Array<[string, unknown]> = [
  ['an object without a prototype', Object.create(null)],
  ['an object whose toString throws', { toString: throwing }],
  ['an object whose Symbol.toPrimitive throws', { [Symbol.toPrimitive]: throwing }],
  ['a Proxy of a Date', new Proxy(new Date('2099-01-01T00:00:00Z'), {})],
  ['a revoked Proxy', revoked],
  ['a Proxy whose every trap throws', new Proxy({}, { get: throwing, has: throwing, ownKeys: throwing, getPrototypeOf: throwing, getOwnPropertyDescriptor: throwing })],
  ['an object whose getters throw', Object.defineProperties({}, Object.fromEntries(['aaid', 'expiredAt', 'signal'].map((k) => [k, { get: throwing, enumerable: true }])))],
  ['a symbol', Symbol('s')],
  ['a bigint', 10n],
  ['a function', () => 1],
];

/**
 * fast-check inspects the values it generates (and a hostile one breaks that), so it generates
 * a stand-in that the property swaps for the hostile value itself.
 */
class StandIn {
  constructor(readonly index: number) {}
}
const real = (value: unknown) => (value instanceof StandIn ? HOSTILE[value.index]![1] : value);
const oddValue = fc.oneof(fc.anything(), fc.integer({ min: 0, max: HOSTILE.length - 1 }).map((index) => new StandIn(index)));
/** A record with some of `keys`, each an odd value (or one of `fine`'s), swapped in by `realRecord`. */
const oddRecord = (keys: string[], fine: fc.Arbitrary<unknown>) =>
  fc.record(Object.fromEntries(keys.map((key) => [key, fc.oneof(oddValue, fine)])), { requiredKeys: [] }).map((fields) => ({ fields }));
const realRecord = (value: unknown) =>
  typeof value === 'object' && value !== null && 'fields' in value
    ? Object.fromEntries(Object.entries((value as { fields: Record<string, unknown> }).fields).map(([key, v]) => [key, real(v)]))
    : real(value);

/** Calls `run` and returns what it settled with; fails the test on a synchronous throw. */
async function settle(run: () => Promise<unknown>): Promise<{ value?: unknown; error?: unknown }> {
  let promise: Promise<unknown>;
  try {
    promise = run();
  } catch (error) {
    throw new Error(`threw synchronously: ${String(error)}`);
  }
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

describe('method arguments: a rejection naming the field, never a synchronous throw, nothing sent', () => {
  it.each([
    { what: 'refreshAccessToken(null)', run: (c: ReturnType<typeof clientWith>['client']) => c.refreshAccessToken(null as never), field: 'input' },
    { what: 'refreshAccessToken("2099")', run: (c: ReturnType<typeof clientWith>['client']) => c.refreshAccessToken('2099' as never), field: 'input' },
    { what: 'refreshToken(null)', run: (c: ReturnType<typeof clientWith>['client']) => c.refreshToken(null as never), field: 'input' },
    { what: 'null call options', run: (c: ReturnType<typeof clientWith>['client']) => c.refreshAccessToken({}, null as never), field: 'options' },
    { what: 'call options a string', run: (c: ReturnType<typeof clientWith>['client']) => c.refreshAccessToken({}, 'x' as never), field: 'options' },
    { what: 'a signal that is not an AbortSignal', run: (c: ReturnType<typeof clientWith>['client']) => c.refreshAccessToken({}, { signal: { aborted: false } as never }), field: 'signal' },
    { what: 'a signal that is a string', run: (c: ReturnType<typeof clientWith>['client']) => c.refreshToken({ aaid: '1', expiredAt: '2099-01-01T00:00:00Z' }, { signal: 'stop' as never }), field: 'signal' },
    { what: 'expiredAt a Proxy of a Date', run: (c: ReturnType<typeof clientWith>['client']) => c.refreshAccessToken({ expiredAt: new Proxy(new Date('2099-01-01'), {}) }), field: 'expiredAt' },
    { what: 'expiredAt whose getter throws', run: (c: ReturnType<typeof clientWith>['client']) => c.refreshAccessToken(Object.defineProperty({}, 'expiredAt', { get: throwing })), field: 'expiredAt' },
    { what: 'input a revoked Proxy', run: (c: ReturnType<typeof clientWith>['client']) => c.refreshToken(revoked as never), field: 'aaid' },
  ])('$what → InvalidInputError $field', async ({ run, field }) => {
    const { client, sent } = clientWith();
    const { error } = await settle(() => run(client));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ field });
    expect(sent).toHaveLength(0);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['past a Date’s range', 1e20],
    ['before 1970', -1],
    ['a string', '1795635898000'],
    ['undefined', undefined],
  ])('a clock returning %s → InvalidInputError now; a signed request never goes out with X-Timestamp NaN', async (_what, value) => {
    const { client, sent } = clientWith({ now: () => value, appKey: 'APPKEY', appSecret: 'APPSECRET' });
    for (const run of [() => client.refreshAccessToken(), () => client.refreshToken({ aaid: '1', expiredAt: '2099-01-01T00:00:00Z' })]) {
      const { error } = await settle(run);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error).toMatchObject({ field: 'now' });
    }
    const { error } = await settle(() => client.api.GET('/v1/token/refresh', { params: { query: { expired_at: '2099-01-01T00:00:00Z' } } }));
    expect(error).toMatchObject({ name: 'InvalidInputError', field: 'now' });
    expect(sent).toHaveLength(0);
  });

  it('a clock that goes bad once the request is out never costs the reply (the refresh went through)', async () => {
    let bad = false;
    const client = createTokenClient({
      accessToken: 'T',
      baseUrl: 'http://127.0.0.1:9',
      accountChannel: 'lb',
      now: () => (bad ? Number.NaN : NOW),
      fetch: (async () => {
        bad = true;
        return new Response(JSON.stringify(successEnvelope), { headers: { 'Content-Type': 'application/json', 'Retry-After': 'Wed, 21 Oct 2099 07:28:00 GMT' } });
      }) as typeof fetch,
    });
    const data = await client.refreshAccessToken({ expiredAt: '2099-01-01T00:00:00Z' });
    expect(bad).toBe(true);
    expect(data.token).toBe(successEnvelope.data.token);
  });

  it('property: any input and call options resolve, or reject with one of the package’s errors; never a synchronous throw', async () => {
    const { client } = clientWith();
    const fine = fc.oneof(fc.date(), fc.constantFrom('20001', '2099-01-01T00:00:00Z', '2026-11-24T00:00:00Z'));
    const input = fc.oneof(oddValue, oddRecord(['aaid', 'expiredAt'], fine));
    const callOptions = fc.oneof(fc.constant(undefined), oddValue, oddRecord(['signal'], fc.constant(undefined)));
    await fc.assert(
      fc.asyncProperty(fc.boolean(), input, callOptions, async (live, input, options) => {
        const [given, per] = [realRecord(input), realRecord(options)];
        const { error } = await settle(() =>
          live ? client.refreshAccessToken(given as never, per as never) : client.refreshToken(given as never, per as never),
        );
        if (error !== undefined) expect(error).toBeInstanceOf(TokenApiError);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('createTokenClient options: InvalidInputError naming the field, thrown at once', () => {
  it.each([
    { what: 'now a string', field: 'now', options: { now: 'Date.now' } },
    { what: 'now a number', field: 'now', options: { now: 1795635898000 } },
    { what: 'timeoutMs whose toString throws', field: 'timeoutMs', options: { timeoutMs: { toString: throwing } } },
    { what: 'timeoutMs without a prototype', field: 'timeoutMs', options: { timeoutMs: Object.create(null) } },
    { what: 'maxResponseBytes a symbol', field: 'maxResponseBytes', options: { maxResponseBytes: Symbol('x') } },
    { what: 'retry.retries without a prototype', field: 'retry.retries', options: { retry: { retries: Object.create(null) } } },
    { what: 'retry a revoked Proxy', field: 'retry.retries', options: { retry: revoked } },
    { what: 'accessToken whose getter throws', field: 'accessToken', options: { get accessToken() { return throwing() } } },
  ])('$what → $field', ({ field, options }) => {
    // options' own properties (getters kept as getters) over the required ones
    const create = () => createTokenClient(Object.create({ accessToken: 'T', accountChannel: 'lb' }, Object.getOwnPropertyDescriptors(options)) as never);
    expect(create).toThrow(InvalidInputError);
    expect(create).toThrow(expect.objectContaining({ field }));
  });

  it('the whole options object a revoked Proxy', () => {
    expect(() => createTokenClient(revoked as never)).toThrow(InvalidInputError);
  });

  it('property: any value of any option gives a client or InvalidInputError, nothing else', () => {
    const keys = ['accessToken', 'accountChannel', 'appKey', 'appSecret', 'baseUrl', 'fetch', 'timeoutMs', 'retry', 'maxResponseBytes', 'now'];
    fc.assert(
      fc.property(fc.constantFrom(...keys), oddValue, (key, value) => {
        try {
          createTokenClient({ accessToken: 'T', accountChannel: 'lb', [key]: real(value) } as never);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidInputError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
