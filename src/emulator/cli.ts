// `npm run emulator -- [--port 4011] [--app-key K --app-secret S] [--latency-ms 20]
// [--initial-token T] [--expires-at ISO] [--rate-limited N]`: starts the emulator on
// 127.0.0.1, prints its URL and the initial token, logs one line per request, and stops on
// Ctrl-C (exit 0). A busy port or a bad flag: a message and exit 1 / 2.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../errors/invalid-input-error.js';
import { startEmulator, type EmulatorOptions, type EmulatorRequest } from './emulator.js';

export const DEFAULT_EMULATOR_PORT = 4011;

export const USAGE = `Usage: npm run emulator -- [options]

A local emulator of the Longbridge token semantics on 127.0.0.1: each refresh issues a new
token valid until the requested expired_at and kills the token that authorised it (401004
afterwards). Both GET /v1/token/refresh and POST /v1/openapi/token/refresh.

  --port N            port on 127.0.0.1 (default ${DEFAULT_EMULATOR_PORT}; 0: a free one)
  --app-key K         with --app-secret: verify every request's signature with this key
  --app-secret S      (made-up values: the emulator is not the live service)
  --latency-ms N      delay every reply by N ms (default 0)
  --initial-token T   the first live token (default: a random one, printed)
  --expires-at ISO    when the first token expires (default: in 90 days)
  --rate-limited N    answer the first N requests with HTTP 429 (code 429002)
  --help              this text`;

export interface EmulatorCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Starts the emulator as the command line says; resolves the running emulator, or an exit code. */
export async function runEmulatorCli(argv: string[], { out, err }: EmulatorCliIo): Promise<{ close(): Promise<void> } | number> {
  let options: EmulatorOptions;
  try {
    options = parseEmulatorArgs(argv);
  } catch (error) {
    if (error === 'help') {
      out(USAGE);
      return 0;
    }
    err(`error: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const port = options.port ?? DEFAULT_EMULATOR_PORT;
  let emulator;
  try {
    emulator = await startEmulator({ ...options, port, onRequest: (request) => out(describeRequest(request)) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      err(`error: port ${port} on 127.0.0.1 is already in use; choose another with --port N`);
      return 1;
    }
    if (error instanceof InvalidInputError) {
      err(`error: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const { url, initialToken, initialExpiresAt } = emulator;
  out(`Longbridge token emulator listening on ${url}`);
  out(`  initial token: ${initialToken}`);
  out(`  expires at:    ${new Date(initialExpiresAt).toISOString()}`);
  out(`  signatures:    ${options.appKey ? `verified with app key ${options.appKey}` : 'not checked (--app-key K --app-secret S to verify them)'}`);
  out(`  latency:       ${options.latencyMs ?? 0} ms`);
  out(`Try: LONGBRIDGE_ACCESS_TOKEN=${initialToken} npm run -s token -- refresh-access --base-url ${url}`);
  out('Ctrl-C stops it.');
  return emulator;
}

function parseEmulatorArgs(argv: string[]): EmulatorOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'app-key': { type: 'string' },
      'app-secret': { type: 'string' },
      'latency-ms': { type: 'string' },
      'initial-token': { type: 'string' },
      'expires-at': { type: 'string' },
      'rate-limited': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw 'help';
  if (positionals.length > 0) throw new Error(`unexpected argument ${JSON.stringify(positionals[0])}; every option takes a --flag`);
  const options: EmulatorOptions = {};
  if (values.port !== undefined) options.port = wholeNumber('--port', values.port);
  if (values['latency-ms'] !== undefined) options.latencyMs = wholeNumber('--latency-ms', values['latency-ms']);
  if (values['rate-limited'] !== undefined) options.rateLimited = wholeNumber('--rate-limited', values['rate-limited']);
  if (values['app-key'] !== undefined) options.appKey = values['app-key'];
  if (values['app-secret'] !== undefined) options.appSecret = values['app-secret'];
  if ((options.appKey === undefined) !== (options.appSecret === undefined)) throw new Error('give both --app-key and --app-secret, or neither');
  if (values['initial-token'] !== undefined) options.initialToken = values['initial-token'];
  if (values['expires-at'] !== undefined) options.initialExpiresAt = values['expires-at'];
  return options;
}

function wholeNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new Error(`${flag} must be a whole number, got ${JSON.stringify(text)}`);
  return value;
}

/** One log line; tokens shortened to their last 6 characters. */
function describeRequest(request: EmulatorRequest): string {
  const tail = (token: string | undefined) => (token ? `…${token.slice(-6)}` : 'none');
  const what =
    request.issued !== undefined
      ? `refreshed: token ${tail(request.token)} replaced by ${tail(request.issued.token)} (expires ${new Date(request.issued.expiresAt).toISOString()})`
      : `token ${tail(request.token)} (${request.tokenState})`;
  return `${new Date(request.at).toISOString()} ${request.method} ${request.path} → ${request.status} code ${request.code}: ${what}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runEmulatorCli(process.argv.slice(2), { out: (line) => console.log(line), err: (line) => console.error(line) });
  if (typeof result === 'number') process.exitCode = result;
  else {
    for (const name of ['SIGINT', 'SIGTERM'] as const) {
      process.once(name, () =>
        void result.close().then(() => {
          console.log('emulator stopped');
          process.exitCode = 0;
        }),
      );
    }
  }
}
