import type { components } from '../../generated/openapi.js';
import { ApiError } from '../errors/api-error.js';
import { InvalidResponseError, type InvalidResponseReason } from '../errors/invalid-response-error.js';
import { scrubOrWithhold } from '../redact.js';
import { requestIdOf } from './request-id.js';
import { parseRetryAfter } from './retry.js';

/** In place of a server's message that held a secret too short to replace (src/redact.ts). */
const WITHHELD = "the server's message is withheld: it contained a credential too short to redact";

/** `data` of a successful refresh, as the spec defines it. */
export type RefreshTokenData = components['schemas']['RefreshTokenData'];

/**
 * Reads a reply's body as the documented envelope `{code, message|msg, data}`.
 * Returns `data` when `code` is 0 and `data.token` is present; throws ApiError for any
 * non-zero `code` (whatever the HTTP status) and InvalidResponseError for anything else.
 * The server's message is scrubbed of `secrets` (every credential and signature of the
 * call) before it becomes the ApiError's, or withheld when that cannot be done safely. Both
 * errors carry the reply's request id (`requestIdOf`).
 *
 * The body is decoded once. A 2xx body arrives as its raw text (`parseAs: 'text'`) and is
 * decoded here; any other body openapi-fetch has already decoded (the JSON value, or the raw
 * text when it is not JSON), so a string there is never decoded again: a body that is a
 * JSON string holding an envelope is not an envelope, on any status.
 */
export function readEnvelope(body: unknown, response: Response, now: number, secrets: readonly (string | undefined)[]): RefreshTokenData {
  const { status } = response;
  const invalid = (reason: InvalidResponseReason, detail: string) =>
    new InvalidResponseError(reason, status, detail, requestIdOf(response.headers, secrets));
  const envelope = response.ok && typeof body === 'string' ? parseJson(body, invalid) : body;
  if (envelope === undefined || envelope === '') {
    throw invalid('empty-body', 'the body is empty');
  }
  // openapi-fetch left the raw text in place when it was not JSON (else it would have decoded it).
  if (!response.ok && typeof envelope === 'string' && !isJsonText(envelope)) {
    throw invalid('not-json', 'the body is not JSON');
  }
  if (!isRecord(envelope) || typeof envelope.code !== 'number' || !Number.isInteger(envelope.code)) {
    throw invalid('not-an-envelope', 'the body has no integer `code`');
  }
  if (envelope.code !== 0) {
    const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'), now);
    const message = scrubOrWithhold(messageOf(envelope), secrets, WITHHELD);
    throw new ApiError({ code: envelope.code, message, status, retryAfterMs, requestId: requestIdOf(response.headers, secrets) });
  }
  const data = envelope.data;
  if (!isRecord(data) || typeof data.token !== 'string' || data.token === '') {
    throw invalid('missing-token', '`code` is 0 but `data.token` is missing');
  }
  return data as RefreshTokenData;
}

/** The envelope's message: `message` (live service) or `msg` (the field table of the 2022-04-21 documentation page). */
export function messageOf(envelope: Record<string, unknown>): string {
  const message = envelope.message ?? envelope.msg;
  return typeof message === 'string' ? message : '';
}

function parseJson(text: string, invalid: (reason: InvalidResponseReason, detail: string) => InvalidResponseError): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw invalid('not-json', 'the body is not JSON');
  }
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
