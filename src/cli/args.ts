// The command line: `refresh` / `refresh-access` / `help`, flags parsed with node:util parseArgs
// (strict: an unknown flag, a missing value or a flag given twice is a usage error).
import { parseArgs } from 'node:util';
import { DEFAULT_TOKEN_LIFETIME_MS } from '../index.js';
import type { HostFlags } from './base-url.js';

export { CN_BASE_URL, GLOBAL_BASE_URL, REGIONS } from './base-url.js';
/** The official SDKs' default lifetime, as the client's. */
export const DEFAULT_EXPIRES_IN = `${DEFAULT_TOKEN_LIFETIME_MS / 86_400_000}d`;

/** A bad command line; nothing was sent. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Command = 'refresh' | 'refresh-access';

/** Where the access token comes from when a flag says so; otherwise the environment. */
export type TokenFlag = { kind: 'argument'; value: string } | { kind: 'stdin' } | { kind: 'file'; path: string };

export interface RefreshOptions {
  command: Command;
  aaid?: string;
  channel?: string;
  /** What to pass as `expiredAt`: a Date from --expires-in, the --expired-at text, or undefined (client default). */
  expiredAt?: Date | string;
  /** The flag `expiredAt` came from, to name it in errors. */
  expiryFlag: '--expires-in' | '--expired-at';
  /** --base-url, --region, --cn as given; src/cli/base-url.ts picks the host with the environment. */
  host: HostFlags;
  timeoutMs?: number;
  token?: TokenFlag;
}

export type Invocation =
  | { action: 'help' }
  | { action: 'usage' } // no arguments at all
  | { action: 'version' }
  | { action: 'run'; options: RefreshOptions }
  | { action: 'rotate'; argv: readonly string[] }; // src/cli/rotate.ts parses the rest

export const CLI_OPTIONS = {
  aaid: { type: 'string' },
  channel: { type: 'string' },
  'expires-in': { type: 'string' },
  'expired-at': { type: 'string' },
  'base-url': { type: 'string' },
  region: { type: 'string' },
  cn: { type: 'boolean' },
  'timeout-ms': { type: 'string' },
  'access-token': { type: 'string' },
  'access-token-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

const COMMANDS: readonly string[] = ['refresh', 'refresh-access', 'help'];

/** Parses argv (without node and the script). Throws UsageError; `now` is ms since the epoch. */
export function parseCommandLine(argv: readonly string[], now: number): Invocation {
  if (argv.length === 0) return { action: 'usage' };
  if (argv[0] === 'rotate') return { action: 'rotate', argv: argv.slice(1) };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: CLI_OPTIONS, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    throw new UsageError(parseArgsMessage((error as Error).message));
  }
  const { values, positionals, tokens } = parsed;
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  if (values.help || positionals[0] === 'help') return { action: 'help' };
  if (values.version) return { action: 'version' };

  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError('no command: use "refresh" or "refresh-access"');
  if (!COMMANDS.includes(command)) {
    throw new UsageError(`unknown command ${shown(command)}: use "refresh" or "refresh-access"`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${shown(extra[0]!)}`);

  const options: RefreshOptions = { command: command as Command, expiryFlag: '--expires-in', host: {} };
  if (command === 'refresh') {
    if (values.aaid === undefined) throw new UsageError('refresh needs --aaid ID (the account the new token is for)');
    if (values.channel === undefined) throw new UsageError('refresh needs --channel lb|pspl_sg (sent as Account-Channel)');
    options.aaid = values.aaid;
    options.channel = values.channel;
  } else {
    for (const flag of ['aaid', 'channel'] as const) {
      if (values[flag] !== undefined) {
        throw new UsageError(`refresh-access takes no --${flag}: the live form (GET /v1/token/refresh) sends none; "refresh" is the 2022 form (POST) that does`);
      }
    }
  }

  if (values['expires-in'] !== undefined && values['expired-at'] !== undefined) {
    throw new UsageError('--expires-in and --expired-at exclude each other: give one');
  }
  if (values['expired-at'] !== undefined) {
    options.expiredAt = values['expired-at'];
    options.expiryFlag = '--expired-at';
  } else if (values['expires-in'] !== undefined) {
    options.expiredAt = new Date(now + parseDuration(values['expires-in'], '--expires-in'));
  } else if (command === 'refresh') {
    // refreshToken needs an expiry; refresh-access leaves the default (now + 90 days) to the client.
    options.expiredAt = new Date(now + parseDuration(DEFAULT_EXPIRES_IN, '--expires-in'));
  }

  if (values['base-url'] !== undefined) options.host.baseUrl = values['base-url'];
  if (values.region !== undefined) options.host.region = values.region;
  if (values.cn) options.host.cn = true;

  if (values['timeout-ms'] !== undefined) {
    const text = values['timeout-ms'];
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 2_147_483_647) {
      throw new UsageError(`--timeout-ms must be a whole number of milliseconds from 1 to 2147483647, got ${shown(text)}`);
    }
    options.timeoutMs = Number(text);
  }

  const tokenArg = values['access-token'];
  const tokenFile = values['access-token-file'];
  if (tokenArg !== undefined && tokenFile !== undefined) {
    throw new UsageError('--access-token and --access-token-file exclude each other: give one');
  }
  if (tokenFile !== undefined) {
    if (tokenFile === '') throw new UsageError('--access-token-file needs a path');
    options.token = { kind: 'file', path: tokenFile };
  } else if (tokenArg === '-') {
    options.token = { kind: 'stdin' };
  } else if (tokenArg !== undefined) {
    options.token = { kind: 'argument', value: tokenArg };
  }
  return { action: 'run', options };
}

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;

/** `90d`, `12h`, `30m`, `3600s`, or a sum such as `1d12h`: milliseconds, > 0. */
export function parseDuration(text: string, flag: string): number {
  const problem = () =>
    new UsageError(`${flag} must be a number with a unit d, h, m or s, such as 90d, 12h, 30m, 3600s or 1d12h; got ${shown(text)}`);
  if (!/^(\d+[dhms])+$/.test(text)) throw problem();
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([dhms])/g)) ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  if (ms <= 0) throw new UsageError(`${flag} must be longer than zero, got ${shown(text)}`);
  // Date's range ends 8.64e15 ms after the epoch; anything near it is a typo.
  if (!Number.isSafeInteger(ms) || ms > 100 * 365 * UNIT_MS.d) throw new UsageError(`${flag} is too long (over 100 years): ${shown(text)}`);
  return ms;
}

/**
 * A user's argument, quoted for an error message, when it looks like something typed by hand:
 * a word of lowercase letters, digits and dashes (a command, a flag, a unit), or a number with
 * a unit. Anything else may be a misplaced token, and is described by its length only, so it
 * never lands in a terminal's scrollback or a CI log.
 */
export function shown(text: string): string {
  return /^-{0,2}[a-z0-9][a-z0-9-]{0,39}$/.test(text) || /^[\d:.+-]{1,40}[a-z]{0,3}$/i.test(text)
    ? JSON.stringify(text)
    : `(an argument of ${text.length} characters, not shown: if it was your token, set LONGBRIDGE_ACCESS_TOKEN instead)`;
}

/**
 * parseArgs' message, on one line, without its advice about positionals, and with the
 * option it names passed through `shown` (an unknown "--…" may be a misplaced token).
 */
function parseArgsMessage(text: string): string {
  return text
    .replace(/\. To specify a positional argument[\s\S]*$/, '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/^Unknown option '([^]*?)'(?=$|\.)/, (_, option: string) => `unknown option ${shown(option)}`);
}
