// The request id a server gives a reply, for support: read from these headers only, never
// from the body (which may hold a token).
import { scrubSecrets } from '../redact.js';

/** The response headers a request id is read from, first present wins. */
export const REQUEST_ID_HEADERS = ['x-request-id', 'x-trace-id', 'request-id'] as const;

/** An id is short printable ASCII; anything else is not one (and is not copied into an error). */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The reply's request id: the first of REQUEST_ID_HEADERS that is present, when it looks like
 * an id and holds none of `secrets`; otherwise undefined.
 */
export function requestIdOf(headers: Headers, secrets: Iterable<string | undefined>): string | undefined {
  for (const name of REQUEST_ID_HEADERS) {
    const value = headers.get(name);
    if (value === null) continue;
    return REQUEST_ID.test(value) && scrubSecrets(value, secrets) === value ? value : undefined;
  }
  return undefined;
}
