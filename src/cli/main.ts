// The `longbridge-token` CLI as a function: main(argv, env, io) → exit code. It never throws and
// never calls process.exit, so tests run it in-process; src/cli/bin.ts is the process entry.
import { readFileSync } from 'node:fs';
import { createTokenClient, type TokenClientOptions } from '../index.js';
import { parseCommandLine, type RefreshOptions } from './args.js';
import { resolveCredentials, type Env, type Stdin } from './credentials.js';
import { EXIT } from './exit-codes.js';
import { HELP } from './help.js';
import { describeFailure, Interrupted, redact, type RunContext } from './report.js';

export interface Writer {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  /** Read only for `--access-token -`; default process.stdin. */
  stdin?: Stdin;
  /** The clock for --expires-in, ms since the epoch; default Date.now. */
  now?: () => number;
  /** Aborted on Ctrl-C by the process entry: the run ends with exit 130 (and the warning, once sent). */
  signal?: AbortSignal;
}

export async function main(argv: readonly string[], env: Env, io: CliIo): Promise<number> {
  const secrets: string[] = [];
  const say = (line: string) => void io.stderr.write(`${redact(line, secrets)}\n`);
  let context: RunContext | undefined;
  try {
    const invocation = parseCommandLine(argv, (io.now ?? Date.now)());
    switch (invocation.action) {
      case 'help':
        io.stdout.write(HELP);
        return EXIT.ok;
      case 'usage':
        io.stderr.write(HELP);
        return EXIT.usage;
      case 'version':
        io.stdout.write(`${packageVersion()}\n`);
        return EXIT.ok;
    }
    const options = invocation.options;
    const stdin = () => io.stdin ?? process.stdin;
    if (options.token?.kind === 'stdin' && stdin().isTTY) {
      say('reading the access token from stdin (it is echoed): paste it, then press Enter and Ctrl-D');
    }
    const credentials = await untilAborted(resolveCredentials(options.token, env, stdin), io.signal);
    secrets.push(credentials.accessToken);
    if (credentials.appSecret !== undefined) secrets.push(credentials.appSecret);
    for (const warning of credentials.warnings) say(`warning: ${warning}`);

    context = {
      command: options.command,
      requestStarted: false,
      signed: credentials.appKey !== undefined,
      fieldLabels: {
        accessToken: credentials.accessTokenSource,
        appKey: credentials.appKeySource ?? 'app key',
        appSecret: credentials.appSecretSource ?? 'app secret',
        aaid: '--aaid',
        accountChannel: '--channel',
        expiredAt: options.expiryFlag,
        baseUrl: options.baseUrlFlag,
        timeoutMs: '--timeout-ms',
      },
    };
    const clientOptions: TokenClientOptions = {
      accessToken: credentials.accessToken,
      // Only `refresh` sends Account-Channel; the client needs a valid one regardless.
      accountChannel: (options.channel ?? 'lb') as TokenClientOptions['accountChannel'],
    };
    if (credentials.appKey !== undefined) {
      clientOptions.appKey = credentials.appKey;
      clientOptions.appSecret = credentials.appSecret;
    }
    if (options.baseUrl !== undefined) clientOptions.baseUrl = options.baseUrl;
    if (options.timeoutMs !== undefined) clientOptions.timeoutMs = options.timeoutMs;
    const client = createTokenClient(clientOptions);
    if (io.signal?.aborted) throw new Interrupted();
    context.requestStarted = true;
    const data = await untilAborted(call(client, options, io.signal), io.signal);
    io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return EXIT.ok;
  } catch (error) {
    const failure = describeFailure(error, context);
    for (const line of failure.lines) say(line);
    return failure.exitCode;
  }
}

function call(client: ReturnType<typeof createTokenClient>, options: RefreshOptions, signal: AbortSignal | undefined) {
  const callOptions = signal ? { signal } : {};
  if (options.command === 'refresh') {
    return client.refreshToken({ aaid: options.aaid!, expiredAt: options.expiredAt! }, callOptions);
  }
  return client.refreshAccessToken(options.expiredAt === undefined ? {} : { expiredAt: options.expiredAt }, callOptions);
}

/** `promise`, or Interrupted as soon as `signal` aborts (the promise is left to settle unobserved). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(new Interrupted());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new Interrupted());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', abort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', abort), reject(signal.aborted ? new Interrupted() : error)),
    );
  });
}

/**
 * The package's version, from its package.json: one level up from dist/cli.js (built), two from
 * src/cli/main.ts (run by tsx). The name is checked so another package.json is never read.
 */
function packageVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'longbridge-token-api' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there: try the next
    }
  }
  return 'unknown';
}
