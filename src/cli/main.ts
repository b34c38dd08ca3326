// The `longbridge-token` CLI as a function: main(argv, env, io) → exit code. It never throws and
// never calls process.exit, so tests run it in-process; src/cli/bin.ts is the process entry.
import { readFileSync } from 'node:fs';
import { createTokenClient, type AccountChannel, type TokenClient, type TokenClientOptions } from '../index.js';
import { parseCommandLine, UsageError, type RefreshOptions } from './args.js';
import { BaseUrlChoiceError, chooseBaseUrl } from './base-url.js';
import { ENV_NAMES, resolveCredentials, type Env, type Stdin } from './credentials.js';
import { EXIT } from './exit-codes.js';
import { HELP } from './help.js';
import { proxyAwareFetch } from './proxy-fetch.js';
import { rotate } from './rotate.js';
import { describeFailure, Interrupted, OutputFailed, redact, type RunContext } from './report.js';
import { ignore, written } from './write.js';

/** process.stdout / process.stderr, or a test's stand-in: `callback` reports whether the write landed. */
export interface Writer {
  write(chunk: string, callback: (error?: Error | null) => void): unknown;
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
  /** The fetch the client uses; default one that honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY in `env`. */
  fetch?: typeof globalThis.fetch;
}

export async function main(argv: readonly string[], env: Env, io: CliIo): Promise<number> {
  // Every secret the run may meet is scrubbed from stderr: the credentials in the environment
  // from the start (a usage error may quote one), then the token and secret in use, and each
  // request signature as it is sent (a server may echo it).
  const secrets: string[] = [...ENV_NAMES.accessToken, ...ENV_NAMES.appSecret].map((name) => env[name] ?? '');
  const say = (line: string) => void io.stderr.write(`${redact(line, secrets)}\n`, ignore);
  let context: RunContext | undefined;
  try {
    const invocation = parseCommandLine(argv, (io.now ?? Date.now)());
    switch (invocation.action) {
      case 'help':
        await written(io.stdout, HELP).catch(ignore);
        return EXIT.ok;
      case 'usage':
        io.stderr.write(HELP, ignore);
        return EXIT.usage;
      case 'version':
        await written(io.stdout, `${packageVersion()}\n`).catch(ignore);
        return EXIT.ok;
      case 'rotate':
        return await rotate(invocation.argv, env, io, HELP);
    }
    const options = invocation.options;
    const host = hostOf(options, env);
    if (host.warning) say(`warning: ${host.warning}`);
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
        baseUrl: host.source,
        timeoutMs: '--timeout-ms',
      },
    };
    const clientOptions: TokenClientOptions & { accountChannel: AccountChannel } = {
      accessToken: credentials.accessToken,
      // Only `refresh` sends Account-Channel; the client needs a valid one regardless.
      accountChannel: (options.channel ?? 'lb') as AccountChannel,
      baseUrl: host.baseUrl,
      fetch: recordingSignatures(io.fetch ?? proxyAwareFetch(env), secrets),
    };
    if (credentials.appKey !== undefined) {
      clientOptions.appKey = credentials.appKey;
      clientOptions.appSecret = credentials.appSecret;
    }
    if (options.timeoutMs !== undefined) clientOptions.timeoutMs = options.timeoutMs;
    const client = createTokenClient(clientOptions);
    if (io.signal?.aborted) throw new Interrupted();
    context.requestStarted = true;
    const data = await untilAborted(call(client, options, io.signal), io.signal);
    secrets.push(data.token);
    await written(io.stdout, `${JSON.stringify(data, null, 2)}\n`).catch((error: unknown) => {
      throw new OutputFailed(typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : String(error));
    });
    return EXIT.ok;
  } catch (error) {
    const failure = describeFailure(error, context);
    for (const line of failure.lines) say(line);
    return failure.exitCode;
  }
}

function hostOf(options: RefreshOptions, env: Env) {
  try {
    return chooseBaseUrl(options.host, env);
  } catch (error) {
    throw error instanceof BaseUrlChoiceError ? new UsageError(error.message) : error;
  }
}

/**
 * `fetch`, noting each request's X-Api-Signature among the secrets before it goes out, so that a
 * server echoing it back in a message never gets it printed.
 */
function recordingSignatures(fetch: typeof globalThis.fetch, secrets: string[]): typeof globalThis.fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const signature = headers.get('X-Api-Signature');
    if (signature !== null) secrets.push(signature, /Signature=([0-9a-f]+)/i.exec(signature)?.[1] ?? '');
    return fetch(input, init);
  };
}

function call(client: TokenClient, options: RefreshOptions, signal: AbortSignal | undefined) {
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
