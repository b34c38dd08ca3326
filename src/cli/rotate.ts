// `longbridge-token rotate --token-file PATH [--if-expires-within 7d]`: keeps a token file
// fresh from cron or a systemd timer. It reads the JSON that FileTokenStore writes (a raw
// token file is converted once, with --expires-at), refreshes only when the token expires
// within the window, through a TokenManager on that FileTokenStore (so it takes the same lock
// as every other member sharing the file), and writes the successor atomically before it
// prints anything or exits 0.
import { lchownSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { clientRefresh, TokenManager, TokenStoreError, type StoredToken, type TokenErrorContext } from '../index.js';
import { isCredential } from '../credential.js';
import { toEpochMs } from '../instant.js';
import { FileTokenStore } from '../lifecycle/file-token-store.js';
import { CLI_OPTIONS, parseCommandLine, parseDuration, shown, UsageError } from './args.js';
import { BaseUrlChoiceError, chooseBaseUrl } from './base-url.js';
import { ENV_NAMES, resolveAppKeys, type Env } from './credentials.js';
import { EXIT } from './exit-codes.js';
import type { CliIo, Writer } from './main.js';
import { proxyAwareFetch } from './proxy-fetch.js';
import { describeFailure, Interrupted, OutputFailed, redact, type RunContext } from './report.js';
import { ignore, written } from './write.js';

/** `--if-expires-within` when not given: the TokenManager's default refresh window. */
export const DEFAULT_ROTATE_WINDOW = '7d';

/**
 * What a run did: a field of `--output json`, a line on stderr with `--output token`.
 * `already rotated`: another process sharing the file rotated the token while this run waited
 * for the lock; this run sent nothing and reports the file's new token. `rotated, not saved`:
 * this run refreshed but the file could not take the new token (exit 16, not 0): the output is
 * then one of the token's only copies.
 */
export type RotateOutcome = 'rotated' | 'already rotated' | 'not due' | 'rotated, not saved';

export interface RotateOptions {
  tokenFile: string;
  /** Rotate when the token expires within this many ms. */
  windowMs: number;
  /** `--expires-at`: the expiry of a raw token file being converted. */
  rawExpiresAt?: number;
  output: 'json' | 'token';
  /** What `refresh-access` would do with the same flags: host, timeout, lifetime of the new token. */
  refresh: { baseUrl: string; baseUrlSource: string; hostWarning?: string; timeoutMs?: number; lifetimeMs?: number };
}

/** Flags of rotate alone; the host, timeout and --expires-in flags are refresh-access's, parsed by the same code. */
const ROTATE_OPTIONS = {
  'token-file': { type: 'string' },
  'if-expires-within': { type: 'string' },
  'expires-at': { type: 'string' },
  output: { type: 'string' },
} as const;
/** Flags rotate refuses: its token comes from --token-file, and it uses the live form. */
const NOT_FOR_ROTATE = ['access-token', 'access-token-file', 'aaid', 'channel', 'expired-at'];

/** Parses `rotate`'s arguments (after the word `rotate`). Throws UsageError. */
export function parseRotateArgs(argv: readonly string[], env: Env, now: number): RotateOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...CLI_OPTIONS, ...ROTATE_OPTIONS }, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    throw new UsageError(`rotate: ${(error as Error).message.split('\n')[0]}`);
  }
  const { values, positionals, tokens } = parsed;
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`rotate: unexpected argument ${shown(positionals[0]!)}`);
  const passOn: string[] = ['refresh-access'];
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (NOT_FOR_ROTATE.includes(token.name)) {
      throw new UsageError(`rotate takes no --${token.name}: it reads the token from --token-file and refreshes with the live form (GET /v1/token/refresh)`);
    }
    if (token.name in ROTATE_OPTIONS) {
      if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once`);
      seen.add(token.name);
    } else {
      passOn.push(token.value === undefined ? `--${token.name}` : `--${token.name}=${token.value}`);
    }
  }
  const tokenFile = values['token-file'];
  if (tokenFile === undefined || tokenFile === '') throw new UsageError('rotate needs --token-file PATH (the JSON file the token store keeps)');
  const output = values.output ?? 'json';
  if (output !== 'json' && output !== 'token') throw new UsageError(`--output must be json or token, got ${shown(output)}`);

  // The shared flags, checked exactly as refresh-access checks them.
  const invocation = parseCommandLine(passOn, now);
  if (invocation.action !== 'run') throw new UsageError('rotate: unexpected arguments');
  const shared = invocation.options;
  let host;
  try {
    host = chooseBaseUrl(shared.host, env);
  } catch (error) {
    throw error instanceof BaseUrlChoiceError ? new UsageError(error.message) : error;
  }
  const options: RotateOptions = {
    tokenFile,
    windowMs: parseDuration(values['if-expires-within'] ?? DEFAULT_ROTATE_WINDOW, '--if-expires-within'),
    output,
    refresh: { baseUrl: host.baseUrl, baseUrlSource: host.source },
  };
  if (host.warning) options.refresh.hostWarning = host.warning;
  if (shared.timeoutMs !== undefined) options.refresh.timeoutMs = shared.timeoutMs;
  if (shared.expiredAt instanceof Date) options.refresh.lifetimeMs = shared.expiredAt.getTime() - now;
  if (values['expires-at'] !== undefined) {
    const ms = toEpochMs(values['expires-at']);
    if (Number.isNaN(ms)) {
      throw new UsageError(`--expires-at must be an ISO 8601 date-time with a zone, such as 2027-01-01T00:00:00Z, got ${shown(values['expires-at'])}`);
    }
    options.rawExpiresAt = ms;
  }
  return options;
}

/** Runs `rotate`; never throws. */
export async function rotate(argv: readonly string[], env: Env, io: CliIo, help: string): Promise<number> {
  const secrets: string[] = [...ENV_NAMES.accessToken, ...ENV_NAMES.appSecret].map((name) => env[name] ?? '');
  const say = (line: string) => void io.stderr.write(`${redact(line, secrets)}\n`, ignore);
  const clock = io.now ?? Date.now;
  let context: RunContext | undefined;
  try {
    const options = parseRotateArgs(argv, env, clock());
    if (options === 'help') {
      await written(io.stdout, help).catch(ignore);
      return EXIT.ok;
    }
    if (options.refresh.hostWarning) say(`warning: ${options.refresh.hostWarning}`);
    const keys = resolveAppKeys(env);
    if (keys.appSecret !== undefined) secrets.push(keys.appSecret);
    for (const warning of keys.warnings) say(`warning: ${warning}`);
    const store = new FileTokenStore(options.tokenFile);
    context = {
      command: 'rotate',
      requestStarted: false,
      signed: keys.appKey !== undefined,
      fieldLabels: {
        appKey: keys.appKeySource ?? 'app key',
        appSecret: keys.appSecretSource ?? 'app secret',
        baseUrl: options.refresh.baseUrlSource,
        timeoutMs: '--timeout-ms',
        lifetimeMs: '--expires-in',
      },
    };

    const current = await readTokenFile(store, options, say);
    secrets.push(current.token);
    let held = current;
    let outcome: RotateOutcome = 'not due';
    if (current.expiresAt - clock() <= options.windowMs) {
      if (io.signal?.aborted) throw new Interrupted();
      // From here on Ctrl-C is not obeyed: a refresh cut short would lose the new token. Said
      // when it comes, so the user knows why the run goes on (a second one kills it: bin.ts).
      const deferred = () => say('interrupted: finishing the refresh and saving the new token first (interrupt again to stop at once, at the risk of losing it)');
      io.signal?.addEventListener('abort', deferred, { once: true });
      const failures: Array<{ error: unknown; phase: TokenErrorContext['phase'] }> = [];
      let refreshedAt: number | undefined; // by this run: the manager adopts another process's rotation instead where there is one
      const refresh = clientRefresh({
          accountChannel: 'lb', // not sent by the live form
          baseUrl: options.refresh.baseUrl,
          fetch: io.fetch ?? proxyAwareFetch(env),
          ...(keys.appKey !== undefined ? { appKey: keys.appKey, appSecret: keys.appSecret } : {}),
          ...(options.refresh.timeoutMs !== undefined ? { timeoutMs: options.refresh.timeoutMs } : {}),
          ...(options.refresh.lifetimeMs !== undefined ? { lifetimeMs: options.refresh.lifetimeMs } : {}),
          now: clock,
        });
      const manager = new TokenManager({
        refresh: async (...args) => {
          const next = await refresh(...args);
          refreshedAt = clock();
          return next;
        },
        store,
        refreshWindowMs: options.windowMs,
        now: clock,
        onError: (error, { phase }) => void failures.push({ error, phase }),
      });
      context.requestStarted = true;
      const token = await manager.refreshNow().finally(() => io.signal?.removeEventListener('abort', deferred));
      secrets.push(token);
      const stored = await store.load().catch(() => undefined);
      if (stored?.token !== token) {
        // The new token is live and its predecessor dead, but the file does not hold it. A
        // copy beside it (where the folder can still be written: the file itself replaced by
        // something else, made immutable, or its lock folder broken), and stdout, which the
        // cron and systemd recipes drop.
        const rescue = `${store.path}.unsaved`;
        const expiresAt = manager.expiresAt as number; // a token is held
        const rescued = await new FileTokenStore(rescue)
          .save({ token, expiresAt, ...(refreshedAt !== undefined && { issuedAt: refreshedAt }) })
          .then(() => (giveOwnerOf(store.path, rescue), true), () => false);
        const text = outputText(options.output, 'rotated, not saved', { token, expiresAt }, store.path, { unsaved_file: rescued ? rescue : null });
        const printed = await written(io.stdout, text).then(
          () => true,
          () => false,
        );
        const saveError = failures.find((failure) => failure.phase === 'save')?.error;
        say(`error: the refresh went through, but ${store.path} could not be written${saveError instanceof Error ? ` (${saveError.message})` : ''}`);
        const copies = [rescued && `in ${rescue}`, printed && (options.output === 'token' ? 'the line on stdout' : 'in the JSON on stdout')].filter(Boolean).join(', and ');
        say(
          copies
            ? `hint: the new token is ${copies}, and nowhere else: once the cause is fixed, put it into the token file${rescued ? ` (mv ${rescue} ${store.path})` : ' by hand'} now; the old token no longer works`
            : 'hint: the new token could not be kept anywhere (not in a file beside the token file, not on stdout): it is lost; get a new one from the developer console',
        );
        return EXIT['token-file'];
      }
      held = stored;
      outcome = stored.token === current.token ? 'not due' : refreshedAt !== undefined ? 'rotated' : 'already rotated';
    }

    const expiry = new Date(held.expiresAt).toISOString();
    const text = outputText(options.output, outcome, held, store.path);
    await written(io.stdout, text).catch((error: unknown) => {
      // The file holds the token already: only this copy is lost.
      throw new OutputFailed(typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : String(error));
    });
    if (options.output === 'token') {
      say(
        outcome === 'rotated'
          ? `rotated: ${store.path} now holds a new token, valid until ${expiry}`
          : outcome === 'already rotated'
            ? `already rotated: another process sharing ${store.path} rotated it; it holds a new token, valid until ${expiry}`
            : `not due: the token in ${store.path} is valid until ${expiry}, later than --if-expires-within from now`,
      );
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof OutputFailed) {
      say(`error: stdout could not take the token (${error.code}); the token file holds it, so nothing is lost`);
      return EXIT['output-failed'];
    }
    if (error instanceof TokenStoreError) {
      say(`error: ${error.message}`);
      say(
        context?.requestStarted
          ? 'hint: nothing was refreshed if the token file could not be read or locked; check the file and its folder (permissions, free space), then run again'
          : 'hint: nothing was sent; check the token file and its folder, then run again',
      );
      return EXIT['token-file'];
    }
    const failure = describeFailure(error, context);
    for (const line of failure.lines) say(line);
    return failure.exitCode;
  }
}

/** What a run prints on stdout: the token alone (`--output token`), or the JSON with the outcome (and `extra` fields). */
function outputText(output: RotateOptions['output'], outcome: RotateOutcome, held: StoredToken, tokenFile: string, extra: Record<string, unknown> = {}): string {
  if (output === 'token') return `${held.token}\n`;
  const fields = { outcome, token: held.token, expired_at: new Date(held.expiresAt).toISOString(), token_file: tokenFile, ...extra };
  return `${JSON.stringify(fields, null, 2)}\n`;
}

/**
 * Run as root, `copy` (the rescue copy, a new file: the store gave it its folder's owner) gets
 * the owner and group of the token file, so that the user whose bot reads that file can read it,
 * and keeps it once moved over the file. `lchown`: a link put in its place is not followed. Best
 * effort.
 */
export function giveOwnerOf(file: string, copy: string): void {
  if (process.getuid?.() !== 0) return;
  try {
    const stats = statSync(file);
    if (stats.isFile()) lchownSync(copy, stats.uid, stats.gid);
  } catch {
    // no token file to go by (its name taken by a folder, say): the folder's owner stays
  }
}

/**
 * The token the file holds. A file holding a raw token (what `--access-token-file` reads) is
 * converted, with `--expires-at`, to the JSON FileTokenStore writes, atomically.
 */
async function readTokenFile(store: FileTokenStore, options: RotateOptions, say: (line: string) => void): Promise<StoredToken> {
  let stored: StoredToken | undefined;
  try {
    stored = await store.load();
  } catch (error) {
    if (!(error instanceof TokenStoreError && error.reason === 'corrupt')) throw error;
    const raw = (await readFile(store.path, 'utf8').catch(() => '')).trim();
    if (!isCredential(raw) || /^[[{"]/.test(raw)) throw error; // JSON gone wrong, not a raw token
    if (options.rawExpiresAt === undefined) {
      throw new UsageError(
        `${store.path} holds a raw token, not the token store's JSON: run once with --expires-at ISO (when that token expires, as the developer console shows) to convert it`,
      );
    }
    const converted = { token: raw, expiresAt: options.rawExpiresAt };
    await store.save(converted);
    say(`converted ${store.path} from a raw token to the token store's JSON (mode 0600), expiring ${new Date(converted.expiresAt).toISOString()}`);
    return converted;
  }
  if (stored === undefined) {
    throw new UsageError(
      `there is no token file at ${store.path}: write your token into it (chmod 600) and run once with --expires-at ISO (when it expires) to convert it`,
    );
  }
  if (options.rawExpiresAt !== undefined) say(`warning: --expires-at is ignored: ${store.path} already holds a token and its expiry; drop the flag`);
  return stored;
}
