// The local emulator (src/emulator/): the live token semantics on loopback, as README
// "Local emulator" promises them.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ApiError, createTokenClient, InvalidInputError } from '../src/index.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/emulator.js';
import { runEmulatorCli } from '../src/emulator/cli.js';
import { expectedSignature } from '../src/emulator/signature.js';
import { spawnChild, stopAll } from './helpers/child.js';

const spec = parse(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')) as {
  info: { 'x-error-codes': Array<{ code: number; status: number; message: string }> };
  components: { responses: { BadRequest: { content: { 'application/json': { examples: { invalidRequest: { value: unknown } } } } } } };
};
const specReply = (code: number) => {
  const entry = spec.info['x-error-codes'].find((row) => row.code === code)!;
  return { status: entry.status, body: { code, message: entry.message, data: null } };
};

const started: Emulator[] = [];
async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const instance = await startEmulator(options);
  started.push(instance);
  return instance;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((instance) => instance.close()));
});
afterAll(stopAll);

/** One raw request, the reply's status and parsed body. */
async function send(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json(), headers: response.headers };
}

const IN_90_DAYS = () => new Date(Date.now() + 90 * 24 * 3600 * 1000);

describe('a refresh', () => {
  it('issues a new token valid until the requested expired_at and kills the one that authorised it (401004 afterwards)', async () => {
    const server = await emulator();
    const old = createTokenClient({ accessToken: server.initialToken, accountChannel: 'lb', baseUrl: server.url });
    const data = await old.refreshAccessToken({ expiredAt: '2099-01-01T00:00:00Z' });
    expect(data.token).not.toBe(server.initialToken);
    expect(data.expired_at).toBe('2099-01-01T00:00:00.000Z');
    expect(data.account_info).toEqual({ member_id: '10086', aaid: '20001', account_channel: 'lb' });
    expect(server.tokenState(data.token)).toBe('live');
    expect(server.tokenState(server.initialToken)).toBe('replaced');

    const again = await old.refreshAccessToken().catch((error: unknown) => error);
    expect(again).toBeInstanceOf(ApiError);
    expect(again).toMatchObject({ code: 401004, status: 401, kind: 'token-invalid' });

    const next = createTokenClient({ accessToken: data.token, accountChannel: 'lb', baseUrl: server.url });
    await expect(next.refreshAccessToken()).resolves.toMatchObject({ token: expect.any(String) });
    expect(server.refreshes).toBe(2);
    expect(server.requests.map((r) => [r.tokenState, r.status, r.code])).toEqual([
      ['live', 200, 0],
      ['replaced', 401, 401004],
      ['live', 200, 0],
    ]);
    expect(server.requests[0]!.token).toBe(server.initialToken);
    expect(server.requests[0]!.issued).toEqual({ token: data.token, expiresAt: Date.parse('2099-01-01T00:00:00Z') });
  });

  it('takes the 2022 POST form too, echoing Account-Channel and aaid as sent', async () => {
    const server = await emulator();
    const client = createTokenClient({ accessToken: server.initialToken, accountChannel: 'pspl_sg', baseUrl: server.url });
    const data = await client.refreshToken({ aaid: '77', expiredAt: '2099-01-01T00:00:00Z' });
    expect(data.account_info).toEqual({ member_id: '10086', aaid: '77', account_channel: 'pspl_sg' });
    expect(server.tokenState(server.initialToken)).toBe('replaced');
  });

  it('the live form answers with the configured account (it carries no channel or aaid)', async () => {
    const server = await emulator({ accountChannel: 'pspl_sg', aaid: '5', memberId: '6' });
    const client = createTokenClient({ accessToken: server.initialToken, accountChannel: 'lb', baseUrl: server.url });
    expect((await client.refreshAccessToken()).account_info).toEqual({ member_id: '6', aaid: '5', account_channel: 'pspl_sg' });
  });

  it('with an expired token is refused with 401003; with an unknown or no token with 401004', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const server = await emulator({ now: () => now, initialExpiresAt: '2030-01-02T00:00:00Z' });
    now = Date.parse('2030-01-03T00:00:00Z');
    const url = `${server.url}/v1/token/refresh?expired_at=2031-01-01T00:00:00Z`;
    expect(await send(url, { headers: { Authorization: server.initialToken } })).toMatchObject(specReply(401003));
    expect(await send(url, { headers: { Authorization: 'never-issued' } })).toMatchObject(specReply(401004));
    expect(await send(url)).toMatchObject(specReply(401004));
    expect(server.refreshes).toBe(0);
    expect(server.requests.map((r) => r.tokenState)).toEqual(['expired', 'unknown', 'missing']);
  });

  it('that breaks the contract gets the spec’s 400 envelope and leaves the token live', async () => {
    const server = await emulator();
    const badRequest = { status: 400, body: spec.components.responses.BadRequest.content['application/json'].examples.invalidRequest.value };
    const post = (headers: Record<string, string>, body: string) =>
      send(`${server.url}/v1/openapi/token/refresh`, {
        method: 'POST',
        headers: { Authorization: server.initialToken, 'Content-Type': 'application/json; charset=utf-8', 'Account-Channel': 'lb', ...headers },
        body,
      });
    const valid = { expired_at: '2099-01-01T00:00:00Z', aaid: '1' };
    expect(await post({ 'Account-Channel': 'nope' }, JSON.stringify(valid))).toMatchObject(badRequest);
    expect(await post({ 'Content-Type': 'text/plain' }, JSON.stringify(valid))).toMatchObject(badRequest);
    expect(await post({}, JSON.stringify({ ...valid, extra: 1 }))).toMatchObject(badRequest);
    expect(await post({}, JSON.stringify({ ...valid, aaid: '' }))).toMatchObject(badRequest);
    expect(await post({}, JSON.stringify({ ...valid, expired_at: '2020-01-01T00:00:00Z' }))).toMatchObject(badRequest); // in the past
    expect(await post({}, '{"expired_at":')).toMatchObject(badRequest);
    expect(await send(`${server.url}/v1/token/refresh?expired_at=soon`, { headers: { Authorization: server.initialToken } })).toMatchObject(badRequest);
    expect(server.refreshes).toBe(0);
    expect(server.tokenState(server.initialToken)).toBe('live');
  });

  it('passes the contract suite, `npm run contract -- --base-url …` (every check, strict, none skipped)', async () => {
    const server = await emulator();
    const child = spawnChild('npm', ['run', '-s', 'contract', '--', '--base-url', server.url, '--strict'], {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, LONGBRIDGE_ACCESS_TOKEN: server.initialToken },
    });
    try {
      const { code } = await child.exited;
      expect(child.lines.filter((line) => /^\s+(FAIL|WARN|SKIP)\b/.test(line))).toEqual([]);
      expect(child.lines.at(-1)).toMatch(/^PASSED: (\d+) checks, \1 passed, 0 failed, 0 warnings, 0 skipped\b/);
      expect(code).toBe(0);
    } finally {
      child.kill();
    }
    expect(server.refreshes).toBe(2); // the valid refresh of each operation, sent last, replaced the token
    expect(server.tokenState(server.initialToken)).toBe('replaced');
  });
});

describe('signatures, when started with an app key and secret', () => {
  const keys = { appKey: 'APPKEY', appSecret: 'APPSECRET' };

  it('verify the two vectors observed from the official SDK', () => {
    const common = { accessToken: 'ACCESSTOKEN', appKey: 'APPKEY', timestamp: '1795635898' };
    const body = new TextEncoder().encode('{"aaid":"20001","expired_at":"2023-04-14T12:13:57.859Z"}');
    expect(expectedSignature({ ...common, method: 'POST', path: '/v1/openapi/token/refresh', query: '', body }, 'APPSECRET')).toBe(
      '3dc28dfe5ae520f7fdb22d4cdb23aae346c3c2df22b52a17babad26d320bbc61',
    );
    expect(
      expectedSignature({ ...common, method: 'GET', path: '/v1/token/refresh', query: 'expired_at=2027-01-01T00%3A00%3A00Z', body: undefined }, 'APPSECRET'),
    ).toBe('7d47b6dc9ea737ca6e856fffa29750d518df5bede19d1045833bea23ebc48402');
  });

  it('accept the vectors’ exact requests, and refuse the same request again with 403202', async () => {
    const server = await emulator({ ...keys, initialToken: 'ACCESSTOKEN', now: () => Date.parse('2023-01-01T00:00:00Z') });
    const signed = (signature: string) => ({
      Authorization: 'ACCESSTOKEN',
      'X-Api-Key': 'APPKEY',
      'X-Timestamp': '1795635898',
      'X-Api-Signature': `HMAC-SHA256 SignedHeaders=authorization;x-api-key;x-timestamp, Signature=${signature}`,
    });
    const post = () =>
      send(`${server.url}/v1/openapi/token/refresh`, {
        method: 'POST',
        headers: { ...signed('3dc28dfe5ae520f7fdb22d4cdb23aae346c3c2df22b52a17babad26d320bbc61'), 'Content-Type': 'application/json; charset=utf-8', 'Account-Channel': 'lb' },
        body: '{"aaid":"20001","expired_at":"2023-04-14T12:13:57.859Z"}',
      });
    const first = await post();
    expect(first).toMatchObject({ status: 200, body: { code: 0, data: { expired_at: '2023-04-14T12:13:57.859Z' } } });
    expect(await post()).toMatchObject(specReply(403202));

    const successor = (first.body as { data: { token: string } }).data.token;
    const get = await send(`${server.url}/v1/token/refresh?expired_at=2027-01-01T00%3A00%3A00Z`, {
      headers: signed('7d47b6dc9ea737ca6e856fffa29750d518df5bede19d1045833bea23ebc48402'),
    });
    expect(get).toMatchObject(specReply(401004)); // signature good, but ACCESSTOKEN was replaced by the POST
    expect(successor).toMatch(/\S/);
  });

  it('accept the client’s signed requests, both forms', async () => {
    const server = await emulator(keys);
    const first = createTokenClient({ accessToken: server.initialToken, accountChannel: 'lb', baseUrl: server.url, ...keys });
    const { token } = await first.refreshAccessToken();
    const second = createTokenClient({ accessToken: token, accountChannel: 'lb', baseUrl: server.url, ...keys });
    await expect(second.refreshToken({ aaid: '20001', expiredAt: IN_90_DAYS() })).resolves.toMatchObject({ account_info: { aaid: '20001' } });
    expect(server.refreshes).toBe(2);
  });

  it('refuse an unsigned request or a wrong secret with 403201, an unknown key with 403203, and do not refresh', async () => {
    const server = await emulator(keys);
    const attempt = (options: { appKey?: string; appSecret?: string }) =>
      createTokenClient({ accessToken: server.initialToken, accountChannel: 'lb', baseUrl: server.url, ...options })
        .refreshAccessToken()
        .catch((error: unknown) => error);
    expect(await attempt({})).toMatchObject({ code: 403201, status: 403, kind: 'signature-invalid' });
    expect(await attempt({ appKey: 'APPKEY', appSecret: 'WRONG-SECRET' })).toMatchObject({ code: 403201 });
    expect(await attempt({ appKey: 'OTHERKEY', appSecret: 'APPSECRET' })).toMatchObject({ code: 403203, kind: 'api-key-illegal' });
    expect(server.refreshes).toBe(0);
    expect(server.tokenState(server.initialToken)).toBe('live');
  });
});

describe('injected 429s and latency', () => {
  it('answers the next N requests with 429 (Retry-After when given); the client re-sends and exactly one refresh happens', async () => {
    const server = await emulator({ rateLimited: 2 });
    const client = createTokenClient({ accessToken: server.initialToken, accountChannel: 'lb', baseUrl: server.url });
    await client.refreshAccessToken();
    expect(server.requests.map((r) => r.code)).toEqual([429002, 429002, 0]);
    expect(server.refreshes).toBe(1);

    server.rateLimit(1, { code: 429001, retryAfterSeconds: 7 });
    const limited = await send(`${server.url}/v1/token/refresh?expired_at=2099-01-01T00:00:00Z`);
    expect(limited).toMatchObject(specReply(429001));
    expect(limited.headers.get('retry-after')).toBe('7');
  });

  it('acts before the reply is sent: a caller gone while the reply travels has lost the new token', async () => {
    const abort = new AbortController();
    const server = await emulator({ latencyMs: 400, onRequest: () => abort.abort() });
    const client = createTokenClient({ accessToken: server.initialToken, accountChannel: 'lb', baseUrl: server.url });
    await expect(client.refreshAccessToken({}, { signal: abort.signal })).rejects.toThrow();
    expect(server.refreshes).toBe(1);
    expect(server.tokenState(server.initialToken)).toBe('replaced');
  });
});

describe('startEmulator options', () => {
  it('are checked, naming the field', async () => {
    await expect(startEmulator({ appKey: 'K' })).rejects.toThrow(InvalidInputError);
    await expect(startEmulator({ appKey: 'K' })).rejects.toMatchObject({ field: 'appSecret' });
    await expect(startEmulator({ latencyMs: -1 })).rejects.toMatchObject({ field: 'latencyMs' });
    await expect(startEmulator({ initialToken: ' spaced ' })).rejects.toMatchObject({ field: 'initialToken' });
    await expect(startEmulator({ initialExpiresAt: 'tomorrow' })).rejects.toMatchObject({ field: 'initialExpiresAt' });
  });
});

describe('the command line', () => {
  it('sets the first token, its expiry and the injected 429s from flags', async () => {
    const out: string[] = [];
    const running = await runEmulatorCli(
      ['--port', '0', '--initial-token', 'T0-token', '--expires-at', '2099-01-01T00:00:00Z', '--rate-limited', '1'],
      { out: (line) => out.push(line), err: (line) => out.push(line) },
    );
    if (typeof running === 'number') throw new Error(`exit ${running}: ${out.join('\n')}`);
    try {
      const url = out[0]!.split(' on ')[1]!;
      expect(out).toContain('  initial token: T0-token');
      expect(out).toContain('  expires at:    2099-01-01T00:00:00.000Z');
      const refresh = () => send(`${url}/v1/token/refresh?expired_at=2098-01-01T00:00:00Z`, { headers: { Authorization: 'T0-token' } });
      expect(await refresh()).toMatchObject(specReply(429002));
      expect(await refresh()).toMatchObject({ status: 200, body: { code: 0 } });
    } finally {
      await running.close();
    }
  });

  it('refuses a bad flag with the usage (exit 2), and --app-key without --app-secret', async () => {
    for (const argv of [['--latency-ms', '-3'], ['--app-key', 'K'], ['stray']]) {
      const err: string[] = [];
      expect(await runEmulatorCli(argv, { out: () => undefined, err: (line) => err.push(line) })).toBe(2);
      expect(err.join('\n')).toMatch(/^error: [\s\S]*\n\nUsage: npm run emulator/);
    }
  });
});

describe('npm run emulator (the README command)', () => {
  it('prints the URL and an initial token that refreshes, logs each request, and stops on Ctrl-C', async () => {
    const child = spawnChild('npm', ['run', '-s', 'emulator', '--', '--port', '0', '--latency-ms', '20'], { cwd: new URL('..', import.meta.url) });
    try {
      const url = (await child.waitForLine(/listening on http:/)).split(' on ')[1]!;
      const token = (await child.waitForLine(/initial token:/)).split(': ')[1]!.trim();
      const client = createTokenClient({ accessToken: token, accountChannel: 'lb', baseUrl: url });
      const { token: successor } = await client.refreshAccessToken();
      const logged = await child.waitForLine(/GET \/v1\/token\/refresh → 200 code 0/);
      expect(logged).toContain(`…${successor.slice(-6)}`);
      child.kill('SIGINT'); // Ctrl-C: to the whole foreground group, npm and the emulator
      await child.waitForLine(/^emulator stopped$/);
      await child.exited;
      await expect(fetch(url)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    } finally {
      child.kill();
    }
  });

  it('names the port and the flag when the port is taken (exit 1)', async () => {
    const server = await emulator();
    const child = spawnChild('npm', ['run', '-s', 'emulator', '--', '--port', String(server.port)], { cwd: new URL('..', import.meta.url) });
    try {
      expect((await child.exited).code).toBe(1);
      expect(child.stderr()).toContain(`port ${server.port} on 127.0.0.1 is already in use; choose another with --port N`);
    } finally {
      child.kill();
    }
  });
});
