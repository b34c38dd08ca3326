// Request signing as the live service's access rules require it (documented in openapi.yaml,
// "Request signing"). The digests come from the package's `#crypto` import (package.json
// "imports"): node:crypto, synchronous, where the runtime matches the `node` condition (Node,
// Bun, Deno); Web Crypto everywhere else (browsers, edge runtimes), so their builds never see
// a `node:` import. The secret and the signature never leave this module except as the header.
import { signingCrypto } from '#crypto';

const SIGNED_HEADERS = 'authorization;x-api-key;x-timestamp';

export interface SignedRequest {
  method: string;
  /** The URL path as sent, e.g. `/v1/token/refresh`. */
  path: string;
  /** The query string exactly as sent: percent-encoded, without `?`; '' when none. */
  query: string;
  /** The exact body sent (a string: its UTF-8 bytes, as fetch sends it); undefined when there is no body. */
  body: Uint8Array<ArrayBuffer> | string | undefined;
  accessToken: string;
  /** Unix seconds. */
  timestamp: number;
}

export interface Signer {
  /** The headers that sign this request: X-Api-Key, X-Timestamp, X-Api-Signature. */
  sign(request: SignedRequest): Promise<Record<'X-Api-Key' | 'X-Timestamp' | 'X-Api-Signature', string>>;
}

export function createSigner(appKey: string, appSecret: string): Signer {
  const hmac = signingCrypto.hmacSha256(appSecret);
  return {
    // With node:crypto every await below meets a plain string: no thread-pool round trip.
    async sign({ method, path, query, body, accessToken, timestamp }) {
      let canonical =
        `${method.toUpperCase()}|${path}|${query}|` +
        `authorization:${accessToken}\nx-api-key:${appKey}\nx-timestamp:${timestamp}\n` +
        `|${SIGNED_HEADERS}|`;
      if (body !== undefined) canonical += await signingCrypto.sha1Hex(body);
      const signature = await hmac(`HMAC-SHA256|${await signingCrypto.sha1Hex(canonical)}`);
      return {
        'X-Api-Key': appKey,
        'X-Timestamp': String(timestamp),
        'X-Api-Signature': `HMAC-SHA256 SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`,
      };
    },
  };
}
