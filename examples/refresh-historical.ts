import { createTokenClient } from 'longbridge-token-api';

// The historical form of the 2022-04-21 documentation page: POST /v1/openapi/token/refresh with the
// account's `aaid` and its `Account-Channel`. Only a client given `accountChannel` has `refreshToken`.
const historical = createTokenClient({
  accessToken: process.env.LONGBRIDGE_ACCESS_TOKEN ?? 'demo-token',
  accountChannel: 'lb', // or 'pspl_sg'
  baseUrl: 'http://127.0.0.1:4010',
});
const data = await historical.refreshToken({ aaid: '20001', expiredAt: new Date(Date.now() + 90 * 24 * 3600 * 1000) });
console.log(data.account_info.account_channel); // 'lb'
