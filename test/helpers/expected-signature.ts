// The server side of request signing, for tests: the signature a request that arrived should
// carry, by the reference implementation (test/helpers/reference-signature.ts, node:crypto).
import type { RecordedRequest } from './loopback-server.js';
import { referenceSignature } from './reference-signature.js';

/** The hex X-Api-Signature the server expects for `request`, as it arrived. */
export function expectedSignature(request: RecordedRequest, token: string, appKey: string, appSecret: string): string {
  const [path = '', query = ''] = request.url.split('?');
  return referenceSignature({
    method: request.method,
    path,
    query,
    body: request.body.length > 0 ? request.body : undefined,
    accessToken: token,
    appKey,
    appSecret,
    timestamp: String(request.headers['x-timestamp']),
  });
}
