// The runtime matrix's loopback mock, run by the harness in Node (test/runtimes/matrix.ts).
// It answers the suite (test/runtimes/suite.mjs) in every runtime: the refresh forms, each
// documented error code, a hang, an oversized reply; it checks every signed request it gets
// against node:crypto (test/helpers/reference-signature.ts) and reflects the signature it saw
// in `X-Seen-Signature`. CORS lets the browser page, served from another origin, call it.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { parse } from 'yaml';
import { startLoopbackServer, successEnvelope, type LoopbackServer } from '../helpers/loopback-server.js';
import { referenceSignature } from '../helpers/reference-signature.js';

const SPEC = new URL('../../openapi.yaml', import.meta.url);

export interface DocumentedCode {
  code: number;
  status: number;
  message: string;
  kind: string;
}

/** A random signed request the suite sends through `client.api`, with the signature node:crypto expects. */
export interface SigningCase {
  method: 'GET' | 'POST';
  prefix: string;
  appKey: string;
  appSecret: string;
  accessToken: string;
  timestamp: number;
  aaid: string;
  expiredAt: string;
  signature: string;
}

export async function startMock(options: { allowOrigin?: string; randomCases?: number } = {}): Promise<LoopbackServer> {
  const spec = parse(readFileSync(SPEC, 'utf8')) as { info: { 'x-error-codes': DocumentedCode[] } };
  const errorCodes = spec.info['x-error-codes'].map(({ code, status, message, kind }) => ({ code, status, message, kind }));
  const randomSigning = Array.from({ length: options.randomCases ?? 24 }, (_, i) => signingCase(i));
  const secrets = new Map<string, string>([['APPKEY', 'APPSECRET'], ...randomSigning.map((c) => [c.appKey, c.appSecret] as [string, string])]);
  const refusedUrl = `http://127.0.0.1:${await closedPort()}`;
  const arrived = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const arrival = (id: string) => {
    if (!arrived.has(id)) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      arrived.set(id, { promise, resolve });
    }
    return arrived.get(id)!;
  };
  const cors: Record<string, string> = options.allowOrigin
    ? {
        'Access-Control-Allow-Origin': options.allowOrigin,
        'Access-Control-Allow-Methods': 'GET, POST',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Account-Channel, X-Api-Key, X-Timestamp, X-Api-Signature',
        'Access-Control-Expose-Headers': 'X-Seen-Signature, Retry-After',
        'Access-Control-Max-Age': '600',
        Vary: 'Origin',
      }
    : {};

  return startLoopbackServer(async (request, response) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { ...cors, 'Content-Type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    const [, first, second] = url.pathname.split('/');
    if (request.method === 'OPTIONS') return void response.writeHead(204, cors).end();
    if (first === '__suite') return json(200, { token: successEnvelope.data.token, errorCodes, randomSigning, refusedUrl });
    if (first === '__arrived') {
      await arrival(second!).promise;
      return json(200, { arrived: second });
    }
    if (first === 'hang') return arrival(second!).resolve(); // never answered; closed when the client gives up
    if (first === 'code') {
      const code = Number(second);
      const documented = errorCodes.find((c) => c.code === code);
      return json(documented?.status ?? 400, { code, message: documented?.message ?? 'unknown', data: null });
    }
    if (first === 'html') {
      response.writeHead(200, { ...cors, 'Content-Type': 'text/html' });
      return void response.end('<html><body>502 Bad Gateway</body></html>');
    }
    if (first === 'big') {
      response.writeHead(200, { ...cors, 'Content-Type': 'application/json' }); // chunked: no Content-Length
      for (let i = 0; i < 16; i++) response.write(' '.repeat(1024));
      return void response.end('{}');
    }
    // A refresh, in either form, under any path prefix.
    const live = request.method === 'GET' && url.pathname.endsWith('/v1/token/refresh');
    const legacy = request.method === 'POST' && url.pathname.endsWith('/v1/openapi/token/refresh');
    let formError = '';
    if (!live && !legacy) formError = `no such operation: ${request.method} ${url.pathname}`;
    else if (!request.headers.authorization) formError = 'no Authorization';
    else if (live && !url.searchParams.get('expired_at')) formError = 'no expired_at';
    else if (legacy) {
      const body = JSON.parse(request.body.toString('utf8') || 'null') as { aaid?: unknown; expired_at?: unknown } | null;
      if (request.headers['account-channel'] !== 'lb') formError = 'Account-Channel is not lb';
      else if (request.headers['content-type'] !== 'application/json; charset=utf-8') formError = 'wrong Content-Type';
      else if (typeof body?.aaid !== 'string' || typeof body.expired_at !== 'string') formError = 'body is not { aaid, expired_at }';
    }
    if (formError) return json(400, { code: 400000, message: formError, data: null });
    const header = request.headers['x-api-signature'];
    if (typeof header === 'string') {
      const appKey = String(request.headers['x-api-key']);
      const expected = referenceSignature({
        method: request.method,
        path: url.pathname,
        query: url.search.slice(1),
        body: request.body.length > 0 ? request.body : undefined,
        accessToken: String(request.headers.authorization),
        appKey,
        appSecret: secrets.get(appKey) ?? '',
        timestamp: String(request.headers['x-timestamp']),
      });
      if (!header.endsWith(`Signature=${expected}`)) {
        return json(403, { code: 403201, message: 'signature invalid', data: null }, { 'X-Seen-Signature': header });
      }
      return json(200, successEnvelope, { 'X-Seen-Signature': header });
    }
    return json(200, successEnvelope);
  });
}

/** Random keys, secret, token, timestamp, path prefix and body; the signature from node:crypto. */
function signingCase(i: number): SigningCase {
  const method = i % 2 === 0 ? 'GET' : 'POST';
  const printable = (min: number, max: number) => {
    const length = randomInt(min, max + 1);
    let s = '';
    for (let k = 0; k < length; k++) s += String.fromCharCode(randomInt(0x21, 0x7f)); // no spaces, no control characters
    return s;
  };
  const anyText = (max: number, pool = ['a', 'Z', '0', ' ', '"', '\\', 'é', '账', '户', '€', '😀', '\u2028', '\t']) => {
    let s = '';
    for (let k = randomInt(0, max + 1); k > 0; k--) s += pool[randomInt(pool.length)];
    return s;
  };
  const prefix = i % 3 === 0 ? '' : `/p-${printable(1, 6).replace(/[^a-zA-Z0-9]/g, 'x')}`;
  const appKey = `key-${i}-${printable(1, 30)}`;
  // The client refuses credentials a header cannot carry (control characters, anything above U+00FF), the secret included.
  const appSecret = `${anyText(40, ['a', 'Z', '0', ' ', '"', 'é', 'ÿ', 'µ'])}s${i}`.trim();
  const accessToken = printable(1, 60);
  const timestamp = randomInt(1_000_000_000, 4_000_000_000);
  const aaid = anyText(150);
  const expiredAt = new Date(randomInt(1_700_000_000_000, 4_000_000_000_000)).toISOString();
  const path = `${prefix}${method === 'GET' ? '/v1/token/refresh' : '/v1/openapi/token/refresh'}`;
  const signature = referenceSignature({
    method,
    path,
    query: method === 'GET' ? `expired_at=${encodeURIComponent(expiredAt)}` : '',
    body: method === 'POST' ? new TextEncoder().encode(JSON.stringify({ aaid, expired_at: expiredAt })) : undefined,
    accessToken,
    appKey,
    appSecret,
    timestamp,
  });
  return { method, prefix, appKey, appSecret, accessToken, timestamp, aaid, expiredAt, signature };
}

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
