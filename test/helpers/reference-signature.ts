// The signing algorithm as shared/reference/longbridge-api-facts.md states it, on node:crypto:
// the reference the package's signer is compared with (test/signing.test.ts, the runtime matrix).
import { createHash, createHmac } from 'node:crypto';

export interface ReferenceRequest {
  method: string;
  path: string;
  /** As sent, without `?`. */
  query: string;
  /** The exact body sent (a string: its UTF-8 bytes); undefined when there is no body. */
  body: Uint8Array | string | undefined;
  accessToken: string;
  appKey: string;
  appSecret: string;
  timestamp: number | string;
}

/** The lowercase hex `Signature=` value. */
export function referenceSignature(r: ReferenceRequest): string {
  let canonical =
    `${r.method.toUpperCase()}|${r.path}|${r.query}|authorization:${r.accessToken}\nx-api-key:${r.appKey}\nx-timestamp:${r.timestamp}\n` +
    '|authorization;x-api-key;x-timestamp|';
  if (r.body !== undefined) canonical += createHash('sha1').update(r.body).digest('hex');
  const stringToSign = `HMAC-SHA256|${createHash('sha1').update(canonical).digest('hex')}`;
  return createHmac('sha256', r.appSecret).update(stringToSign).digest('hex');
}
