// The command line of the contract suite (see USAGE).
import { parseArgs } from 'node:util';
import { parseDuration } from '../cli/args.js';
import { BASE_URL_ENV, chooseBaseUrl } from '../cli/base-url.js';
import { DEFAULT_AAID, DEFAULT_CHANNEL, DEFAULT_TIMEOUT_MS, type ContractOptions } from './run.js';

export const USAGE = `Usage: longbridge-token-contract [--base-url URL] [options]
       npm run contract -- [--base-url URL] [options]

Checks a server against the refresh-token contract (openapi.yaml), for each operation (the live
form GET /v1/token/refresh first, then the 2022 POST /v1/openapi/token/refresh): one request for
each rule the spec sets on the request, then the valid refresh; prints each check, pass or fail,
and for a failure the exact request (tokens and signatures redacted), the response and the spec
rule broken. Each valid refresh is authorised with the token the previous reply issued.

  --base-url URL         the server, e.g. https://staging.example.com; default $LONGBRIDGE_HTTP_URL
                         (or $LONGPORT_HTTP_URL); never a production host by default
  --access-token T       the token to start from, sent as Authorization; default $LONGBRIDGE_ACCESS_TOKEN
                         (prefer it: arguments show in ps and CI logs), else a placeholder.
                         A valid refresh REPLACES this token: use a throwaway one.
  --token-out FILE       keep the last token issued in FILE (mode 0600, written atomically);
                         when FILE exists the run starts from the token in it
  --operation ID         check one operation, by operationId or method: refreshAccessToken (GET),
                         refreshToken (POST); default both
  --channel C            Account-Channel of the POST's valid refresh; repeat for several
                         (default ${DEFAULT_CHANNEL}; a real account belongs to one channel)
  --aaid A               aaid of the POST's valid refresh (default ${DEFAULT_AAID})
  --sign                 sign every request with $LONGBRIDGE_APP_KEY and $LONGBRIDGE_APP_SECRET, and check
                         that an unsigned request, a bad signature and a replay are refused
  --expiry-tolerance D   how far the granted expired_at may be from the one asked for (default 5m;
                         units d h m s); further off is a warning, a failure with --strict
  --json                 print the report as JSON instead of text
  --json-file PATH       also write the JSON report to PATH
  --spec PATH            openapi.yaml or openapi.json to check against (default: the package's own)
  --timeout-ms N         per request (default ${DEFAULT_TIMEOUT_MS})
  --strict               count warnings as failures
  --help                 this text

Exit status: 0 every check passed, 1 a check failed, 2 bad arguments or unusable spec,
13 the server could not be reached (the cause on one line).`;

export const PLACEHOLDER_TOKEN = 'contract-suite-placeholder-token';

export interface CliOptions {
  suite: ContractOptions;
  json: boolean;
  jsonFile?: string;
  help: boolean;
}

/** Throws an Error with a one-line reason for bad arguments. */
export function parseCliArgs(argv: string[], env: Record<string, string | undefined> = process.env): CliOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      'base-url': { type: 'string' },
      'access-token': { type: 'string' },
      'token-out': { type: 'string' },
      operation: { type: 'string', multiple: true },
      channel: { type: 'string', multiple: true },
      aaid: { type: 'string' },
      sign: { type: 'boolean', default: false },
      'expiry-tolerance': { type: 'string' },
      json: { type: 'boolean', default: false },
      'json-file': { type: 'string' },
      spec: { type: 'string' },
      'timeout-ms': { type: 'string' },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { suite: { baseUrl: '', accessToken: '' }, json: false, help: true };
  // Not echoed: a stray argument is often a token pasted without its flag.
  if (positionals.length > 0) throw new Error(`unexpected argument (${positionals[0]!.length} characters, not shown); every option takes a --flag`);
  // The CLIs' one resolver, without its fall-backs to the production hosts (region, default):
  // the suite's valid refreshes really refresh, so the server is always named.
  const host = chooseBaseUrl({ ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}) }, env);
  if (host.source !== '--base-url' && !(BASE_URL_ENV as readonly string[]).includes(host.source)) {
    throw new Error('--base-url is required (or set LONGBRIDGE_HTTP_URL)');
  }
  const baseUrl = host.baseUrl;
  const timeoutMs = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs <= 0)) {
    throw new Error(`--timeout-ms must be a whole number of milliseconds, got ${JSON.stringify(values['timeout-ms'])}`);
  }
  const suite: ContractOptions = {
    baseUrl,
    accessToken: values['access-token'] || env.LONGBRIDGE_ACCESS_TOKEN || PLACEHOLDER_TOKEN,
    strict: values.strict,
  };
  if (values.sign) {
    const appKey = env.LONGBRIDGE_APP_KEY;
    const appSecret = env.LONGBRIDGE_APP_SECRET;
    if (!appKey || !appSecret) throw new Error('--sign needs LONGBRIDGE_APP_KEY and LONGBRIDGE_APP_SECRET in the environment (there is no flag for the secret)');
    suite.sign = { appKey, appSecret };
  }
  if (values['token-out'] !== undefined) suite.tokenFile = values['token-out'];
  if (values.operation !== undefined) suite.operations = values.operation;
  if (values.channel !== undefined) suite.channels = values.channel;
  if (values.aaid !== undefined) suite.aaid = values.aaid;
  if (values.spec !== undefined) suite.specPath = values.spec;
  if (values['expiry-tolerance'] !== undefined) suite.expiryToleranceMs = parseDuration(values['expiry-tolerance'], '--expiry-tolerance');
  if (timeoutMs !== undefined) suite.timeoutMs = timeoutMs;
  return { suite, json: values.json, ...(values['json-file'] ? { jsonFile: values['json-file'] } : {}), help: false };
}
