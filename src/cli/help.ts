// `longbridge-token --help`: commands, flags, environment, output, exit codes, examples.
import { DEFAULT_EXPIRES_IN } from './args.js';
import { DEFAULT_ROTATE_WINDOW } from './rotate.js';
import { BASE_URL_ENV, CN_BASE_URL, GLOBAL_BASE_URL, REGION_ENV } from './base-url.js';
import { ENV_NAMES } from './credentials.js';
import { EXIT_CODE_TABLE } from './exit-codes.js';

export const HELP = `longbridge-token: refresh a Longbridge OpenAPI access token and print the new one as JSON

Usage:
  longbridge-token refresh-access [--expires-in D | --expired-at ISO] [options]
  longbridge-token refresh --aaid ID --channel lb|pspl_sg [--expires-in D | --expired-at ISO] [options]
  longbridge-token rotate --token-file PATH [--if-expires-within D] [--output json|token] [options]
  longbridge-token help | --help | -h
  longbridge-token --version | -v
  With no arguments it prints this text to stderr and exits 2.

Commands:
  refresh-access   GET /v1/token/refresh?expired_at=..., the form the live service and the official
                   SDKs use: a new token for the token you hold. Takes no --aaid and no --channel.
  refresh          POST /v1/openapi/token/refresh, the historical form of the 2022-04-21
                   documentation page: creates a new token for account --aaid, sent with the
                   Account-Channel header --channel.
  rotate           for cron and systemd timers: reads PATH (the JSON the file token store writes),
                   refreshes with the live form only when the token expires within
                   --if-expires-within D (default ${DEFAULT_ROTATE_WINDOW}), under the store's lock, and saves the new
                   token to PATH atomically before printing it. --output json (default) prints
                   {"outcome": "rotated"|"already rotated"|"not due", "token", "expired_at",
                   "token_file"} ("already rotated": another process rotated it meanwhile); --output
                   token prints the token alone and the outcome as a line on stderr. Both exit 0.
                   A refresh the file could not take exits 16 with "outcome": "rotated, not saved"
                   (the token also in PATH.unsaved, "unsaved_file", when the folder can be written). A
                   file holding a raw token is converted once: give --expires-at ISO (its expiry).
                   Takes --expires-in, the host flags and --timeout-ms; the token comes only from PATH.
  A successful refresh makes the old token invalid: store the new one before anything else.

Options:
  --aaid ID                 refresh: the account id the new token is for (required)
  --channel lb|pspl_sg      refresh: Account-Channel, lb = Longbridge, pspl_sg = Phillip Securities
                            Singapore (required)
  --expires-in D            lifetime of the new token from now: a number with a unit d, h, m or s,
                            e.g. 90d, 12h, 30m, 3600s, or a sum such as 1d12h (default ${DEFAULT_EXPIRES_IN})
  --expired-at ISO          or the expiry itself: an ISO 8601 date-time with a zone, in the future,
                            e.g. 2027-01-01T00:00:00Z (not with --expires-in)
  --base-url URL            the API host: https, or plain http on a loopback host only (a local mock)
  --region global|cn        global = ${GLOBAL_BASE_URL}, cn = ${CN_BASE_URL}
  --cn                      same as --region cn (--base-url, --region and --cn exclude each other)
                            The host: --base-url, else ${BASE_URL_ENV[0]}, else the region
                            (--region or --cn, else ${REGION_ENV[0]}), else global.
  --timeout-ms N            give up after N ms, the client's 429 retries included (default 30000)
  --access-token-file PATH  read the access token from PATH (surrounding white space is ignored;
                            keep the file chmod 600)
  --access-token -          read the access token from stdin
  --access-token TOKEN      discouraged: the token lands in shell history and the process list;
                            prints a warning. Prefer the environment variable.
  -h, --help                this text
  -v, --version             the package version

Environment (an empty variable counts as unset):
  ${ENV_NAMES.accessToken[0]}   the current access token, raw (no "Bearer "); else ${ENV_NAMES.accessToken[1]}
                            (a --access-token* flag takes precedence)
  ${ENV_NAMES.appKey[0]}        the app key; else ${ENV_NAMES.appKey[1]}
  ${ENV_NAMES.appSecret[0]}     the app secret; else ${ENV_NAMES.appSecret[1]}
  ${BASE_URL_ENV[0]}       the API host, when no --base-url is given; else ${BASE_URL_ENV[1]}
  ${REGION_ENV[0]}         global or cn, when no host flag and no ${BASE_URL_ENV[0]}; else ${REGION_ENV[1]}
  HTTPS_PROXY, HTTP_PROXY   send requests through this proxy (CONNECT); lowercase names too
  NO_PROXY                  hosts (comma-separated, .domain suffixes, *) reached directly
  With both an app key and an app secret set, every request is signed (X-Api-Key, X-Timestamp,
  X-Api-Signature), as the live service requires; with neither, requests go unsigned (enough for a
  local mock; the live service answers 403201). Setting only one of them is an error.

Output:
  stdout  exactly one JSON document, the reply's data:
          {"token", "expired_at", "issued_at", "account_info": {"member_id", "aaid", "account_channel"}}
          Nothing else is ever written to stdout, so it can be piped into jq.
  stderr  warnings, and on failure "error: ..." and "hint: ..." lines. The access token, the app
          secret and the request signature are never written to stderr. After a timeout, a dropped
          connection or a server error, a warning says the old token may already be invalid: do not
          re-run blindly. If stdout cannot take the new token (a closed pipe, a full disk), stderr
          says that the refresh went through and the token was lost (exit 15).

Exit codes:
${EXIT_CODE_TABLE.map(([code, meaning]) => ` ${String(code).padStart(3)}  ${meaning}`).join('\n')}

Examples:
  read -rs LONGBRIDGE_ACCESS_TOKEN && export LONGBRIDGE_ACCESS_TOKEN   # not echoed, not in history
  read -rs LONGBRIDGE_APP_SECRET && export LONGBRIDGE_APP_SECRET LONGBRIDGE_APP_KEY=<your app key>
  longbridge-token refresh-access --expires-in 30d | jq -r .token
  longbridge-token refresh-access --cn --access-token-file ~/.config/longbridge/token
  pass show longbridge/token | longbridge-token refresh-access --access-token -
  HTTPS_PROXY=http://proxy.example:3128 longbridge-token refresh-access
  longbridge-token refresh-access --base-url http://127.0.0.1:4010   # the local mock (npm start)
  longbridge-token refresh --aaid 20001 --channel lb --expired-at 2027-01-01T00:00:00Z   # historical form
`;
