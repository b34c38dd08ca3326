// Sends one probe and records what came back: status, headers, the body as text (at most
// MAX_BODY_BYTES) and, when the text is JSON, the parsed value. Never throws: a failed
// request is recorded with the reason.
import type { ProbeRequest } from './probes.js';

export interface ReceivedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, whatever its Content-Type; absent when it is not JSON. */
  json?: unknown;
  /** True when the body was longer than MAX_BODY_BYTES and was cut. */
  truncated: boolean;
}

export interface Exchange {
  request: ProbeRequest;
  response?: ReceivedResponse;
  /** Why there is no response: timeout, connection refused, ... */
  error?: string;
}

export const MAX_BODY_BYTES = 1024 * 1024;

export async function send(
  request: ProbeRequest,
  options: { timeoutMs: number; fetch?: typeof globalThis.fetch },
): Promise<Exchange> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await fetchFn(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual', // a redirect is a status the spec does not declare: report it
      signal,
    });
    const { text, truncated } = await readText(response, signal);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    return { request, response: { status: response.status, headers, body: text, truncated, ...parsed(text) } };
  } catch (error) {
    return { request, error: signal.aborted ? `no complete response within ${options.timeoutMs} ms` : reasonOf(error) };
  }
}

async function readText(response: Response, signal: AbortSignal): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Bounded by MAX_BODY_BYTES and by the request's timeout signal.
  while (size <= MAX_BODY_BYTES && !signal.aborted) {
    const { done, value } = await reader.read();
    if (done) return { text: decode(chunks), truncated: false };
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  if (signal.aborted) throw signal.reason;
  return { text: decode(chunks).slice(0, MAX_BODY_BYTES), truncated: true };
}

function decode(chunks: Uint8Array[]): string {
  return Buffer.concat(chunks).toString('utf8');
}

function parsed(text: string): { json?: unknown } {
  try {
    return text.trim() === '' ? {} : { json: JSON.parse(text) };
  } catch {
    return {};
  }
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (typeof cause?.code === 'string') return `request failed: ${cause.code}`;
  return `request failed: ${String(cause?.message ?? (error as Error)?.message ?? error)}`;
}
