/**
 * True for a usable credential (access token, app key, app secret): a non-empty string
 * without surrounding white space, line breaks or other control characters, and with no
 * character above U+00FF. It is sent raw in a header, and fetch refuses such characters
 * (a header value is bytes) before sending anything.
 */
export function isCredential(value: unknown): value is string {
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value !== '' && value.trim() === value && !/[\x00-\x1f\x7f]|[^\x00-\xff]/.test(value);
}

/** What `isCredential` requires of a non-empty string, for messages: "<field>: …". */
export const CREDENTIAL_RULE =
  'must not contain line breaks, control characters, surrounding white space or any character above U+00FF (a header cannot carry them)';
