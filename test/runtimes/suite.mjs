// The runtime-neutral suite over the built package (dist/): no test framework, no `node:`
// import, only what every runtime of the matrix has (fetch, AbortController, TextEncoder).
// test/runtimes/matrix.ts runs it in Node 20/22/24, Bun, Deno and headless Chromium against
// its loopback mock (test/runtimes/mock-server.ts), which hands out the cases that need Node to
// prepare (signatures computed with node:crypto, the spec's table of error codes).
import { signingCrypto } from '#crypto';
import { ApiError, createTokenClient, InvalidResponseError, NetworkError, TimeoutError, TokenApiError } from '../../dist/index.js';

/** The two vectors observed from the official SDK (shared reference, test/signing.test.ts). */
const VECTORS = [
  {
    name: 'signing: the official POST vector',
    send: (api) => api.POST('/v1/openapi/token/refresh', { params: { header: { 'Account-Channel': 'lb' } }, body: { aaid: '20001', expired_at: '2023-04-14T12:13:57.859Z' } }),
    signature: '3dc28dfe5ae520f7fdb22d4cdb23aae346c3c2df22b52a17babad26d320bbc61',
  },
  {
    name: 'signing: the official GET vector',
    send: (api) => api.GET('/v1/token/refresh', { params: { query: { expired_at: '2027-01-01T00:00:00Z' } } }),
    signature: '7d47b6dc9ea737ca6e856fffa29750d518df5bede19d1045833bea23ebc48402',
  },
];

class Failure extends Error {}
function check(condition, message) {
  if (!condition) throw new Failure(message);
}
function equal(actual, expected, what) {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
/** The rejection of `promise`; fails when it resolves. */
async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Failure('expected a rejection, the call resolved');
}
const signatureOf = (response) => /Signature=([0-9a-f]{64})$/.exec(response.headers.get('X-Seen-Signature') ?? '')?.[1];

/**
 * Runs every case against the mock at `mockUrl`; resolves with the report (never rejects).
 * `log` gets one line per case.
 */
export async function runSuite(mockUrl, log) {
  const setup = await (await fetch(`${mockUrl}/__suite`)).json();
  const results = [];
  const facts = { crypto: signingCrypto.runtime };
  const test = async (name, body) => {
    try {
      await body();
      results.push({ name, ok: true });
      log(`ok   ${name}`);
    } catch (error) {
      const detail = error instanceof Failure ? error.message : `${error?.name}: ${error?.message}`;
      results.push({ name, ok: false, detail });
      log(`FAIL ${name}: ${detail}`);
    }
  };
  const client = (options = {}) => createTokenClient({ accessToken: 'ACCESSTOKEN', accountChannel: 'lb', baseUrl: mockUrl, ...options });
  const vectorKeys = { appKey: 'APPKEY', appSecret: 'APPSECRET', now: () => 1795635898_000 };

  for (const vector of VECTORS) {
    await test(vector.name, async () => {
      const { response } = await vector.send(client(vectorKeys).api);
      equal(response.status, 200, 'status');
      equal(signatureOf(response), vector.signature, 'signature');
    });
  }

  await test(`signing: ${setup.randomSigning.length} random requests agree with node:crypto`, async () => {
    for (const [i, c] of setup.randomSigning.entries()) {
      const api = client({ accessToken: c.accessToken, appKey: c.appKey, appSecret: c.appSecret, baseUrl: mockUrl + c.prefix, now: () => c.timestamp * 1000 }).api;
      const { response } =
        c.method === 'GET'
          ? await api.GET('/v1/token/refresh', { params: { query: { expired_at: c.expiredAt } } })
          : await api.POST('/v1/openapi/token/refresh', { params: { header: { 'Account-Channel': 'lb' } }, body: { aaid: c.aaid, expired_at: c.expiredAt } });
      // 200 means the mock verified the request it received with node:crypto, bytes as sent.
      equal(response.status, 200, `case ${i}: the mock's check of the bytes sent`);
      equal(signatureOf(response), c.signature, `case ${i}: signature`);
    }
  });

  for (const signed of [false, true]) {
    const keys = signed ? { appKey: 'APPKEY', appSecret: 'APPSECRET' } : {};
    const how = signed ? 'signed' : 'unsigned';
    await test(`refreshToken (POST, the 2022 form), ${how}: resolves the reply's data`, async () => {
      const data = await client(keys).refreshToken({ aaid: '20001', expiredAt: new Date(Date.now() + 3_600_000) });
      equal(data.token, setup.token, 'data.token');
      equal(data.account_info.account_channel, 'lb', 'data.account_info.account_channel');
    });
    await test(`refreshAccessToken (GET, the live form), ${how}: resolves the reply's data`, async () => {
      const data = await client(keys).refreshAccessToken();
      equal(data.token, setup.token, 'data.token');
    });
  }

  for (const documented of setup.errorCodes) {
    await test(`error mapping: ${documented.code} (HTTP ${documented.status}) → ApiError ${documented.kind}`, async () => {
      const error = await rejection(client({ baseUrl: `${mockUrl}/code/${documented.code}`, retry: false }).refreshAccessToken());
      check(error instanceof ApiError && error instanceof TokenApiError, `expected ApiError, got ${error?.name}`);
      equal(error.name, 'ApiError', 'name');
      equal(error.code, documented.code, 'code');
      equal(error.status, documented.status, 'status');
      equal(error.kind, documented.kind, 'kind');
      check(error.message.includes(documented.message), `message ${JSON.stringify(error.message)} holds the server's ${JSON.stringify(documented.message)}`);
    });
  }

  await test('error mapping: a reply that is not the envelope → InvalidResponseError not-json', async () => {
    const error = await rejection(client({ baseUrl: `${mockUrl}/html` }).refreshAccessToken());
    check(error instanceof InvalidResponseError, `expected InvalidResponseError, got ${error?.name}`);
    equal(error.reason, 'not-json', 'reason');
  });

  await test('a reply over maxResponseBytes, without Content-Length → InvalidResponseError too-large', async () => {
    const error = await rejection(client({ baseUrl: `${mockUrl}/big`, maxResponseBytes: 4096 }).refreshAccessToken());
    check(error instanceof InvalidResponseError, `expected InvalidResponseError, got ${error?.name}: ${error?.message}`);
    equal(error.reason, 'too-large', 'reason');
  });

  await test('timeout: no reply within timeoutMs → TimeoutError, mayHaveReachedServer', async () => {
    const error = await rejection(client({ baseUrl: `${mockUrl}/hang/timeout`, timeoutMs: 300 }).refreshAccessToken());
    check(error instanceof TimeoutError, `expected TimeoutError, got ${error?.name}: ${error?.message}`);
    equal(error.timeoutMs, 300, 'timeoutMs');
    equal(error.mayHaveReachedServer, true, 'mayHaveReachedServer');
  });

  await test("a caller's abort, once the request has arrived → rejects with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const call = rejection(client({ baseUrl: `${mockUrl}/hang/abort` }).refreshAccessToken({}, { signal: controller.signal }));
    await fetch(`${mockUrl}/__arrived/abort`); // answers once the hanging request is at the mock
    controller.abort(reason);
    equal(await call, reason, 'rejection');
  });

  await test('connection refused → NetworkError', async () => {
    const error = await rejection(client({ baseUrl: setup.refusedUrl }).refreshAccessToken());
    check(error instanceof NetworkError, `expected NetworkError, got ${error?.name}: ${error?.message}`);
    check(typeof error.mayHaveReachedServer === 'boolean', 'mayHaveReachedServer is a boolean');
    facts.refusedMayHaveReachedServer = error.mayHaveReachedServer;
  });

  return { results, facts, passed: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length };
}
