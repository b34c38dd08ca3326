// A consumer's file, type-checked against the packed tarball by test/package.test.ts.
import { ApiError, createTokenClient, type RefreshTokenData } from 'longbridge-token-api';

const client = createTokenClient({ accessToken: 'T', accountChannel: 'pspl_sg' });
export async function refresh(): Promise<string> {
  try {
    const data: RefreshTokenData = await client.refreshToken({ aaid: '20001', expiredAt: new Date(Date.now() + 1e9) });
    return data.account_info.account_channel;
  } catch (error) {
    return error instanceof ApiError ? error.kind : 'other';
  }
}
// @ts-expect-error: the types travel with the package, so a wrong channel does not compile
createTokenClient({ accessToken: 'T', accountChannel: 'hk' });
