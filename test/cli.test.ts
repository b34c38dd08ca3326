// The `longbridge-token` CLI: main() in-process against the Prism mock and a loopback server
// that injects every documented error, plus end-to-end runs of the real entry (src/cli/bin.ts) as a
// child process. Every failing run's stderr is scanned for the token, the app secret, the new
// token and the signatures the server saw.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accountChannelValues } from '../generated/openapi.js';
import { freePort } from '../scripts/prism-mock.js';
import { CLI_OPTIONS, CN_BASE_URL, GLOBAL_BASE_URL, parseDuration, UsageError } from '../src/cli/args.js';
import { BaseUrlChoiceError, chooseBaseUrl } from '../src/cli/base-url.js';
import { EXIT, EXIT_CODE_TABLE } from '../src/cli/exit-codes.js';
import { HELP } from '../src/cli/help.js';
import { main, type Writer } from '../src/cli/main.js';
import { startConnectProxy } from './helpers/connect-proxy.js';
import { reply, startLoopbackServer, successEnvelope, type Handler, type LoopbackServer } from './helpers/loopback-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'cli-test-ACCESS-TOKEN-7f3a9c51';
const APP_KEY = 'cli-test-app-key-0042';
const APP_SECRET = 'cli-test-APP-SECRET-1b2c3d4e';
const NEW_TOKEN = successEnvelope.data.token;
const FUTURE = '2099-01-01T00:00:00Z';

let server: LoopbackServer & { setHandler(h: Handler): void };
let tmp: string;
beforeAll(async () => {
  server = await startLoopbackServer(reply(200, successEnvelope));
  tmp = mkdtempSync(join(tmpdir(), 'cli-test-'));
});
afterAll(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Requests the loopback server received during the run. */
  sent: number;
  ms: number;
}

/** Runs main() in-process with only the given environment. */
async function run(
  argv: string[],
  env: Record<string, string> = { LONGBRIDGE_ACCESS_TOKEN: TOKEN },
  extra: { stdin?: string | Readable; now?: number; signal?: AbortSignal; stdout?: Writer } = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const before = server.requests.length;
  const started = performance.now();
  const code = await main(argv, env, {
    stdout: extra.stdout ?? { write: (s: string, done: () => void) => ((stdout += s), done()) },
    stderr: { write: (s: string, done: () => void) => ((stderr += s), done()) },
    ...(extra.stdin !== undefined ? { stdin: typeof extra.stdin === 'string' ? Readable.from([Buffer.from(extra.stdin)]) : extra.stdin } : {}),
    ...(extra.now !== undefined ? { now: () => extra.now! } : {}),
    ...(extra.signal ? { signal: extra.signal } : {}),
  });
  return { code, stdout, stderr, sent: server.requests.length - before, ms: performance.now() - started };
}

const failures: Run[] = [];

/** A failed run: exit code, nothing on stdout, error and hint on stderr, no secret anywhere. */
function expectFailure(result: Run, code: number): void {
  failures.push(result);
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^error: .+$/m);
  expect(result.stderr).toMatch(/^hint: .+$/m);
  expectNoSecret(result.stderr);
}

function expectNoSecret(text: string): void {
  for (const secret of [TOKEN, APP_SECRET, NEW_TOKEN]) expect(text).not.toContain(secret);
  for (const request of server.requests) {
    const signature = request.headers['x-api-signature'];
    if (typeof signature === 'string') expect(text).not.toContain(signature.split('Signature=')[1]);
  }
}

const local = () => ['--base-url', server.url];
const envelope = (code: number, message: string) => ({ code, message, data: null });

describe('help and version', () => {
  it.each([['--help'], ['-h'], ['help'], ['help', 'refresh'], ['refresh', '--help']])('%s prints the help on stdout, exit 0', async (...argv) => {
    const result = await run(argv);
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: HELP, sent: 0 });
  });

  it('no arguments: the help on stderr, nothing on stdout, exit 2', async () => {
    const result = await run([]);
    expect(result).toMatchObject({ code: EXIT.usage, stdout: '', stderr: HELP });
  });

  it('documents every command, flag, environment variable, channel and exit code', () => {
    for (const command of ['refresh', 'refresh-access']) expect(HELP).toContain(`longbridge-token ${command}`);
    for (const [name, option] of Object.entries(CLI_OPTIONS)) {
      expect(HELP).toContain(`--${name}`);
      if ('short' in option) expect(HELP).toContain(`-${option.short}, --${name}`);
    }
    for (const name of ['LONGBRIDGE_ACCESS_TOKEN', 'LONGBRIDGE_APP_KEY', 'LONGBRIDGE_APP_SECRET', 'LONGPORT_ACCESS_TOKEN', 'LONGPORT_APP_KEY', 'LONGPORT_APP_SECRET']) {
      expect(HELP).toContain(name);
    }
    expect(HELP).toContain(`--channel ${accountChannelValues.join('|')}`);
    for (const [code, meaning] of EXIT_CODE_TABLE) expect(HELP).toContain(` ${String(code).padStart(3)}  ${meaning}`);
    expect(HELP).toContain(GLOBAL_BASE_URL);
    expect(HELP).toContain(CN_BASE_URL);
    expect(HELP).toMatch(/^Examples:$/m);
  });

  it('the exit code table covers every code once, in order', () => {
    expect(EXIT_CODE_TABLE.map(([code]) => code)).toEqual(Object.values(EXIT));
  });

  it('the README documents the same exit codes', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## CLI'));
    expect(section.startsWith('## CLI')).toBe(true);
    for (const [code, meaning] of EXIT_CODE_TABLE) expect(section).toContain(`| ${code} | ${meaning} |`);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect((await run(['-v'])).stdout).toBe(`${version}\n`);
  });
});

describe('against the Prism mock', () => {
  it('refresh prints the data object as one JSON document', async () => {
    const result = await run(['refresh', '--aaid', '20001', '--channel', 'lb', '--base-url', inject('prismUrl')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const data = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual(['account_info', 'expired_at', 'issued_at', 'token']);
    expect(data.token).toMatch(/\S/);
  });

  it('refresh-access, signed, prints the data object', async () => {
    const env = { LONGBRIDGE_ACCESS_TOKEN: TOKEN, LONGBRIDGE_APP_KEY: APP_KEY, LONGBRIDGE_APP_SECRET: APP_SECRET };
    const result = await run(['refresh-access', '--expires-in', '30d', '--base-url', inject('prismUrl')], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toHaveProperty('token');
  });
});

describe('what is sent', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  const lastBody = () => JSON.parse(server.requests.at(-1)!.body.toString()) as Record<string, string>;
  const lastQuery = () => new URL(server.requests.at(-1)!.url, server.url).searchParams.get('expired_at');

  it('refresh: POST with aaid, Account-Channel, expired_at now + 90 days by default; the data on stdout', async () => {
    server.setHandler(reply(200, successEnvelope));
    const result = await run(['refresh', '--aaid', '20001', '--channel', 'pspl_sg', ...local()], undefined, { now });
    expect(result).toMatchObject({ code: 0, stderr: '', sent: 1 });
    expect(JSON.parse(result.stdout)).toEqual(successEnvelope.data);
    expect(result.stdout.endsWith('}\n')).toBe(true);
    const request = server.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v1/openapi/token/refresh');
    expect(request.headers['account-channel']).toBe('pspl_sg');
    expect(request.headers.authorization).toBe(TOKEN);
    expect(lastBody()).toEqual({ aaid: '20001', expired_at: '2030-04-01T00:00:00.000Z' });
  });

  it.each([
    ['90d', '2030-04-01T00:00:00.000Z'],
    ['12h', '2030-01-01T12:00:00.000Z'],
    ['30m', '2030-01-01T00:30:00.000Z'],
    ['3600s', '2030-01-01T01:00:00.000Z'],
    ['1d12h', '2030-01-02T12:00:00.000Z'],
  ])('--expires-in %s → expired_at %s', async (duration, expected) => {
    const result = await run(['refresh', '--aaid', '1', '--channel', 'lb', '--expires-in', duration, ...local()], undefined, { now });
    expect(result.code).toBe(0);
    expect(lastBody().expired_at).toBe(expected);
  });

  it('--expired-at is sent as ISO 8601 UTC', async () => {
    await run(['refresh', '--aaid', '1', '--channel', 'lb', '--expired-at', '2031-06-01T08:00:00+08:00', ...local()]);
    expect(lastBody().expired_at).toBe('2031-06-01T00:00:00.000Z');
  });

  it('refresh-access: GET with expired_at, no body, no Account-Channel; default now + 90 days', async () => {
    const before = Date.now();
    const result = await run(['refresh-access', ...local()]);
    expect(result).toMatchObject({ code: 0, stderr: '', sent: 1 });
    const request = server.requests.at(-1)!;
    expect(request.method).toBe('GET');
    expect(request.body.length).toBe(0);
    expect(request.headers['account-channel']).toBeUndefined();
    const sent = Date.parse(lastQuery()!);
    expect(sent - before).toBeGreaterThanOrEqual(90 * 86_400_000);
    expect(sent - Date.now()).toBeLessThanOrEqual(90 * 86_400_000);
  });

  it('refresh-access --expires-in 12h', async () => {
    await run(['refresh-access', '--expires-in', '12h', ...local()], undefined, { now });
    expect(lastQuery()).toBe('2030-01-01T12:00:00.000Z');
  });

  it('unsigned without app key and secret', async () => {
    await run(['refresh-access', ...local()]);
    expect(server.requests.at(-1)!.headers['x-api-signature']).toBeUndefined();
  });

  it('signed with LONGBRIDGE_APP_KEY and LONGBRIDGE_APP_SECRET', async () => {
    const result = await run(['refresh-access', ...local()], { LONGBRIDGE_ACCESS_TOKEN: TOKEN, LONGBRIDGE_APP_KEY: APP_KEY, LONGBRIDGE_APP_SECRET: APP_SECRET });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const headers = server.requests.at(-1)!.headers;
    expect(headers['x-api-key']).toBe(APP_KEY);
    expect(headers['x-api-signature']).toMatch(/^HMAC-SHA256 SignedHeaders=authorization;x-api-key;x-timestamp, Signature=[0-9a-f]{64}$/);
  });

  it("falls back to the official SDK's LONGPORT_* names", async () => {
    const result = await run(['refresh-access', ...local()], { LONGPORT_ACCESS_TOKEN: 'longport-token-123', LONGPORT_APP_KEY: 'lp-key', LONGPORT_APP_SECRET: 'lp-secret-xyz' });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(server.requests.at(-1)!.headers).toMatchObject({ authorization: 'longport-token-123', 'x-api-key': 'lp-key' });
  });

  it('LONGBRIDGE_* wins over LONGPORT_*; an empty variable counts as unset', async () => {
    const env = {
      LONGBRIDGE_ACCESS_TOKEN: TOKEN,
      LONGPORT_ACCESS_TOKEN: 'other-token',
      LONGBRIDGE_APP_KEY: '',
      LONGPORT_APP_KEY: 'lp-key',
      LONGBRIDGE_APP_SECRET: APP_SECRET,
    };
    const result = await run(['refresh-access', ...local()], env);
    expect(result.code).toBe(0);
    expect(server.requests.at(-1)!.headers).toMatchObject({ authorization: TOKEN, 'x-api-key': 'lp-key' });
    expect(result.stderr).toMatch(/^warning: signing with LONGPORT_APP_KEY and LONGBRIDGE_APP_SECRET/m);
    expectNoSecret(result.stderr);
  });
});

describe('credentials', () => {
  it('no token: an error naming both variables, exit 2, nothing sent', async () => {
    const result = await run(['refresh-access', ...local()], { LONGBRIDGE_ACCESS_TOKEN: '' });
    expectFailure(result, EXIT.usage);
    expect(result.sent).toBe(0);
    expect(result.stderr).toContain('LONGBRIDGE_ACCESS_TOKEN');
    expect(result.stderr).toContain('LONGPORT_ACCESS_TOKEN');
  });

  it.each([
    [{ LONGBRIDGE_APP_KEY: APP_KEY }, 'LONGBRIDGE_APP_KEY is set but LONGBRIDGE_APP_SECRET (or LONGPORT_APP_SECRET) is not'],
    [{ LONGPORT_APP_SECRET: APP_SECRET }, 'LONGPORT_APP_SECRET is set but LONGBRIDGE_APP_KEY (or LONGPORT_APP_KEY) is not'],
  ])('only one of app key and secret: exit 2 naming the missing variable', async (keys, message) => {
    const result = await run(['refresh-access', ...local()], { LONGBRIDGE_ACCESS_TOKEN: TOKEN, ...keys });
    expectFailure(result, EXIT.usage);
    expect(result.sent).toBe(0);
    expect(result.stderr).toContain(message);
  });

  it('--access-token TOKEN works but warns that it lands in shell history', async () => {
    const result = await run(['refresh-access', '--access-token', TOKEN, ...local()], {});
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^warning: --access-token puts the token in your shell history.*LONGBRIDGE_ACCESS_TOKEN/m);
    expect(result.stderr).toContain('--access-token-file');
    expectNoSecret(result.stderr);
    expect(server.requests.at(-1)!.headers.authorization).toBe(TOKEN);
  });

  it('--access-token - reads stdin (surrounding white space ignored), over the environment, silently', async () => {
    const result = await run(['refresh-access', '--access-token', '-', ...local()], { LONGBRIDGE_ACCESS_TOKEN: 'env-token' }, { stdin: `${TOKEN}\n` });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(server.requests.at(-1)!.headers.authorization).toBe(TOKEN);
  });

  it('--access-token-file reads a file; warns when others can read it', async () => {
    const file = join(tmp, 'token');
    writeFileSync(file, `${TOKEN}\r\n`);
    chmodSync(file, 0o600);
    let result = await run(['refresh-access', '--access-token-file', file, ...local()], {});
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(server.requests.at(-1)!.headers.authorization).toBe(TOKEN);
    chmodSync(file, 0o644);
    result = await run(['refresh-access', '--access-token-file', file, ...local()], {});
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`warning: ${file} is readable by other users (mode 0644): chmod 600 ${file}\n`);
  });

  it.each([
    ['a missing file', () => ['--access-token-file', join(tmp, 'nope')], /cannot read the file \(ENOENT\); the path is not shown/],
    ['a directory', () => ['--access-token-file', tmp], /not a regular file/],
    ['an empty file', () => (writeFileSync(join(tmp, 'empty'), '\n'), ['--access-token-file', join(tmp, 'empty')]), /is empty/],
    ['both token flags', () => ['--access-token', '-', '--access-token-file', 'x'], /exclude each other/],
  ])('%s: exit 2, nothing sent', async (_name, flags, message) => {
    const result = await run(['refresh-access', ...flags(), ...local()], {}, { stdin: '' });
    expectFailure(result, EXIT.usage);
    expect(result.sent).toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it('a "Bearer " token or one with a line break is refused, naming its source', async () => {
    let result = await run(['refresh-access', ...local()], { LONGBRIDGE_ACCESS_TOKEN: `Bearer ${TOKEN}` });
    expectFailure(result, EXIT.usage);
    expect(result.stderr).toContain('error: LONGBRIDGE_ACCESS_TOKEN: must be the raw token: remove the "Bearer " prefix');
    result = await run(['refresh-access', '--access-token', '-', ...local()], {}, { stdin: `${TOKEN}\n${TOKEN}` });
    expectFailure(result, EXIT.usage);
    expect(result.stderr).toContain('error: --access-token - (stdin): must not contain line breaks');
    expect(result.sent).toBe(0);
  });
});

describe('usage errors: exit 2, nothing sent, nothing on stdout', () => {
  it.each([
    [['refresh', '--channel', 'lb'], 'refresh needs --aaid'],
    [['refresh', '--aaid', '1'], 'refresh needs --channel lb|pspl_sg'],
    [['refresh', '--aaid', '1', '--channel', 'hk'], 'error: --channel: must be one of "lb", "pspl_sg", got "hk"'],
    [['refresh', '--aaid', ' 1', '--channel', 'lb'], 'error: --aaid: must not start or end with white space'],
    [['refresh-access', '--channel', 'lb'], 'refresh-access takes no --channel'],
    [['refresh-access', '--aaid', '1'], 'refresh-access takes no --aaid'],
    [['refresh-access', '--expires-in', '90d', '--expired-at', FUTURE], '--expires-in and --expired-at exclude each other'],
    [['refresh-access', '--expires-in', '90'], '--expires-in must be a number with a unit d, h, m or s'],
    [['refresh-access', '--expires-in', '0h'], '--expires-in must be longer than zero'],
    [['refresh-access', '--expires-in', '-5d'], "Option '--expires-in' argument is ambiguous"],
    [['refresh-access', '--expires-in', '99999d'], '--expires-in is too long'],
    [['refresh-access', '--expired-at', '2020-01-01T00:00:00Z'], 'error: --expired-at: must be in the future'],
    [['refresh-access', '--expired-at', '2099-01-01'], 'error: --expired-at: must be an ISO 8601 date-time with a time zone'],
    [['refresh-access', '--timeout-ms', '2s'], '--timeout-ms must be a whole number of milliseconds'],
    [['refresh-access', '--timeout-ms', '0'], '--timeout-ms must be a whole number of milliseconds'],
    [['refresh-access', '--region', 'hk'], '--region must be "global"'],
    [['refresh-access', '--cn', '--region', 'global'], '--region and --cn exclude each other'],
    [['refresh-access', '--aaaid', '1'], 'unknown option "--aaaid"'],
    [['refresh-access', '--timeout-ms', '100', '--timeout-ms', '200'], '--timeout-ms is given more than once'],
    [['refresh-access', 'extra'], 'unexpected argument "extra"'],
    [['refresh-access', TOKEN.repeat(3)], 'unexpected argument (an argument of 90 characters, not shown'],
    [['refreshh'], 'unknown command "refreshh"'],
    [['--timeout-ms', '100'], 'no command'],
  ])('%j → %s', async (argv, message) => {
    const host = argv.includes('--region') || argv.includes('--cn') ? [] : local();
    const result = await run([...argv, ...host]);
    expectFailure(result, EXIT.usage);
    expect(result.sent).toBe(0);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('hint: ');
  });

  it('plain http to a non-loopback host is refused', async () => {
    const result = await run(['refresh-access', '--base-url', 'http://openapi.longbridge.com']);
    expectFailure(result, EXIT.usage);
    expect(result.stderr).toContain('error: --base-url: must use https');
  });
});

describe('API errors: an exit code per kind, the hint, no secret', () => {
  const signedEnv = { LONGBRIDGE_ACCESS_TOKEN: TOKEN, LONGBRIDGE_APP_KEY: APP_KEY, LONGBRIDGE_APP_SECRET: APP_SECRET };

  it.each([
    [401, 401003, 'token expired', EXIT['token-expired'], 'create a new one in the Longbridge developer console'],
    [401, 401004, 'token invalid', EXIT['token-invalid'], 'use the newest token you hold'],
    [401, 401102, 'token verification failed', EXIT['token-invalid'], 'create a new token for the current key'],
    [403, 403201, 'signature invalid', EXIT['signature-invalid'], 'Check the app key and secret'],
    [403, 403202, 'duplicate request', EXIT['duplicate-request'], 'fresh timestamp'],
    [403, 403203, 'apikey illegal', EXIT['api-key-illegal'], 'check it in the developer console'],
    [403, 403205, 'ip is not allowed', EXIT['ip-not-allowed'], 'allow-list'],
    [500, 500000, 'internal error', EXIT['server-error'], 'do not blindly re-send'],
    [400, 400000, 'bad request', EXIT['unknown-api-error'], 'An error code this package does not know'],
    [502, 777, 'bad gateway', EXIT['server-error'], 'Server fault'],
  ])('HTTP %i code %i → exit %#', async (status, code, message, exit, hint) => {
    server.setHandler(reply(status, envelope(code, message)));
    const result = await run(['refresh', '--aaid', '20001', '--channel', 'lb', ...local()], signedEnv);
    expectFailure(result, exit);
    expect(result.stderr).toContain(`error: ${message} (code ${code}, HTTP ${status})`);
    expect(result.stderr).toMatch(new RegExp(`^hint: .*${hint}`, 'm'));
    expect(result.stderr.includes('warning: the request may have reached the server')).toBe(status >= 500);
  });

  it('403201 on an unsigned request adds the hint to set the app key and secret', async () => {
    server.setHandler(reply(403, envelope(403201, 'signature invalid')));
    const result = await run(['refresh-access', ...local()]);
    expectFailure(result, EXIT['signature-invalid']);
    expect(result.stderr).toMatch(/^hint: this request was not signed: .*LONGBRIDGE_APP_KEY and LONGBRIDGE_APP_SECRET/m);
  });

  it('429 with Retry-After: 3600 gives up at once: exit 9, one request, the wait printed', async () => {
    server.setHandler(reply(429, envelope(429002, 'api request is limited'), { 'Retry-After': '3600' }));
    const result = await run(['refresh-access', ...local()], signedEnv);
    expectFailure(result, EXIT['rate-limited']);
    expect(result.sent).toBe(1); // gave up at once: no re-send
    expect(result.stderr).toContain('retry-after: 3600 s');
  });

  it("the server's message is printed on one line, control characters escaped, secrets redacted", async () => {
    server.setHandler(reply(401, envelope(401004, `bad token ${TOKEN} \u001b[31mred\nhint: forged line`)));
    const result = await run(['refresh-access', ...local()]);
    expectFailure(result, EXIT['token-invalid']);
    expect(result.stderr).toContain('error: bad token <redacted> \\u001b[31mred\\u000ahint: forged line (code 401004, HTTP 401)');
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr.match(/^hint: /gm)).toHaveLength(1);
  });
});

describe('transport failures', () => {
  it('HTML 500 → exit 12 and the may-have-refreshed warning', async () => {
    server.setHandler((_req, res) => {
      res.writeHead(500, { 'Content-Type': 'text/html' });
      res.end('<html><h1>500 Internal Server Error</h1></html>');
    });
    const result = await run(['refresh', '--aaid', '1', '--channel', 'lb', ...local()]);
    expectFailure(result, EXIT['invalid-response']);
    expect(result.stderr).toContain('error: invalid response (HTTP 500): the body is not JSON');
    expect(result.stderr).toMatch(/^warning: the request may have reached the server.*Do not re-run blindly/m);
  });

  it('HTML 404 → exit 12 and a hint to check --base-url, no warning', async () => {
    server.setHandler((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html>Not Found</html>');
    });
    const result = await run(['refresh-access', ...local()]);
    expectFailure(result, EXIT['invalid-response']);
    expect(result.stderr).toMatch(/^hint: HTTP 404 .*check --base-url/m);
    expect(result.stderr).not.toContain('warning:');
  });

  it('connection refused → exit 13, safe to run again, no warning', async () => {
    const port = await freePort();
    const result = await run(['refresh-access', '--base-url', `http://127.0.0.1:${port}`]);
    expectFailure(result, EXIT.network);
    expect(result.stderr).toContain('ECONNREFUSED');
    expect(result.stderr).toMatch(/^hint: nothing reached the server.*safe to run again/m);
    expect(result.stderr).not.toContain('warning:');
  });

  it('connection reset mid-request → exit 13 and the warning', async () => {
    server.setHandler((_req, _res, socket) => void socket.destroy());
    const result = await run(['refresh', '--aaid', '1', '--channel', 'lb', ...local()]);
    expectFailure(result, EXIT.network);
    expect(result.stderr).toMatch(/^error: .*the request may have reached the server: if it was a refresh, the old token may already be invalid$/m);
    expect(result.stderr).toMatch(/^warning: Do not re-run blindly/m);
    expect(result.stderr.match(/may have reached the server/g)).toHaveLength(1);
  });

  it('a server that never answers vs --timeout-ms 200 → exit 14 and the warning', async () => {
    server.setHandler(() => {}); // never answers
    const result = await run(['refresh-access', '--timeout-ms', '200', ...local()]);
    expectFailure(result, EXIT.timeout);
    expect(result.stderr).toMatch(/^error: no complete reply within 200 ms; the request may have reached the server/m);
    expect(result.stderr).toMatch(/^warning: Do not re-run blindly/m);
    expect(result.ms).toBeLessThan(10_000); // it ends: no hang (the timeout's accuracy is not asserted)
  });

  it('interrupted while waiting for the reply → exit 130 and the warning', async () => {
    const interrupt = new AbortController();
    server.setHandler(() => interrupt.abort()); // Ctrl-C once the request has arrived; never answers
    const result = await run(['refresh-access', ...local()], undefined, { signal: interrupt.signal });
    expectFailure(result, EXIT.interrupted);
    expect(result.sent).toBe(1);
    expect(result.stderr).toMatch(/^error: interrupted while waiting for the reply$/m);
    expect(result.stderr).toMatch(/^warning: the request may have reached the server/m);
  });

  it('interrupted while reading the token from stdin → exit 130, nothing sent, no warning', async () => {
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(), 100);
    const stdin = new PassThrough(); // never ends
    const result = await run(['refresh-access', '--access-token', '-', ...local()], {}, { stdin, signal: interrupt.signal });
    expectFailure(result, EXIT.interrupted);
    expect(result.sent).toBe(0);
    expect(result.stderr).toBe('error: interrupted\nhint: nothing was sent\n');
  });

  it('no failing run above printed a secret, and every one wrote nothing to stdout', () => {
    expect(failures.length).toBeGreaterThan(40);
    for (const failure of failures) {
      expect(failure.stdout).toBe('');
      expectNoSecret(failure.stderr);
    }
  });
});

describe('what reaches stderr: never a secret, never a misplaced token', () => {
  const MISPLACED = 'Tk9_misplaced.AbC-7'; // token-like, under 40 characters, not in the environment

  it.each([
    ['as the path of --access-token-file', ['refresh-access', '--access-token-file', MISPLACED]],
    ['as an unknown flag', ['refresh-access', `--${MISPLACED}`]],
    ['as an unknown flag with a value', ['refresh-access', `--token=${MISPLACED}`]],
    ['as an extra argument', ['refresh-access', MISPLACED]],
    ['as the command', [MISPLACED]],
    ['as the value of --region', ['refresh-access', '--region', MISPLACED]],
  ])('a token given %s is not echoed: exit 2, nothing sent', async (_where, argv) => {
    const result = await run([...argv, ...(argv.includes('--region') ? [] : local())], {});
    expectFailure(result, EXIT.usage);
    expect(result.sent).toBe(0);
    expect(result.stderr).not.toContain(MISPLACED);
    expect(result.stderr).not.toContain('Tk9_');
  });

  it('a server echoing the request signature: the signature is scrubbed from stderr', async () => {
    server.setHandler((request, response) => {
      response.writeHead(403, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(envelope(403201, `bad signature: ${String(request.headers['x-api-signature'])} for ${String(request.headers.authorization)}`)));
    });
    const env = { LONGBRIDGE_ACCESS_TOKEN: TOKEN, LONGBRIDGE_APP_KEY: APP_KEY, LONGBRIDGE_APP_SECRET: APP_SECRET };
    const result = await run(['refresh-access', ...local()], env);
    expectFailure(result, EXIT['signature-invalid']);
    const sentSignature = String(server.requests.at(-1)!.headers['x-api-signature']);
    expect(sentSignature).toMatch(/Signature=[0-9a-f]{64}$/);
    expect(result.stderr).not.toContain(sentSignature.split('Signature=')[1]);
    expect(result.stderr).toMatch(/^error: .*<redacted>/m);
  });

  it('a 3-character token echoed by the server: the line is withheld, the code and hint kept', async () => {
    server.setHandler(reply(401, envelope(401004, 'token q7z is not valid')));
    const result = await run(['refresh-access', ...local()], { LONGBRIDGE_ACCESS_TOKEN: 'q7z' });
    expect(result.code).toBe(EXIT['token-invalid']);
    expect(result.stderr).not.toContain('q7z');
    expect(result.stderr).toMatch(/^hint: .*use the newest token you hold/m);
  });
});

describe('stdout that cannot take the new token', () => {
  it('a write error after a successful refresh: exit 15, stderr says the refresh went through; the token is never on stderr', async () => {
    server.setHandler(reply(200, successEnvelope));
    const failing: Writer = { write: (_s, done) => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) };
    const result = await run(['refresh-access', ...local()], undefined, { stdout: failing });
    expect(result.code).toBe(EXIT['output-failed']);
    expect(result.sent).toBe(1);
    expect(result.stderr).toMatch(/^error: the refresh went through, but the new token could not be written to stdout \(EPIPE: /);
    expect(result.stderr).toMatch(/^hint: the old token is no longer valid/m);
    expectNoSecret(result.stderr);
  });

  it('a write that throws: the same', async () => {
    const throwing: Writer = {
      write: () => {
        throw Object.assign(new Error('write ENOSPC'), { code: 'ENOSPC' });
      },
    };
    const result = await run(['refresh-access', ...local()], undefined, { stdout: throwing });
    expect(result.code).toBe(EXIT['output-failed']);
    expect(result.stderr).toContain('(ENOSPC: no space left on the device stdout goes to)');
  });
});

describe('HTTPS_PROXY, HTTP_PROXY and NO_PROXY, through a loopback CONNECT proxy', () => {
  it('HTTP_PROXY: the request goes through the proxy', async () => {
    const proxy = await startConnectProxy();
    try {
      server.setHandler(reply(200, successEnvelope));
      const result = await run(['refresh-access', ...local()], { LONGBRIDGE_ACCESS_TOKEN: TOKEN, HTTP_PROXY: proxy.url });
      expect(result).toMatchObject({ code: 0, stderr: '', sent: 1 });
      expect(proxy.connects).toEqual([new URL(server.url).host]);
    } finally {
      await proxy.close();
    }
  });

  it('https_proxy (lowercase): the default host is reached through the proxy, never directly', async () => {
    const proxy = await startConnectProxy(); // refuses every target off loopback with 502
    try {
      const result = await run(['refresh-access', '--timeout-ms', '10000'], { LONGBRIDGE_ACCESS_TOKEN: TOKEN, https_proxy: proxy.url });
      expect(proxy.connects).toEqual(['openapi.longbridge.com:443']);
      expectFailure(result, EXIT.network);
    } finally {
      await proxy.close();
    }
  });

  it('NO_PROXY: a host it names is reached directly', async () => {
    const proxy = await startConnectProxy();
    try {
      server.setHandler(reply(200, successEnvelope));
      const result = await run(['refresh-access', ...local()], { LONGBRIDGE_ACCESS_TOKEN: TOKEN, HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' });
      expect(result).toMatchObject({ code: 0, stderr: '', sent: 1 });
      expect(proxy.connects).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

describe('the host: --base-url, else LONGBRIDGE_HTTP_URL, else the region (--region/--cn, else LONGBRIDGE_REGION), else global', () => {
  const LOCAL = 'http://127.0.0.1:4010';
  it.each([
    [{}, {}, GLOBAL_BASE_URL, 'default'],
    [{ cn: true }, {}, CN_BASE_URL, '--cn'],
    [{ region: 'cn' }, {}, CN_BASE_URL, '--region'],
    [{ region: 'global' }, { LONGBRIDGE_REGION: 'cn' }, GLOBAL_BASE_URL, '--region'],
    [{}, { LONGBRIDGE_REGION: 'cn' }, CN_BASE_URL, 'LONGBRIDGE_REGION'],
    [{}, { LONGPORT_REGION: 'cn' }, CN_BASE_URL, 'LONGPORT_REGION'],
    [{}, { LONGBRIDGE_REGION: '', LONGPORT_REGION: 'cn' }, CN_BASE_URL, 'LONGPORT_REGION'],
    [{}, { LONGBRIDGE_HTTP_URL: LOCAL, LONGBRIDGE_REGION: 'cn' }, LOCAL, 'LONGBRIDGE_HTTP_URL'],
    [{}, { LONGPORT_HTTP_URL: LOCAL }, LOCAL, 'LONGPORT_HTTP_URL'],
    [{ baseUrl: LOCAL }, { LONGBRIDGE_HTTP_URL: CN_BASE_URL }, LOCAL, '--base-url'],
  ])('flags %j, env %j → %s (from %s)', (flags, env, baseUrl, source) => {
    expect(chooseBaseUrl(flags, env)).toEqual({ baseUrl, source });
  });

  it('a region flag loses to LONGBRIDGE_HTTP_URL, and says so', () => {
    expect(chooseBaseUrl({ cn: true }, { LONGBRIDGE_HTTP_URL: 'http://127.0.0.1:4010' })).toEqual({
      baseUrl: 'http://127.0.0.1:4010',
      source: 'LONGBRIDGE_HTTP_URL',
      warning: '--cn is ignored: LONGBRIDGE_HTTP_URL is set (http://127.0.0.1:4010) and comes first; unset it to choose a region',
    });
  });

  it('refuses two host flags and an unknown region, naming where it came from', () => {
    expect(() => chooseBaseUrl({ baseUrl: 'x', cn: true }, {})).toThrow(new BaseUrlChoiceError('--base-url and --cn exclude each other: give one'));
    expect(() => chooseBaseUrl({}, { LONGBRIDGE_REGION: 'hk' })).toThrow(/^LONGBRIDGE_REGION must be "global" \(.*\) or "cn" \(.*\), got "hk"$/);
  });

  it('LONGBRIDGE_HTTP_URL is used without a flag; a bad one is refused naming the variable', async () => {
    server.setHandler(reply(200, successEnvelope));
    let result = await run(['refresh-access'], { LONGBRIDGE_ACCESS_TOKEN: TOKEN, LONGBRIDGE_HTTP_URL: server.url });
    expect(result).toMatchObject({ code: 0, stderr: '', sent: 1 });
    result = await run(['refresh-access', '--cn'], { LONGBRIDGE_ACCESS_TOKEN: TOKEN, LONGBRIDGE_HTTP_URL: server.url });
    expect(result).toMatchObject({ code: 0, sent: 1 });
    expect(result.stderr).toBe(`warning: --cn is ignored: LONGBRIDGE_HTTP_URL is set (${server.url}) and comes first; unset it to choose a region\n`);
    result = await run(['refresh-access'], { LONGBRIDGE_ACCESS_TOKEN: TOKEN, LONGBRIDGE_HTTP_URL: 'http://openapi.longbridge.com' });
    expectFailure(result, EXIT.usage);
    expect(result.stderr).toContain('error: LONGBRIDGE_HTTP_URL: must use https');
    result = await run(['refresh-access'], { LONGBRIDGE_ACCESS_TOKEN: TOKEN, LONGBRIDGE_REGION: 'mars' });
    expectFailure(result, EXIT.usage);
    expect(result.stderr).toContain('error: LONGBRIDGE_REGION must be "global"');
  });

});

describe('parseDuration', () => {
  it('sums d h m s', () => {
    expect(parseDuration('90d', 'x')).toBe(90 * 86_400_000);
    expect(parseDuration('1h30m15s', 'x')).toBe(5_415_000);
    for (const bad of ['', 'd', '1.5h', '1w', '1H', '90 d', '1d-1h']) expect(() => parseDuration(bad, 'x')).toThrow(UsageError);
  });
});

describe('the real entry, spawned (src/cli/bin.ts through tsx)', () => {
  /** `stdout`: 'pipe' (read here), 'closed' (a pipe whose reading end is closed at once) or a file descriptor. */
  function spawnCli(
    argv: string[],
    env: Record<string, string>,
    stdin = '',
    during?: (child: ChildProcess) => Promise<void>,
    stdout: 'pipe' | 'closed' | number = 'pipe',
  ): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...argv], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['pipe', typeof stdout === 'number' ? stdout : 'pipe', 'pipe'],
      });
      let out = '';
      let stderr = '';
      if (stdout === 'closed') child.stdout!.destroy(); // before the child can write: its write gets EPIPE
      else child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout: out, stderr, ms: performance.now() - started }));
      child.stdin!.end(stdin);
      during?.(child).catch(reject);
    });
  }

  it.each([
    ['EPIPE', 'a pipe whose reader has gone', () => 'closed' as const],
    ['ENOSPC', 'a full disk (/dev/full)', () => openSync('/dev/full', 'w')],
  ])('%s on stdout after a refresh (%s): exit 15, stderr says the refresh went through, no stack trace, no token', async (code, _what, stdout) => {
    server.setHandler(reply(200, successEnvelope));
    const target = stdout();
    try {
      const before = server.requests.length;
      const result = await spawnCli(['refresh-access', '--base-url', server.url], { LONGBRIDGE_ACCESS_TOKEN: TOKEN }, '', undefined, target);
      expect(server.requests.length - before).toBe(1);
      expect(result.stderr).toBe(
        `error: the refresh went through, but the new token could not be written to stdout (${code}: ${code === 'EPIPE' ? 'whatever read stdout had closed it' : 'no space left on the device stdout goes to'})\n` +
          'hint: the old token is no longer valid and the new one was not written anywhere: create a new token in the Longbridge developer console, ' +
          'and make sure stdout goes somewhere that takes it (a pipe that reads to the end, a disk with free space). Do not re-run with the old token.\n',
      );
      expect(result.code).toBe(EXIT['output-failed']);
      expectNoSecret(result.stderr);
    } finally {
      if (typeof target === 'number') closeSync(target);
    }
  });

  it('has no shebang of its own (the build adds it) and is not exported by the package entry', () => {
    expect(readFileSync(join(ROOT, 'src/cli/bin.ts'), 'utf8').startsWith('#!')).toBe(false);
    expect(readFileSync(join(ROOT, 'src/index.ts'), 'utf8')).not.toMatch(/from '\.\/cli[./]/);
  });

  it('refresh against Prism: stdout is one JSON document, exit 0', async () => {
    const result = await spawnCli(['refresh', '--aaid', '20001', '--channel', 'lb', '--base-url', inject('prismUrl')], { LONGBRIDGE_ACCESS_TOKEN: TOKEN });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveProperty('account_info.account_channel');
  });

  it('refresh-access against Prism, signed, token from stdin: exit 0', async () => {
    const env = { LONGPORT_APP_KEY: APP_KEY, LONGPORT_APP_SECRET: APP_SECRET };
    const result = await spawnCli(['refresh-access', '--access-token', '-', '--base-url', inject('prismUrl')], env, `${TOKEN}\n`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveProperty('token');
  });

  it('401003 from the server: exit 3, error and hint on stderr, nothing on stdout', async () => {
    server.setHandler(reply(401, envelope(401003, 'token expired')));
    const result = await spawnCli(['refresh-access', '--base-url', server.url], { LONGBRIDGE_ACCESS_TOKEN: TOKEN, LONGBRIDGE_APP_KEY: APP_KEY, LONGBRIDGE_APP_SECRET: APP_SECRET });
    expect(result.code).toBe(EXIT['token-expired']);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: token expired \(code 401003, HTTP 401\)\nhint: The access token has expired/);
    expectNoSecret(result.stderr);
  });

  it('a hang vs --timeout-ms 200: exit 14, and the process ends promptly', async () => {
    server.setHandler(() => {});
    const result = await spawnCli(['refresh', '--aaid', '1', '--channel', 'lb', '--timeout-ms', '200', '--base-url', server.url], { LONGBRIDGE_ACCESS_TOKEN: TOKEN });
    expect(result.code).toBe(EXIT.timeout);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('the request may have reached the server');
    expect(result.stderr).toContain('warning: Do not re-run blindly');
    // The server never answers: that the process ended at all (within the test's timeout) shows it
    // does not wait for the reply or for the open connection. How fast is not asserted (load).
  }, 60_000);

  it('Ctrl-C while waiting for the reply: exit 130 and the warning, without waiting for a reply', async () => {
    const arrived = new Promise<void>((resolve) => server.setHandler(() => resolve())); // never answers
    const result = await spawnCli(['refresh-access', '--base-url', server.url], { LONGBRIDGE_ACCESS_TOKEN: TOKEN }, '', async (child) => {
      await arrived; // the request is out
      child.kill('SIGINT');
    });
    expect(result.code).toBe(EXIT.interrupted);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('warning: the request may have reached the server');
  }, 60_000);

  it('no token: exit 2', async () => {
    const result = await spawnCli(['refresh-access'], {});
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain('no access token: set LONGBRIDGE_ACCESS_TOKEN');
  });
});

describe('the CLI’s hosts are the spec’s servers', () => {
  it('global and cn', async () => {
    const { loadSpec } = await import('../src/contract/spec-validator.js');
    const { REGIONS } = await import('../src/cli/args.js');
    const urls = (loadSpec().servers as Array<{ url: string }>).map((s) => s.url);
    expect(urls.slice(0, 2)).toEqual([REGIONS.global, REGIONS.cn]);
  });
});
