// Sends one request exactly as built (the signed bytes are the bytes sent) and records what
// came back: status, headers, the body (at most MAX_BODY_BYTES), its size and SHA-256, and,
// when the body is JSON, the parsed value. Never throws: a failed request is recorded with
// the reason.
import { createHash } from 'node:crypto';

/** A request as it went on the wire: every header, the token and the signature included. */
export interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
}

export interface ReceivedResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as UTF-8 text (cut at MAX_BODY_BYTES). */
  body: string;
  /** Bytes received (at most MAX_BODY_BYTES + one chunk). */
  bytes: number;
  /** Hex SHA-256 of the bytes received. */
  sha256: string;
  /** The body parsed as JSON, whatever its Content-Type; absent when it is not JSON. */
  json?: unknown;
  /** True when the body was longer than MAX_BODY_BYTES and was cut. */
  truncated: boolean;
  /** True when the body starts with a UTF-8 byte order mark (which JSON forbids). */
  bom: boolean;
}

export interface Exchange {
  request: SentRequest;
  response?: ReceivedResponse;
  /** Why there is no response: timeout, connection refused, ... */
  error?: string;
  /** True when the request never got an HTTP response because of the network (not a timeout). */
  networkError?: boolean;
}

export const MAX_BODY_BYTES = 1024 * 1024;
const BOM = [0xef, 0xbb, 0xbf];

export async function send(request: SentRequest, options: { timeoutMs: number; fetch?: typeof globalThis.fetch }): Promise<Exchange> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await fetchFn(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body ? { body: request.body } : {}),
      redirect: 'manual', // a redirect is a status the spec does not declare: report it
      signal,
    });
    const { bytes, truncated } = await readBytes(response, signal);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    const body = bytes.toString('utf8');
    return {
      request,
      response: {
        status: response.status,
        headers,
        body,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        truncated,
        bom: BOM.every((byte, i) => bytes[i] === byte),
        ...(truncated ? {} : parsed(body)),
      },
    };
  } catch (error) {
    if (signal.aborted) return { request, error: `no complete response within ${options.timeoutMs} ms` };
    return { request, error: reasonOf(error), networkError: true };
  }
}

async function readBytes(response: Response, signal: AbortSignal): Promise<{ bytes: Buffer; truncated: boolean }> {
  if (!response.body) return { bytes: Buffer.alloc(0), truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Bounded by MAX_BODY_BYTES and by the request's timeout signal.
  while (size <= MAX_BODY_BYTES && !signal.aborted) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), truncated: false };
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  if (signal.aborted) throw signal.reason;
  return { bytes: Buffer.concat(chunks), truncated: true };
}

/**
 * The body as JSON, also when it only parses without a leading byte order mark: what a
 * lenient client would read (the token chain and the redaction must not miss a token there).
 */
export function lenientJson(response: ReceivedResponse | undefined): unknown {
  if (!response) return undefined;
  if ('json' in response) return response.json;
  return response.bom ? parsed(response.body.replace(/^\uFEFF/, '')).json : undefined;
}

function parsed(text: string): { json?: unknown } {
  try {
    return text.trim() === '' ? {} : { json: JSON.parse(text) };
  } catch {
    return {};
  }
}

/** e.g. `connection refused (ECONNREFUSED)`; one line. */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
    UND_ERR_SOCKET: 'the connection closed before a complete reply',
  };
  const message = String(cause?.message ?? (error as Error)?.message ?? error).split('\n')[0];
  if (code) return `${known[code] ?? message} (${code})`;
  return message ?? 'request failed';
}
