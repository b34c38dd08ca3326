// Where the CLI's secrets come from: the access token from the environment
// (LONGBRIDGE_ACCESS_TOKEN, else the official SDK's LONGPORT_ACCESS_TOKEN), a file, stdin, or, with
// a warning, an argument; the app key and secret from the environment only. An empty variable
// counts as unset. A missing or half-given credential is a usage error naming the variables.
import { readFile, stat } from 'node:fs/promises';
import { UsageError, type TokenFlag } from './args.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** What the CLI reads stdin from; only touched for `--access-token -`. */
export interface Stdin extends AsyncIterable<string | Uint8Array> {
  isTTY?: boolean;
}

export const ENV_NAMES = {
  accessToken: ['LONGBRIDGE_ACCESS_TOKEN', 'LONGPORT_ACCESS_TOKEN'],
  appKey: ['LONGBRIDGE_APP_KEY', 'LONGPORT_APP_KEY'],
  appSecret: ['LONGBRIDGE_APP_SECRET', 'LONGPORT_APP_SECRET'],
} as const;

export interface Credentials {
  accessToken: string;
  /** Names where the token came from, for error messages: an env var, a flag. */
  accessTokenSource: string;
  /** Both or neither: signing is on when both are set. */
  appKey?: string;
  appSecret?: string;
  appKeySource?: string;
  appSecretSource?: string;
  warnings: string[];
}

const MAX_TOKEN_BYTES = 64 * 1024;

export async function resolveCredentials(flag: TokenFlag | undefined, env: Env, stdin: () => Stdin): Promise<Credentials> {
  const warnings: string[] = [];
  let accessToken: string;
  let accessTokenSource: string;
  if (flag?.kind === 'argument') {
    warnings.push(
      `--access-token puts the token in your shell history and in the process list; set ${ENV_NAMES.accessToken[0]} instead, ` +
        'or use --access-token-file PATH or --access-token - (stdin)',
    );
    accessToken = flag.value;
    accessTokenSource = '--access-token';
  } else if (flag?.kind === 'file') {
    accessToken = await readTokenFile(flag.path, warnings);
    accessTokenSource = `--access-token-file ${flag.path}`;
  } else if (flag?.kind === 'stdin') {
    accessToken = await readTokenStdin(stdin());
    accessTokenSource = '--access-token - (stdin)';
  } else {
    const found = fromEnv(env, ENV_NAMES.accessToken);
    if (!found) {
      throw new UsageError(
        `no access token: set ${ENV_NAMES.accessToken[0]} (or ${ENV_NAMES.accessToken[1]}), ` +
          'or pass --access-token-file PATH or --access-token - to read it from stdin',
      );
    }
    [accessToken, accessTokenSource] = found;
  }
  if (accessToken === '') throw new UsageError(`the access token from ${accessTokenSource} is empty`);
  const keys = resolveAppKeys(env);
  return { accessToken, accessTokenSource, ...keys, warnings: [...warnings, ...keys.warnings] };
}

/** The app key and secret from the environment: both (requests are signed) or neither. Throws UsageError for one alone. */
export function resolveAppKeys(env: Env): Omit<Credentials, 'accessToken' | 'accessTokenSource'> {
  const warnings: string[] = [];
  const key = fromEnv(env, ENV_NAMES.appKey);
  const secret = fromEnv(env, ENV_NAMES.appSecret);
  if (!key && !secret) return { warnings };
  if (!key || !secret) {
    const [have, missing] = key ? [key[1], ENV_NAMES.appSecret] : [secret![1], ENV_NAMES.appKey];
    throw new UsageError(
      `${have} is set but ${missing[0]} (or ${missing[1]}) is not: signing needs both the app key and the app secret; set both, or neither for unsigned requests`,
    );
  }
  if (key[1].split('_')[0] !== secret[1].split('_')[0]) {
    warnings.push(`signing with ${key[1]} and ${secret[1]}: a key and a secret from different variable families; check they belong together`);
  }
  return {
    appKey: key[0],
    appSecret: secret[0],
    appKeySource: key[1],
    appSecretSource: secret[1],
    warnings,
  };
}

/** The first non-empty variable of `names`: `[value, name]`. */
function fromEnv(env: Env, names: readonly string[]): [string, string] | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return [value, name];
  }
  return undefined;
}

async function readTokenFile(path: string, warnings: string[]): Promise<string> {
  let text: string;
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    // Not a path that exists: it may be a token given in the wrong place, so it is not echoed.
    throw new UsageError(
      `--access-token-file: cannot read the file (${errorCode(error)}); the path is not shown, in case it is a token: ` +
        `to pass the token itself, set ${ENV_NAMES.accessToken[0]} or use --access-token -`,
    );
  }
  try {
    if (!info.isFile()) throw new UsageError(`--access-token-file ${path}: not a regular file`);
    if (info.size > MAX_TOKEN_BYTES) throw new UsageError(`--access-token-file ${path}: ${info.size} bytes is too large for a token`);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
      warnings.push(`${path} is readable by other users (mode ${mode}): chmod 600 ${path}`);
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--access-token-file ${path}: cannot read it (${errorCode(error)})`);
  }
  return text.trim();
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'read failed';
}

async function readTokenStdin(stdin: Stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    size += buffer.length;
    if (size > MAX_TOKEN_BYTES) throw new UsageError('--access-token -: stdin is too large for a token');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}
