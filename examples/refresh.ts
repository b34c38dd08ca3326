import { ApiError, createTokenClient, InvalidResponseError, NetworkError, TimeoutError } from 'longbridge-token-api';

const client = createTokenClient({
  accessToken: process.env.LONGBRIDGE_ACCESS_TOKEN ?? 'demo-token', // sent raw as Authorization
  accountChannel: 'lb', // or 'pspl_sg'
  baseUrl: 'http://127.0.0.1:4010', // the local mock; default https://openapi.longbridge.com
});

try {
  const data = await client.refreshToken({
    aaid: '20001',
    expiredAt: new Date(Date.now() + 90 * 24 * 3600 * 1000), // or '2027-01-01T00:00:00Z'
  });
  console.log(data.expired_at, data.account_info.account_channel); // typed from openapi.yaml
} catch (error) {
  if (error instanceof ApiError) console.error(error.code, error.status, error.message); // e.g. 401003
  else if (error instanceof TimeoutError || error instanceof NetworkError) console.error(error.name, error.message);
  else if (error instanceof InvalidResponseError) console.error(error.reason);
  else throw error;
}
