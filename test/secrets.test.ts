// A hostile server that echoes what it was sent (Authorization, X-Api-Signature, the app
// secret) in its message: nothing the client knows as a secret reaches an error, by any view.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, clientRefresh, createTokenClient, TokenManager, TokenUnavailableError } from '../src/index.js';
import { MIN_SCRUBBED_LENGTH } from '../src/redact.js';
import { startLoopbackServer, type Handler, type LoopbackServer, type RecordedRequest } from './helpers/loopback-server.js';
import { rejectionOf, views } from './helpers/views.js';

const TOKEN = 'TOKEN-echoed-5f0c2e91';
const APP_KEY = 'APP-KEY-0a1b2c3d';
const APP_SECRET = 'APP-SECRET-77aa01ff';

let server: LoopbackServer & { setHandler(h: Handler): void };
beforeAll(async () => {
  server = await startLoopbackServer(echo(401, 401004));
});
afterAll(() => server.close());

/** A reply whose message quotes the request's credentials, as a careless gateway might. */
function echo(status: number, code: number, extra = ''): Handler {
  return (request, response) => {
    const message = `ECHO auth=${request.headers.authorization} sig=[${request.headers['x-api-signature']}] ${extra}`;
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ code, message, data: null }));
  };
}

const signatureHex = (request: RecordedRequest) => String(request.headers['x-api-signature']).split('Signature=')[1]!;

function signedClient(accessToken = TOKEN) {
  return createTokenClient({ accessToken, accountChannel: 'lb', appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: server.url, retry: { baseDelayMs: 1, maxDelayMs: 1 } });
}

function expectClean(error: unknown, secrets: string[]) {
  const shown = `${views(error)}\n${(error as Error).stack}\n${(error as Error).message}`;
  for (const secret of secrets) expect(shown).not.toContain(secret);
}

describe('a server that echoes the credentials in its message', () => {
  it('gets them replaced by <redacted>, the rest of its message kept, code, kind and hint intact', async () => {
    server.setHandler(echo(401, 401004, `and the secret ${APP_SECRET}`));
    const error = await rejectionOf(signedClient().refreshAccessToken());
    const request = server.requests.at(-1)!;
    expect(request.headers.authorization).toBe(TOKEN); // the server did see them
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 401004, kind: 'token-invalid', hint: expect.stringMatching(/\w/), status: 401 });
    expect((error as ApiError).message).toContain('ECHO auth=<redacted>');
    expectClean(error, [TOKEN, APP_SECRET, signatureHex(request), String(request.headers['x-api-signature'])]);
  });

  it('every signature sent during the call is scrubbed, a re-send’s included', async () => {
    const seen: string[] = [];
    server.setHandler((request, response) => {
      seen.push(String(request.headers['x-api-signature']));
      if (seen.length === 1) {
        response.writeHead(429, { 'Content-Type': 'application/json' });
        response.end('{"code":429002,"message":"limited","data":null}');
      } else echo(403, 403201, `first=${seen[0]}`)(request, response, undefined as never);
    });
    const error = await rejectionOf(signedClient().refreshAccessToken());
    expect(seen).toHaveLength(2);
    expect(error).toMatchObject({ name: 'ApiError', code: 403201 });
    expectClean(error, [TOKEN, ...seen.map((value) => value.split('Signature=')[1]!)]);
  });

  it.each(['0', 'abc', 'T0k'])(`withholds the whole message when it holds a token shorter than ${MIN_SCRUBBED_LENGTH} characters (%s)`, async (token) => {
    server.setHandler(echo(401, 401003));
    const error = await rejectionOf(signedClient(token).refreshAccessToken());
    expect(error).toMatchObject({ name: 'ApiError', code: 401003, kind: 'token-expired', status: 401, hint: expect.stringMatching(/\w/) });
    const { message } = error as ApiError;
    expect(message).toContain('withheld');
    expect(message).toContain('401003');
    expect(views(error)).not.toContain('ECHO');
    expect(views(error)).not.toContain(signatureHex(server.requests.at(-1)!));
  });

  it('keeps a message that holds no secret as the server wrote it', async () => {
    server.setHandler((_request, response) => {
      response.writeHead(401, { 'Content-Type': 'application/json' });
      response.end('{"code":401003,"message":"token expired","data":null}');
    });
    const error = await rejectionOf(signedClient('0').refreshAccessToken());
    expect((error as ApiError).message).toBe('token expired (code 401003, HTTP 401)');
  });

  it('nor do they reach TokenUnavailableError.cause or onError through TokenManager', async () => {
    server.setHandler(echo(401, 401004));
    const reported: unknown[] = [];
    const manager = new TokenManager({
      refresh: clientRefresh({ accountChannel: 'lb', appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: server.url }),
      initial: { token: TOKEN, expiresAt: Date.now() - 1 },
      onError: (error) => void reported.push(error),
    });
    const error = await rejectionOf(manager.getToken());
    expect(error).toBeInstanceOf(TokenUnavailableError);
    expect((error as TokenUnavailableError).cause).toBeInstanceOf(ApiError);
    expect(reported.length).toBeGreaterThan(0);
    for (const shown of [error, ...reported]) expectClean(shown, [TOKEN, APP_SECRET, signatureHex(server.requests.at(-1)!)]);
  });
});
