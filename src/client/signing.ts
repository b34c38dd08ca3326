// Request signing as the live service's access rules require it (documented in
// openapi.yaml, "Request signing"). HMAC-SHA256 with the app secret runs in Web Crypto
// (the secret becomes a non-extractable key); the two unkeyed SHA-1 digests run in
// ./sha1.ts, synchronously. No `node:` import: it runs in Node, browsers and edge runtimes.
// The secret and the signature never leave this module except as the header.
import { sha1Hex } from './sha1.js';

const SIGNED_HEADERS = 'authorization;x-api-key;x-timestamp';
const encoder = new TextEncoder();

export interface SignedRequest {
  method: string;
  /** The URL path as sent, e.g. `/v1/token/refresh`. */
  path: string;
  /** The query string exactly as sent: percent-encoded, without `?`; '' when none. */
  query: string;
  /** The exact body bytes sent; undefined when there is no body. */
  body: Uint8Array<ArrayBuffer> | undefined;
  accessToken: string;
  /** Unix seconds. */
  timestamp: number;
}

export interface Signer {
  /** The headers that sign this request: X-Api-Key, X-Timestamp, X-Api-Signature. */
  sign(request: SignedRequest): Promise<Record<'X-Api-Key' | 'X-Timestamp' | 'X-Api-Signature', string>>;
}

export function createSigner(appKey: string, appSecret: string): Signer {
  let key: Promise<CryptoKey> | undefined; // imported once, on first use
  const hmacKey = () =>
    (key ??= crypto.subtle.importKey('raw', encoder.encode(appSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']));
  return {
    async sign({ method, path, query, body, accessToken, timestamp }) {
      let canonical =
        `${method.toUpperCase()}|${path}|${query}|` +
        `authorization:${accessToken}\nx-api-key:${appKey}\nx-timestamp:${timestamp}\n` +
        `|${SIGNED_HEADERS}|`;
      if (body !== undefined) canonical += sha1Hex(body);
      const stringToSign = `HMAC-SHA256|${sha1Hex(encoder.encode(canonical))}`;
      const signature = hex(await crypto.subtle.sign('HMAC', await hmacKey(), encoder.encode(stringToSign)));
      return {
        'X-Api-Key': appKey,
        'X-Timestamp': String(timestamp),
        'X-Api-Signature': `HMAC-SHA256 SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`,
      };
    },
  };
}

function hex(buffer: ArrayBuffer): string {
  let out = '';
  for (const byte of new Uint8Array(buffer)) out += byte.toString(16).padStart(2, '0');
  return out;
}
