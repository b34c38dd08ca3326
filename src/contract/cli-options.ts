// The command line of the contract suite: `--base-url URL [--access-token T] [--channel lb]
// [--aaid A] [--json] [--json-file PATH] [--spec PATH] [--timeout-ms N] [--strict]`.
import { parseArgs } from 'node:util';
import { DEFAULT_AAID, DEFAULT_CHANNEL, DEFAULT_TIMEOUT_MS, type ContractOptions } from './run.js';

export const USAGE = `Usage: longbridge-token-contract --base-url URL [options]
       npm run contract -- --base-url URL [options]

Checks a server against the refresh-token contract (openapi.yaml): a valid refresh, then one
request for each rule the spec sets on the request; prints each check, pass or fail, and for a
failure the exact request (Authorization redacted), the response and the spec rule broken.

  --base-url URL       the server, e.g. https://staging.example.com (required)
  --access-token T     sent as Authorization; default $LONGBRIDGE_ACCESS_TOKEN, else a placeholder.
                       The valid refresh, if honoured, REPLACES this token: use a throwaway one.
  --channel C          Account-Channel of the valid refresh (default ${DEFAULT_CHANNEL})
  --aaid A             aaid of the valid refresh (default ${DEFAULT_AAID})
  --json               print the report as JSON instead of text
  --json-file PATH     also write the JSON report to PATH
  --spec PATH          openapi.yaml or openapi.json to check against (default: the package's own)
  --timeout-ms N       per request (default ${DEFAULT_TIMEOUT_MS})
  --strict             count warnings as failures
  --help               this text

Exit status: 0 every check passed, 1 a check failed, 2 bad arguments or unusable spec.`;

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
      channel: { type: 'string' },
      aaid: { type: 'string' },
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
  if (!values['base-url']) throw new Error('--base-url is required');
  const timeoutMs = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs <= 0)) {
    throw new Error(`--timeout-ms must be a whole number of milliseconds, got ${JSON.stringify(values['timeout-ms'])}`);
  }
  const suite: ContractOptions = {
    baseUrl: values['base-url'],
    accessToken: values['access-token'] || env.LONGBRIDGE_ACCESS_TOKEN || PLACEHOLDER_TOKEN,
    strict: values.strict,
  };
  if (values.channel !== undefined) suite.channel = values.channel;
  if (values.aaid !== undefined) suite.aaid = values.aaid;
  if (values.spec !== undefined) suite.specPath = values.spec;
  if (timeoutMs !== undefined) suite.timeoutMs = timeoutMs;
  return { suite, json: values.json, ...(values['json-file'] ? { jsonFile: values['json-file'] } : {}), help: false };
}
