// Checks a request's signature as the live service does (openapi.yaml, "Request signing"),
// with node:crypto: an implementation independent of the client's signer (Web Crypto and
// src/client/sha1.ts), so the emulator really tests it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNED_HEADERS = 'authorization;x-api-key;x-timestamp';
const SIGNATURE_HEADER = /^HMAC-SHA256 SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/;

export interface SignedParts {
  method: string;
  /** The URL path as sent, e.g. `/v1/token/refresh`. */
  path: string;
  /** The query string exactly as sent, without `?`; '' when none. */
  query: string;
  /** The exact body bytes; undefined (or empty) when there is none. */
  body: Uint8Array | undefined;
  accessToken: string;
  appKey: string;
  timestamp: string;
}

/** The hex `Signature=` value for `parts`, signed with `appSecret`. */
export function expectedSignature(parts: SignedParts, appSecret: string): string {
  let canonical =
    `${parts.method.toUpperCase()}|${parts.path}|${parts.query}|` +
    `authorization:${parts.accessToken}\nx-api-key:${parts.appKey}\nx-timestamp:${parts.timestamp}\n` +
    `|${SIGNED_HEADERS}|`;
  if (parts.body !== undefined && parts.body.length > 0) canonical += createHash('sha1').update(parts.body).digest('hex');
  const stringToSign = `HMAC-SHA256|${createHash('sha1').update(canonical).digest('hex')}`;
  return createHmac('sha256', appSecret).update(stringToSign).digest('hex');
}

/** `X-Api-Signature` split into its parts; undefined when it is not of the documented shape. */
export function parseSignatureHeader(value: string | undefined): { signedHeaders: string; signature: string } | undefined {
  const match = value === undefined ? null : SIGNATURE_HEADER.exec(value);
  return match ? { signedHeaders: match[1]!, signature: match[2]! } : undefined;
}

/** Constant-time comparison of two hex signatures. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
