// Compile-time guarantees: these lines must keep failing to compile. If the types loosen,
// an `@ts-expect-error` becomes unused and `vitest --typecheck` (part of `npm test`) fails.
import { describe, expectTypeOf, it } from 'vitest';
import { createTokenClient, type LiveTokenClient, type RefreshTokenData, type Region, type TokenClient } from '../src/index.js';

const client = createTokenClient({ accessToken: 'T', accountChannel: 'lb' });

describe('the client’s types', () => {
  it('accept only the spec’s channels', () => {
    createTokenClient({ accessToken: 'T', accountChannel: 'pspl_sg' });
    // @ts-expect-error: not a channel of the spec
    createTokenClient({ accessToken: 'T', accountChannel: 'hk' });
  });

  it('have refreshToken (the historical form) only with an accountChannel', () => {
    const live = createTokenClient({ accessToken: 'T' });
    void live.refreshAccessToken();
    // @ts-expect-error: a client created without accountChannel has no refreshToken
    void live.refreshToken({ aaid: '1', expiredAt: new Date() });
    expectTypeOf(live).toEqualTypeOf<LiveTokenClient>();
    expectTypeOf(client).toEqualTypeOf<TokenClient>();
  });

  it('accept only the spec’s regions', () => {
    createTokenClient({ accessToken: 'T', region: 'cn' });
    createTokenClient({ accessToken: 'T', region: 'global' });
    // @ts-expect-error: not a region of the spec
    createTokenClient({ accessToken: 'T', region: 'hk' });
    expectTypeOf<Region>().toEqualTypeOf<'global' | 'cn'>();
  });

  it('require aaid and expiredAt', () => {
    void client.refreshToken({ aaid: '1', expiredAt: new Date() });
    // @ts-expect-error: aaid is missing
    void client.refreshToken({ expiredAt: new Date() });
    // @ts-expect-error: expiredAt must be a Date or a string
    void client.refreshToken({ aaid: '1', expiredAt: 1 });
  });

  it('resolve with the spec’s data', () => {
    expectTypeOf(client.refreshToken).returns.resolves.toEqualTypeOf<RefreshTokenData>();
    expectTypeOf<RefreshTokenData['account_info']['account_channel']>().toEqualTypeOf<'lb' | 'pspl_sg'>();
    expectTypeOf<RefreshTokenData['token']>().toEqualTypeOf<string>();
  });

  it('client.api knows the path, the method, the header and the body', () => {
    const body = { aaid: '1', expired_at: '2099-01-01T00:00:00Z' };
    const header = { 'Account-Channel': 'lb' as const };
    void client.api.POST('/v1/openapi/token/refresh', { params: { header }, body });
    // @ts-expect-error: no such path
    void client.api.POST('/v1/token/refreshh', { params: { header }, body });
    // @ts-expect-error: the endpoint is POST only
    void client.api.PUT('/v1/openapi/token/refresh', { params: { header }, body });
    // @ts-expect-error: Account-Channel is required
    void client.api.POST('/v1/openapi/token/refresh', { params: { header: {} }, body });
    // @ts-expect-error: unknown channel
    void client.api.POST('/v1/openapi/token/refresh', { params: { header: { 'Account-Channel': 'hk' } }, body });
    // @ts-expect-error: aaid is required in the body
    void client.api.POST('/v1/openapi/token/refresh', { params: { header }, body: { expired_at: body.expired_at } });
  });
});
