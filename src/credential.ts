/**
 * True for a usable credential (access token, app key, app secret): a non-empty string
 * without surrounding white space, line breaks or other control characters. It is sent raw
 * in a header, and fetch refuses such characters before sending anything.
 */
export function isCredential(value: unknown): value is string {
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value !== '' && value.trim() === value && !/[\x00-\x1f\x7f]/.test(value);
}
