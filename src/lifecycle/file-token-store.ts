// Node only (node:fs): published as `longbridge-token-api/file-store`, never re-exported from
// the client entry, which must run in browsers and edge runtimes.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidInputError } from '../errors/invalid-input-error.js';
import { TokenStoreError } from '../errors/token-store-error.js';
import { isCredential } from '../credential.js';
import { toEpochMs } from '../instant.js';
import { checkStoredToken, type StoredToken, type TokenStore } from './token-store.js';

/** Owner read/write only: the file holds a live access token. */
const FILE_MODE = 0o600;
/** Mode of a directory `save` has to create. */
const DIR_MODE = 0o700;
const FORMAT_VERSION = 1;

/**
 * Keeps the token in a JSON file, so a refreshed token survives a restart:
 *
 * ```json
 * {"version":1,"token":"…","expiresAt":"2026-05-01T12:00:00.000Z"}
 * ```
 *
 * `expiresAt` is an ISO 8601 UTC string in the file (readable by people) and ms since the
 * epoch in the API.
 *
 * `save` is atomic: it writes a temp file in the same directory (`<name>.<pid>.<random>.tmp`,
 * mode 0600), fsyncs it, renames it over the file and fsyncs the directory. A crash at any
 * point leaves either the complete old file or the complete new one, never an empty or
 * partial one. Temp files of crashed processes are ignored by `load` and removed by the next
 * `save` (on the same host). Saves of one store run one after the other.
 *
 * Errors are `TokenStoreError`s naming the path; the file's content is never shown.
 */
export class FileTokenStore implements TokenStore {
  /** The token file, as an absolute path. */
  readonly path: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    if (typeof path !== 'string' || path === '') {
      throw new InvalidInputError('path', 'must be a non-empty file path string, e.g. "./.longbridge-token.json"');
    }
    this.path = resolve(path);
  }

  /** Reads the file; `undefined` when it does not exist. Rejects with TokenStoreError. */
  async load(): Promise<StoredToken | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new TokenStoreError('read-failed', `cannot read the token file ${this.path}: ${codeOf(error)}`, {
        path: this.path,
        cause: error,
      });
    }
    return this.#parse(text);
  }

  /** Replaces the file atomically with `token`. Rejects with TokenStoreError (or InvalidInputError for a bad argument). */
  save(token: StoredToken): Promise<void> {
    let record: StoredToken;
    try {
      record = checkStoredToken(token);
    } catch (error) {
      return Promise.reject(error);
    }
    const text = `${JSON.stringify({
      version: FORMAT_VERSION,
      token: record.token,
      expiresAt: new Date(record.expiresAt).toISOString(),
    })}\n`;
    const run = this.#queue.then(() => this.#write(text));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #parse(text: string): StoredToken {
    // Deliberately no `cause` and no excerpt: JSON.parse's message quotes the content.
    const corrupt = (what: string) =>
      new TokenStoreError(
        'corrupt',
        `the token file ${this.path} ${what}; restore it or delete it and start from a new token (its content is not shown: it holds a token)`,
        { path: this.path },
      );
    if (text.trim() === '') throw corrupt('is empty');
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw corrupt('is not valid JSON (truncated or corrupt)');
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw corrupt('does not hold a JSON object');
    const { version, token, expiresAt } = data as Record<string, unknown>;
    if (version !== FORMAT_VERSION) throw corrupt(`has an unknown format version (expected ${FORMAT_VERSION})`);
    if (!isCredential(token)) throw corrupt('has no valid "token"');
    const ms = typeof expiresAt === 'string' ? toEpochMs(expiresAt) : Number.NaN;
    if (Number.isNaN(ms)) throw corrupt('has no valid "expiresAt" (an ISO 8601 date-time)');
    return { token, expiresAt: ms };
  }

  async #write(text: string): Promise<void> {
    const dir = dirname(this.path);
    const name = basename(this.path);
    const temp = join(dir, `${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    let handle: FileHandle | undefined;
    let step = 'create the directory of';
    let created: string | undefined;
    try {
      created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
      step = 'write a temp file for';
      handle = await open(temp, 'wx', FILE_MODE);
      await handle.chmod(FILE_MODE); // exactly 0600, whatever the umask
      await handle.writeFile(text, 'utf8');
      await handle.sync();
      await handle.close();
      handle = undefined;
      step = 'rename the temp file over';
      await rename(temp, this.path);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw new TokenStoreError('write-failed', `cannot ${step} the token file ${this.path}: ${codeOf(error)}`, {
        path: this.path,
        cause: error,
      });
    }
    await syncDirectory(dir, this.path);
    // Folders created just now exist durably only once their parents are synced too.
    for (let at = dir; created !== undefined && at !== dirname(created); at = dirname(at)) {
      await syncDirectory(dirname(at), this.path);
    }
    await removeStaleTemps(dir, name);
  }
}

/** Makes the rename durable. Windows cannot open a directory, and does not need this. */
async function syncDirectory(dir: string, path: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // The new file is in place; only its durability across a power loss is in doubt.
    throw new TokenStoreError('write-failed', `saved the token file ${path}, but cannot fsync its directory: ${codeOf(error)}`, {
      path,
      cause: error,
    });
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Removes temp files of this token file left by processes that no longer run. Best effort. */
async function removeStaleTemps(dir: string, name: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  const prefix = `${name}.`;
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const match = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(entry.slice(prefix.length));
    if (!match) continue;
    const pid = Number(match[1]);
    if (!(pid > 0) || pid === process.pid || isRunning(pid)) continue;
    await unlink(join(dir, entry)).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

export { TokenStoreError } from '../errors/token-store-error.js';
export type { StoredToken, TokenStore } from './token-store.js';
