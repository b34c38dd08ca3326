// The CLI's exit codes: one per kind of failure, so a script can branch on `$?`.
// One table feeds the mapping, `--help` and the README (a test keeps them in agreement).

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  'token-expired': 3,
  'token-invalid': 4,
  'signature-invalid': 5,
  'duplicate-request': 6,
  'api-key-illegal': 7,
  'ip-not-allowed': 8,
  'rate-limited': 9,
  'server-error': 10,
  'unknown-api-error': 11,
  'invalid-response': 12,
  network: 13,
  timeout: 14,
  'output-failed': 15,
  'token-file': 16,
  interrupted: 130,
} as const;

export type ExitKind = keyof typeof EXIT;

/** `[code, meaning]` rows, in code order, for `--help` and the README. */
export const EXIT_CODE_TABLE: ReadonlyArray<readonly [number, string]> = [
  [EXIT.ok, 'ok: the new token is on stdout'],
  [EXIT.internal, 'unexpected internal error (a bug: please report it)'],
  [EXIT.usage, 'usage or configuration error (bad flag, missing token, bad input); nothing was sent'],
  [EXIT['token-expired'], 'API: token expired (401003)'],
  [EXIT['token-invalid'], 'API: token invalid or already replaced (401004), or issued for another app key (401102)'],
  [EXIT['signature-invalid'], 'API: signature invalid (403201), e.g. a request sent unsigned'],
  [EXIT['duplicate-request'], 'API: duplicate request, X-Timestamp reused (403202)'],
  [EXIT['api-key-illegal'], 'API: app key unknown or disabled (403203)'],
  [EXIT['ip-not-allowed'], 'API: this IP is not on the allow-list (403205)'],
  [EXIT['rate-limited'], 'API: rate limited (429001, 429002), after the client\'s bounded 429 retries'],
  [EXIT['server-error'], 'API: server error (500000, or any code with HTTP 5xx)'],
  [EXIT['unknown-api-error'], 'API: an error code this package does not know'],
  [EXIT['invalid-response'], 'the reply is not the documented envelope (HTML error page, not JSON, no token)'],
  [EXIT.network, 'network error: connection refused or reset, DNS, TLS'],
  [EXIT.timeout, 'no complete reply within --timeout-ms'],
  [EXIT['output-failed'], 'the refresh went through, but stdout could not take the new token (EPIPE, ENOSPC): it is lost (with rotate, the token file holds it: nothing is lost)'],
  [EXIT['token-file'], 'rotate: the token file could not be read, locked or written (after a refresh, the new token is in TOKEN_FILE.unsaved when its folder could be written, and on stdout)'],
  [EXIT.interrupted, 'interrupted (Ctrl-C, SIGINT or SIGTERM)'],
];
