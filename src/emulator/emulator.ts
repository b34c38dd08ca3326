// A local emulator of the live token semantics, on loopback (node:http): each refresh issues
// a new token valid until the requested `expired_at` and kills the token that authorised it
// (HTTP 401, code 401004 afterwards). Both forms of the endpoint, the envelope and the error
// codes as openapi.yaml declares them (generated/), optional signature verification,
// injected 429s and latency. For users (`npm run emulator`) and for the fleet tests.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { badRequestReply, errorReplies, type DocumentedErrorCode } from '../../generated/error-codes.js';
import { accountChannelValues, type components, type paths } from '../../generated/openapi.js';
import { DEFAULT_TOKEN_LIFETIME_MS } from '../client/client.js';
import { isCredential } from '../credential.js';
import { describeValue, InvalidInputError } from '../errors/invalid-input-error.js';
import { toEpochMs } from '../instant.js';
import { expectedSignature, parseSignatureHeader, sameSignature, SIGNED_HEADERS } from './signature.js';
import { TokenLedger, type TokenState } from './token-ledger.js';

type AccountChannel = components['schemas']['AccountChannel'];
type RefreshTokenRequest = components['schemas']['RefreshTokenRequest'];
type RefreshTokenData = components['schemas']['RefreshTokenData'];
type OperationId = 'refreshToken' | 'refreshAccessToken';

/** The spec's two operations; `keyof paths` keeps the paths the spec's own. */
const SEED_PATH = '/v1/openapi/token/refresh' satisfies keyof paths;
const LIVE_PATH = '/v1/token/refresh' satisfies keyof paths;
const ROUTES: Record<string, OperationId> = { [`POST ${SEED_PATH}`]: 'refreshToken', [`GET ${LIVE_PATH}`]: 'refreshAccessToken' };

/** The request body's fields and their rule; `satisfies` fails to compile when the spec's body changes. */
const BODY_FIELDS = { expired_at: 'date-time', aaid: 'non-empty' } as const satisfies Record<keyof RefreshTokenRequest, string>;

const MAX_BODY_BYTES = 64 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';

export interface EmulatorOptions {
  /** Port on 127.0.0.1; default 0 (a free one, see `url`). */
  port?: number;
  /** With `appSecret`: every request must be signed with this app key (else 403201 / 403203). */
  appKey?: string;
  appSecret?: string;
  /** Delay of every reply in ms, half before the emulator acts and half after. Default 0. */
  latencyMs?: number;
  /** The first live token; default a random one. */
  initialToken?: string;
  /** When the first token expires: ms since the epoch, a Date or an ISO 8601 string. Default now + 90 days. */
  initialExpiresAt?: number | Date | string;
  /** `account_info` of the live form, which carries no `Account-Channel` or `aaid`. Defaults `lb`, `20001`, `10086`. */
  accountChannel?: AccountChannel;
  aaid?: string;
  memberId?: string;
  /** Answer the next N requests with HTTP 429 (see `rateLimit()`). Default 0. */
  rateLimited?: number;
  /** The clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Called once for every request, when the emulator has decided its reply. */
  onRequest?: (request: EmulatorRequest) => void;
}

/** One request as the emulator saw it. */
export interface EmulatorRequest {
  /** When the emulator acted on it, ms since the epoch. */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  /** The operation of the spec it addressed, if any. */
  readonly operation: OperationId | undefined;
  /** `Authorization` as sent (the emulator's tokens are made up). */
  readonly token: string | undefined;
  /** What that token was when the request arrived. */
  readonly tokenState: TokenState;
  readonly status: number;
  /** The envelope's `code`: 0 for a refresh done. */
  readonly code: number;
  /** The successor, when this request refreshed. */
  readonly issued?: { readonly token: string; readonly expiresAt: number };
}

export interface Emulator {
  /** `http://127.0.0.1:PORT`, the base URL for `createTokenClient({ baseUrl })`. */
  readonly url: string;
  readonly port: number;
  /** The first live token and its expiry. */
  readonly initialToken: string;
  readonly initialExpiresAt: number;
  /** Refreshes done (requests that issued a token). */
  readonly refreshes: number;
  /** Every request so far, in the order the emulator acted on them. */
  readonly requests: readonly EmulatorRequest[];
  /** What the emulator knows of `token` now. */
  tokenState(token: string): TokenState;
  /** The tokens that work now. */
  liveTokens(): Array<{ token: string; expiresAt: number }>;
  /** Issues another live token (default: valid for 90 days). */
  issueToken(expiresAt?: number | Date | string): string;
  /** Answers the next `count` requests with HTTP 429 and `code` (default 429002), with `Retry-After` when given. */
  rateLimit(count: number, options?: { code?: 429001 | 429002; retryAfterSeconds?: number }): void;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: object;
  headers?: Record<string, string>;
}

/** Starts the emulator on 127.0.0.1; resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const config = checkOptions(options);
  const { now, latencyMs } = config;
  const ledger = new TokenLedger();
  const initialExpiresAt = config.initialExpiresAt ?? now() + DEFAULT_TOKEN_LIFETIME_MS;
  const initialToken = ledger.issue(initialExpiresAt, config.initialToken);
  const requests: EmulatorRequest[] = [];
  const seenSignatures = new Set<string>();
  let refreshes = 0;
  let limited = { count: config.rateLimited, code: 429002 as 429001 | 429002, retryAfterSeconds: undefined as number | undefined };

  const error = (code: DocumentedErrorCode, headers?: Record<string, string>): Reply => ({
    status: errorReplies[code].status,
    body: { code, message: errorReplies[code].message, data: null },
    ...(headers ? { headers } : {}),
  });
  const badRequest = (status: number = badRequestReply.status): Reply => ({
    status,
    body: { code: badRequestReply.code, message: badRequestReply.message, data: null },
  });

  /** Decides the reply and acts on it (a refresh), synchronously: no two requests interleave here. */
  function decide(request: Incoming): { reply: Reply; record: EmulatorRequest } {
    const at = now();
    const operation = ROUTES[`${request.method} ${request.path}`];
    const token = request.headers.authorization;
    const tokenState = ledger.state(token, at);
    let issued: EmulatorRequest['issued'];
    const reply = ((): Reply => {
      if (operation === undefined) return badRequest(404);
      if (limited.count > 0) {
        limited.count -= 1;
        return error(limited.code, limited.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(limited.retryAfterSeconds) });
      }
      if (config.signing) {
        const refused = checkSignature(request, config.signing.appKey, config.signing.appSecret, seenSignatures);
        if (refused !== undefined) return error(refused);
      }
      if (tokenState === 'expired') return error(401003);
      if (tokenState !== 'live') return error(401004);
      const valid = operation === 'refreshToken' ? readSeedForm(request) : readLiveForm(request, config);
      if (valid === undefined || valid.expiresAt <= at) return badRequest();
      const next = ledger.replace(token as string, valid.expiresAt);
      refreshes += 1;
      issued = { token: next, expiresAt: valid.expiresAt };
      const data: RefreshTokenData = {
        token: next,
        expired_at: new Date(valid.expiresAt).toISOString(),
        issued_at: new Date(at).toISOString(),
        account_info: { member_id: config.memberId, aaid: valid.aaid, account_channel: valid.channel },
      };
      return { status: 200, body: { code: 0, message: '', data } };
    })();
    const code = (reply.body as { code: number }).code;
    const record: EmulatorRequest = {
      at,
      method: request.method,
      path: request.path,
      operation,
      token,
      tokenState,
      status: reply.status,
      code,
      ...(issued ? { issued } : {}),
    };
    return { reply, record };
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    void serve(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body === undefined) return; // the client went away mid-body: nothing arrived
    await delay(Math.floor(latencyMs / 2));
    const [path = '', query = ''] = (req.url ?? '').split('?', 2);
    let outcome: { reply: Reply; record: EmulatorRequest };
    if (body === 'too-large') {
      outcome = {
        reply: badRequest(413),
        record: { at: now(), method: req.method ?? '', path, operation: undefined, token: undefined, tokenState: 'missing', status: 413, code: badRequestReply.code },
      };
    } else {
      outcome = decide({ method: req.method ?? '', path, query, headers: req.headers, body });
    }
    requests.push(outcome.record);
    try {
      config.onRequest?.(outcome.record);
    } catch {
      // a listener's failure is not the emulator's
    }
    await delay(latencyMs - Math.floor(latencyMs / 2));
    const text = JSON.stringify(outcome.reply.body);
    if (res.destroyed) return; // the client is gone; the emulator acted all the same, as a server would
    res.writeHead(outcome.reply.status, {
      'Content-Type': JSON_TYPE,
      'Content-Length': Buffer.byteLength(text),
      ...outcome.reply.headers,
    });
    res.end(text);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    initialToken,
    initialExpiresAt,
    get refreshes() {
      return refreshes;
    },
    requests,
    tokenState: (token) => ledger.state(token, now()),
    liveTokens: () => ledger.live(now()),
    issueToken: (expiresAt) => ledger.issue(expiresAt === undefined ? now() + DEFAULT_TOKEN_LIFETIME_MS : checkInstant('expiresAt', expiresAt)),
    rateLimit(count, { code = 429002, retryAfterSeconds } = {}) {
      if (!Number.isInteger(count) || count < 0) throw new InvalidInputError('count', `must be a whole number, 0 or more, got ${String(count)}`);
      if (code !== 429001 && code !== 429002) throw new InvalidInputError('code', 'must be 429001 or 429002');
      limited = { count, code, retryAfterSeconds };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

interface Incoming {
  method: string;
  path: string;
  /** Exactly as sent, without `?`. */
  query: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

interface ValidRefresh {
  expiresAt: number;
  aaid: string;
  channel: AccountChannel;
}

/** `POST /v1/openapi/token/refresh`: Account-Channel, a JSON body { expired_at, aaid } and nothing else. */
function readSeedForm(request: Incoming): ValidRefresh | undefined {
  const channel = request.headers['account-channel'];
  if (!isChannel(channel) || !isJsonMediaType(request.headers['content-type'])) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(request.body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  if (Object.keys(fields).some((key) => !(key in BODY_FIELDS))) return undefined;
  const { expired_at, aaid } = fields;
  const expiresAt = typeof expired_at === 'string' ? toEpochMs(expired_at) : Number.NaN;
  if (Number.isNaN(expiresAt) || typeof aaid !== 'string' || aaid === '') return undefined;
  return { expiresAt, aaid, channel };
}

/** `GET /v1/token/refresh?expired_at=…`: one date-time in the query. The channel is echoed if sent. */
function readLiveForm(request: Incoming, config: Config): ValidRefresh | undefined {
  const values = new URLSearchParams(request.query).getAll('expired_at');
  if (values.length !== 1) return undefined;
  const expiresAt = toEpochMs(values[0]);
  if (Number.isNaN(expiresAt)) return undefined;
  const sent = request.headers['account-channel'];
  return { expiresAt, aaid: config.aaid, channel: isChannel(sent) ? sent : config.accountChannel };
}

/** The reply code when the signature does not hold, else undefined (and the signature is spent). */
function checkSignature(request: Incoming, appKey: string, appSecret: string, seen: Set<string>): DocumentedErrorCode | undefined {
  const key = request.headers['x-api-key'];
  const timestamp = request.headers['x-timestamp'];
  const header = parseSignatureHeader(single(request.headers['x-api-signature']));
  if (typeof key !== 'string' || typeof timestamp !== 'string' || header === undefined) return 403201;
  if (key !== appKey) return 403203;
  if (header.signedHeaders !== SIGNED_HEADERS) return 403201;
  const expected = expectedSignature(
    {
      method: request.method,
      path: request.path,
      query: request.query,
      body: request.body,
      accessToken: single(request.headers.authorization) ?? '',
      appKey,
      timestamp,
    },
    appSecret,
  );
  if (!sameSignature(expected, header.signature)) return 403201;
  const spent = `${timestamp}:${header.signature}`;
  if (seen.has(spent)) return 403202;
  seen.add(spent);
  return undefined;
}

function isChannel(value: unknown): value is AccountChannel {
  return typeof value === 'string' && (accountChannelValues as readonly string[]).includes(value);
}

/** The spec's request media type: application/json, charset utf-8 if one is named. */
function isJsonMediaType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type = '', ...params] = value.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((param) => !param.startsWith('charset=') || param.replace(/"/g, '') === 'charset=utf-8');
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The whole body; 'too-large' past the cap; undefined when the client went away first. */
function readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks)));
    req.on('aborted', () => resolve(undefined));
    req.on('error', () => resolve(undefined));
  });
}

function delay(ms: number): Promise<void> | undefined {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined;
}

interface Config {
  port: number;
  latencyMs: number;
  now: () => number;
  signing: { appKey: string; appSecret: string } | undefined;
  initialToken: string | undefined;
  initialExpiresAt: number | undefined;
  accountChannel: AccountChannel;
  aaid: string;
  memberId: string;
  rateLimited: number;
  onRequest: ((request: EmulatorRequest) => void) | undefined;
}

function checkOptions(options: EmulatorOptions): Config {
  if (typeof options !== 'object' || options === null) throw new InvalidInputError('options', 'must be an object');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidInputError('port', `must be a port number 0-65535 (0: a free one), got ${String(port)}`);
  const latencyMs = options.latencyMs ?? 0;
  if (!Number.isInteger(latencyMs) || latencyMs < 0) throw new InvalidInputError('latencyMs', `must be a whole number of ms, 0 or more, got ${String(latencyMs)}`);
  const rateLimited = options.rateLimited ?? 0;
  if (!Number.isInteger(rateLimited) || rateLimited < 0) throw new InvalidInputError('rateLimited', `must be a whole number, 0 or more, got ${String(rateLimited)}`);
  const { appKey, appSecret } = options;
  if ((appKey === undefined) !== (appSecret === undefined)) {
    throw new InvalidInputError(appKey === undefined ? 'appKey' : 'appSecret', 'give both appKey and appSecret to verify signatures, or neither');
  }
  for (const [field, value] of [['appKey', appKey], ['appSecret', appSecret], ['initialToken', options.initialToken]] as const) {
    if (value !== undefined && !isCredential(value)) {
      throw new InvalidInputError(field, `must be a non-empty string without surrounding white space or control characters, got ${describeValue(value)}`);
    }
  }
  const accountChannel = options.accountChannel ?? 'lb';
  if (!isChannel(accountChannel)) throw new InvalidInputError('accountChannel', `must be one of ${accountChannelValues.join(', ')}`);
  for (const [field, value] of [['aaid', options.aaid], ['memberId', options.memberId]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '')) throw new InvalidInputError(field, `must be a non-empty string, got ${describeValue(value)}`);
  }
  for (const [field, value] of [['now', options.now], ['onRequest', options.onRequest]] as const) {
    if (value !== undefined && typeof value !== 'function') throw new InvalidInputError(field, `must be a function, got ${describeValue(value)}`);
  }
  return {
    port,
    latencyMs,
    now: options.now ?? Date.now,
    signing: appKey !== undefined && appSecret !== undefined ? { appKey, appSecret } : undefined,
    initialToken: options.initialToken,
    initialExpiresAt: options.initialExpiresAt === undefined ? undefined : checkInstant('initialExpiresAt', options.initialExpiresAt),
    accountChannel,
    aaid: options.aaid ?? '20001',
    memberId: options.memberId ?? '10086',
    rateLimited,
    onRequest: options.onRequest,
  };
}

function checkInstant(field: string, value: unknown): number {
  const ms = toEpochMs(value);
  if (Number.isNaN(ms)) throw new InvalidInputError(field, 'must be ms since the epoch, a valid Date or an ISO 8601 date-time with a zone');
  return ms;
}
