import { ApiError, createTokenClient, InvalidResponseError, NetworkError, TimeoutError } from 'longbridge-token-api';

const client = createTokenClient({
  accessToken: process.env.LONGBRIDGE_ACCESS_TOKEN ?? 'demo-token', // sent raw as Authorization
  appKey: process.env.LONGBRIDGE_APP_KEY, // with appSecret: every request is signed, as the live service requires
  appSecret: process.env.LONGBRIDGE_APP_SECRET,
  baseUrl: 'http://127.0.0.1:4010', // the local mock (`npm start`); default https://openapi.longbridge.com, or region: 'cn'
});

try {
  // The live form, GET /v1/token/refresh: a new token for the one you hold.
  const data = await client.refreshAccessToken({
    expiredAt: new Date(Date.now() + 90 * 24 * 3600 * 1000), // now + 90 days (the default); or '2027-01-01T00:00:00Z'
  });
  console.log(data.expired_at, data.token.length > 0); // typed from openapi.yaml
} catch (error) {
  if (error instanceof ApiError) console.error(error.code, error.status, error.message); // e.g. 401003
  else if (error instanceof TimeoutError || error instanceof NetworkError) console.error(error.name, error.message);
  else if (error instanceof InvalidResponseError) console.error(error.reason);
  else throw error;
}
