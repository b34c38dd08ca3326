// The `longbridge-token` CLI as a function: main(argv, env, io) → exit code. It never throws and
// never calls process.exit, so tests run it in-process; src/cli.ts is the process entry.
import { readFileSync } from 'node:fs';
import { createTokenClient, type TokenClientOptions } from '../index.js';
import { parseCommandLine, type RefreshOptions } from './args.js';
import { resolveCredentials, type Env, type Stdin } from './credentials.js';
import { EXIT } from './exit-codes.js';
import { HELP } from './help.js';
import { describeFailure, redact, type RunContext } from './report.js';

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
    const credentials = await resolveCredentials(options.token, env, stdin);
    secrets.push(credentials.accessToken);
    if (credentials.appSecret !== undefined) secrets.push(credentials.appSecret);
    for (const warning of credentials.warnings) say(`warning: ${warning}`);

    context = {
      command: options.command,
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
    const data = await call(client, options);
    io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return EXIT.ok;
  } catch (error) {
    const failure = describeFailure(error, context);
    for (const line of failure.lines) say(line);
    return failure.exitCode;
  }
}

function call(client: ReturnType<typeof createTokenClient>, options: RefreshOptions) {
  if (options.command === 'refresh') {
    return client.refreshToken({ aaid: options.aaid!, expiredAt: options.expiredAt! });
  }
  return client.refreshAccessToken(options.expiredAt === undefined ? {} : { expiredAt: options.expiredAt });
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
