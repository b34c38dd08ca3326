// The server side of request signing, for tests.
import { createHash, createHmac } from 'node:crypto';
import type { RecordedRequest } from './loopback-server.js';

/** An independent implementation (node:crypto) of the server's check of X-Api-Signature. */
export function expectedSignature(request: RecordedRequest, token: string, appKey: string, appSecret: string): string {
  const [path, query = ''] = request.url.split('?');
  let canonical =
    `${request.method}|${path}|${query}|authorization:${token}\nx-api-key:${appKey}\nx-timestamp:${request.headers['x-timestamp']}\n` +
    '|authorization;x-api-key;x-timestamp|';
  if (request.body.length > 0) canonical += createHash('sha1').update(request.body).digest('hex');
  const stringToSign = `HMAC-SHA256|${createHash('sha1').update(canonical).digest('hex')}`;
  return createHmac('sha256', appSecret).update(stringToSign).digest('hex');
}
