// Node only (node:fs): published as `longbridge-token-api/file-store`, never re-exported from
// the client entry, which must run in browsers and edge runtimes.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { describeValue, InvalidInputError } from '../errors/invalid-input-error.js';
import { TokenStoreError } from '../errors/token-store-error.js';
import { LastRead, waitUntilMoved } from './wait-for-change.js';
import { checkStoredToken, readRecord, type SaveIfResult, type StoredToken, type TokenStore, type TokenStoreLock } from './token-store.js';

/** Owner read/write only: the file holds a live access token. */
const FILE_MODE = 0o600;
/** Mode of a directory `save` has to create. */
const DIR_MODE = 0o700;
const FORMAT_VERSION = 1;
const LOCK_FORMAT_VERSION = 1;
/** A fencing value: 128 random bits in hex; also the name of the holder's folder in the lock. */
const FENCE = /^[0-9a-f]{32}$/;
/** A fence folder that left the lock, after `<file>.lock-`: broken, or released and not yet removed. */
const LEFT_FOLDER = /^[0-9a-f]{32}\.(?:broken|released)$/;
/** A taker's staging folder, after `<file>.lock-`. */
const STAGING_FOLDER = /^[0-9a-f]{32}\.new$/;
/**
 * A staging folder (`<file>.lock-<fence>.new`) lives from a taker's `mkdir` to its `rename`, a
 * few system calls; one older than this (or than the lease, if longer) was left by a taker that
 * was killed in between, and a release removes it.
 */
const STAGING_MAX_AGE_MS = 10_000;
/** How often a waiting member looks at the file when no change event came. */
export const DEFAULT_POLL_MS = 100;

export interface FileTokenStoreOptions {
  /**
   * While a member waits for another one's rotation, it watches the folder (`fs.watch`) and
   * also looks at the file and the lock this often (ms), in case an event is missed.
   * Default 100. Outside a rotation the store is never polled.
   */
  pollMs?: number;
}

/**
 * Keeps the token in a JSON file, so a refreshed token survives a restart, and lets the
 * processes of one machine that share the file refresh once per rotation:
 *
 * ```json
 * {"version":1,"token":"…","expiresAt":"2026-05-01T12:00:00.000Z","issuedAt":"2026-02-01T12:00:00.000Z"}
 * ```
 *
 * `expiresAt` and `issuedAt` are ISO 8601 UTC strings in the file (readable by people) and ms
 * since the epoch in the API. `issuedAt` (optional, see `StoredToken`) is left out when the
 * token saved has none, and ignored when missing or unreadable.
 *
 * `save` is atomic: it writes a temp file in the same directory (`<name>.<pid>.<random>.tmp`,
 * mode 0600), fsyncs it, renames it over the file and fsyncs the directory. A crash at any
 * point leaves either the complete old file or the complete new one, never an empty or
 * partial one. Temp files of crashed processes are ignored by `load` and removed by the next
 * `save` (on the same host). Saves of one store run one after the other.
 *
 * **The lock** (`lock`, for `TokenManager`'s coordination; the format, for other members):
 *
 * ```
 * <file>.lock/                  present while the lock is held (empty or absent: free)
 *   <fence>/                    the holder's folder, named by its fencing value (32 hex digits)
 *     owner.json                {"version":1,"pid":…,"host":"…","ttlMs":…,"acquiredAt":"…"}
 *     next.tmp                  the holder's next token file, renamed over <file> to save
 *     replaced                  the file that save replaced (a hard link), removed with the folder (release or break)
 * ```
 *
 * - take: look first (while `<file>.lock` holds a fence folder with a live lease, build
 *   nothing: waiting members would wake for it in vain); build
 *   `<file>.lock-<fence>.new/<fence>/owner.json`, then rename that folder to `<file>.lock`
 *   (refused while `<file>.lock` holds a fence folder; replaces an empty one); a release
 *   removes staging folders older than 10 s or the lease (their takers were killed);
 * - lease: the fence folder's mtime plus `ttlMs`; the holder renews by setting its mtime
 *   (`utimes`); a lease that ran out is broken by renaming that fence folder out of the lock
 *   (to `<file>.lock-<fence>.broken`); the next member to hold the lock saves such a folder's
 *   `next.tmp` when it is a complete token record expiring after the file's token (its holder
 *   died between its refresh and its save), then removes the folder (so does the breaker at
 *   its next lock take, if another member took the lock first; a folder whose token could not
 *   be saved, the lock lost meanwhile, stays for the next holder);
 * - save (compare-and-set): the file must still hold the token read under the lock, then the
 *   new file is written *inside the fence folder* and renamed over `<file>`: if the lock was
 *   broken meanwhile the folder is gone and the rename fails, so the fencing check and the
 *   write are one system call;
 * - release: rename the fence folder out (to `<file>.lock-<fence>.released`), remove it, then
 *   remove `<file>.lock` if it is empty; the folder of a holder killed in between is removed by
 *   the next member to take the lock (it finds `<file>.lock` emptied).
 *
 * Why not `proper-lockfile`: its lock (a `mkdir` and an mtime lease, the same idea) has no
 * fencing value, its stale-lock takeover removes the lock by path (it can remove a lock just
 * taken by another process), and a holder learns of a lost lock by callback, while the save
 * here must check the lock in the same step as the rename. Naming the holder's folder by its
 * fence gives both with `mkdir`/`rename` alone, on any local POSIX file system.
 *
 * Errors are `TokenStoreError`s naming the path; the file's content is never shown.
 */
export class FileTokenStore implements TokenStore {
  /** The token file, as an absolute path. */
  readonly path: string;
  /** The lock folder, `<path>.lock`. */
  readonly lockPath: string;
  readonly #pollMs: number;
  #queue: Promise<unknown> = Promise.resolve();
  /** The last read of the file, marked with the file's identity then (see `identity`). */
  readonly #lastRead = new LastRead<string>();
  /**
   * This store broke a lease, or left a folder of one it could not clear: its next lock take
   * looks at the folders that left the lock even if that take finds nothing broken (a breaker
   * that lost the race to take the lock, to a member whose own look came before the break).
   */
  #leftFolders = false;

  constructor(path: string, options: FileTokenStoreOptions = {}) {
    if (typeof path !== 'string' || path === '') {
      throw new InvalidInputError('path', 'must be a non-empty file path string, e.g. "./.longbridge-token.json"');
    }
    if (typeof options !== 'object' || options === null) throw new InvalidInputError('options', 'must be an object { pollMs? }');
    const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    if (typeof pollMs !== 'number' || !Number.isInteger(pollMs) || pollMs < 1) {
      throw new InvalidInputError('pollMs', `must be a whole number of ms, 1 or more, got ${typeof pollMs === 'number' ? pollMs : describeValue(pollMs)}`);
    }
    this.path = followLinks(resolve(path));
    this.lockPath = `${this.path}.lock`;
    this.#pollMs = pollMs;
  }

  /**
   * Reads the file; `undefined` when it does not exist. Rejects with TokenStoreError: a path
   * that is not a regular file (a FIFO, a device, a folder) is refused without blocking.
   *
   * System calls that do not wait for the disk run synchronously, here and in the lock and
   * the saves: reads, `open`, `write` into the page cache, `mkdir`, `rename`, `utimes`. Each
   * takes a few µs of CPU, while the same call through the thread pool (`fs/promises`) costs
   * about 0.1 ms of CPU and a wake-up of the event loop, and when 8 members share 2 cores,
   * every wake-up is a chance to wait for a core: measured, a fleet of 8 queued for exactly
   * that. The calls that wait for the disk run on the thread pool, so the event loop never
   * waits for it: the two `fsync`s of a save, and the removals of the lock's folders and of a
   * save's leftovers, which free blocks (an error path's temp file is still removed in place).
   * On a file system mounted with `discard` (many cloud disks) freeing blocks waits for the
   * device: measured in a fleet of 8, a `rename` over the token file, which freed the old file,
   * held its caller for 5 ms. So a save first keeps the file it replaces linked under another
   * name (`keepAside`), and the rename frees nothing. (A file system that stops answering would
   * block the process in the other calls; the lock needs a local POSIX file system anyway.)
   */
  async load(): Promise<StoredToken | undefined> {
    this.#lastRead.forget();
    let fd: number | undefined;
    let text: string;
    let file: string;
    try {
      // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
      fd = openSync(this.path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
      const stats = fstatSync(fd);
      file = identity(stats);
      if (!stats.isFile()) {
        throw new TokenStoreError(
          'not-a-file',
          `the token file ${this.path} is not a regular file (a FIFO, a device or a folder); point the store at a file path`,
          { path: this.path },
        );
      }
      text = readFileSync(fd, 'utf8');
    } catch (error) {
      if (error instanceof TokenStoreError) throw error;
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.#lastRead.record(undefined, ABSENT);
        return undefined;
      }
      throw new TokenStoreError('read-failed', `cannot read the token file ${this.path}: ${codeOf(error)}`, {
        path: this.path,
        cause: error,
      });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    const stored = this.#parse(text);
    this.#lastRead.record(stored?.token, file);
    return stored;
  }

  /**
   * Takes the lock for `ttlMs` (see the class comment), breaking a lock whose lease ran out;
   * `undefined` while another holder has it. Rejects with TokenStoreError `lock-failed`.
   */
  async lock(ttlMs: number): Promise<TokenStoreLock | undefined> {
    if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1) {
      throw new InvalidInputError('ttlMs', `must be a whole number of ms, 1 or more, got ${typeof ttlMs === 'number' ? ttlMs : describeValue(ttlMs)}`);
    }
    const fence = randomBytes(16).toString('hex');
    const staging = `${this.lockPath}-${fence}.new`;
    const taken = this.#lastRead.lockAttempt(); // for the wait that comes next (see waitForChange)
    let staged = false;
    // A lock folder found emptied, or a lease found stale, may mean a broken lease whose folder
    // holds a dead holder's next token, or a holder killed in its release (see clearLeftFolders);
    // so may a lease this store broke before (see #leftFolders). After a release the lock
    // folder is gone, so a rotation's lock costs no look into the token's folder.
    let broken = false;
    try {
      // A lock visibly held is left alone: no staging folder, no change in the folder that
      // would wake the members waiting on it.
      const state = this.#inspect(ttlMs);
      if (state.kind === 'held') return void taken();
      if (state.kind === 'stale') this.#breakLease(state.fence);
      broken = state.kind === 'stale' || state.emptied === true;
      staged = true;
      try {
        mkdirSync(staging, { mode: DIR_MODE });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        mkdirSync(dirname(this.path), { recursive: true, mode: DIR_MODE }); // the file's folder is not there yet
        mkdirSync(staging, { mode: DIR_MODE });
      }
      mkdirSync(join(staging, fence), { mode: DIR_MODE });
      const owner = { version: LOCK_FORMAT_VERSION, pid: process.pid, host: hostname(), ttlMs, acquiredAt: new Date().toISOString() };
      writeFileSync(join(staging, fence, 'owner.json'), `${JSON.stringify(owner)}\n`, { mode: FILE_MODE });
      for (let attempt = 0; attempt < 3; attempt++) {
        if (this.#install(staging)) {
          staged = false; // the staging folder is the lock now
          const now = new Date();
          utimesSync(join(this.lockPath, fence), now, now);
          const lock = this.#holding(fence, ttlMs);
          // Its lease broken while it cleared (it was paused): not ours, the folders stay.
          if ((broken || this.#leftFolders) && !(await this.#clearLeftFolders(lock))) return undefined;
          return lock;
        }
        const again = this.#inspect(ttlMs);
        if (again.kind === 'held') return void taken();
        if (again.kind === 'stale') this.#breakLease(again.fence);
        broken ||= again.kind === 'stale' || again.emptied === true;
      }
      return undefined;
    } catch (error) {
      if (error instanceof TokenStoreError) throw error;
      throw new TokenStoreError('lock-failed', `cannot take the lock ${this.lockPath} of the token file ${this.path}: ${codeOf(error)}`, {
        path: this.path,
        cause: error,
      });
    } finally {
      if (staged) await removeQuietly(staging);
    }
  }

  /**
   * Under a lock just taken where a lease was found stale or the lock folder emptied (a lease
   * broken, by this member or another one that then lost the race to take the lock; or a holder
   * killed in its release, between moving its folder out and removing it), or by a store that
   * broke a lease or left a folder before (`#leftFolders`): the fence folders
   * that left the lock (`<file>.lock-<fence>.broken`, `.released`). A holder that died after its
   * refresh and before its save may have left the new token complete in its `next.tmp` (killed
   * while it was being fsynced: the kernel keeps what was written). Such a token, valid and
   * expiring after the one in the file, is saved (compare-and-set, as the dead holder would
   * have): the server has already killed the token before it, so it is the live one. Then the
   * folders are removed, with the copy of the replaced file a `.released` one keeps. Best
   * effort: a torn or older `next.tmp` is not saved. A folder whose token could not be saved
   * stays, for this store's next lock take and the next member's: `false` when the save found
   * the lock lost (its lease broken meanwhile), `true` otherwise.
   */
  async #clearLeftFolders(lock: TokenStoreLock): Promise<boolean> {
    const prefix = `${basename(this.lockPath)}-`;
    let folders: string[];
    try {
      folders = readdirSync(dirname(this.path))
        .filter((entry) => entry.startsWith(prefix) && LEFT_FOLDER.test(entry.slice(prefix.length)))
        .map((entry) => join(dirname(this.path), entry));
    } catch {
      this.#leftFolders = true; // looked at again next time; the manager's read of the file reports what is wrong
      return true;
    }
    let left = false;
    for (const folder of folders) {
      let orphan: StoredToken | undefined;
      try {
        orphan = this.#parse(readFileSync(join(folder, 'next.tmp'), 'utf8'));
      } catch {
        // none, torn, or not a token record
      }
      if (orphan !== undefined) {
        let saved: SaveIfResult | undefined;
        try {
          const current = await this.load();
          if (current === undefined || current.expiresAt < orphan.expiresAt) saved = await lock.saveIf(current?.token, orphan);
        } catch {
          this.#leftFolders = true; // the folders stay; the file cannot be read or written: the manager reads it next and reports that
          return true;
        }
        if (saved === 'lost') {
          this.#leftFolders = true;
          return false;
        }
        if (saved === 'changed') {
          left = true; // the file moved on under the lock (a save without it): looked at again next time
          continue;
        }
      }
      await removeQuietly(folder);
    }
    this.#leftFolders = left;
    return true;
  }

  /**
   * Resolves when the file no longer holds `seen` or the lock is free (or its lease ran
   * out), after `timeoutMs`, or when `signal` aborts. Watches the folder (for the file, the
   * lock folder and a fence folder leaving it), and looks every `pollMs` too. The file
   * replaced ends the wait without a look (the caller reads the store next). It looks at once
   * when the watch is set up, unless nothing can have moved: this store's last read found
   * `seen`, a lock attempt after it found the lock taken within the last `pollMs`, and the
   * file is still the one that read opened (one `stat`, after the watch is set up: a save
   * before it shows there, one after it wakes the watch). A member that lost the race for the
   * lock thus waits without reading the file and the lock again. Never rejects.
   */
  waitForChange(seen: string | undefined, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const name = basename(this.path);
    return waitUntilMoved(() => this.#moved(seen), {
      ...options,
      pollMs: this.#pollMs,
      notify: (wake, moved) => {
        const watcher: FSWatcher = watch(dirname(this.path), { persistent: false }, (_event, changed) => {
          // The token file itself replaced (a save's rename): the wait ends without a look,
          // since the manager reads the store next anyway. The lock's folders: look first.
          if (changed === name) moved();
          else if (changed === null || movesTheStore(name, String(changed))) wake();
        });
        watcher.on('error', () => watcher.close()); // the poll goes on
        // A lock released without a save in the moment before the watch began is what the
        // stat cannot show: it is then seen at most one poll later than a first look would.
        const quiet = this.#lastRead.quietMark(seen, this.#pollMs);
        return { close: () => watcher.close(), lookLater: quiet !== undefined && this.#identityNow() === quiet.mark };
      },
    });
  }

  /** The file's identity now (see `identity`); `undefined` when it cannot be told. */
  #identityNow(): string | undefined {
    try {
      return identity(statSync(this.path));
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? ABSENT : undefined;
    }
  }

  /** Replaces the file atomically with `token`. Rejects with TokenStoreError (or InvalidInputError for a bad argument). */
  save(token: StoredToken): Promise<void> {
    let record: StoredToken;
    try {
      record = checkStoredToken(token);
    } catch (error) {
      return Promise.reject(error);
    }
    const text = this.#format(record);
    const run = this.#queue.then(() => this.#write(text));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Moves the staged lock folder into place: `false` while `<file>.lock` holds a fence folder. */
  #install(staging: string): boolean {
    try {
      renameSync(staging, this.lockPath);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      if (code === 'ENOTDIR') throw this.#notAFolder();
      throw error;
    }
  }

  #notAFolder(): TokenStoreError {
    return new TokenStoreError('lock-failed', `the lock ${this.lockPath} of the token file ${this.path} is not a folder; remove it`, { path: this.path });
  }

  /** The lock's state: free, held by a live lease, or held by a lease that ran out. */
  #inspect(ttlMs: number): { kind: 'free'; emptied?: true } | { kind: 'held' } | { kind: 'stale'; fence: string } {
    let entries: string[];
    try {
      entries = readdirSync(this.lockPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { kind: 'free' };
      if (code === 'ENOTDIR') throw this.#notAFolder();
      throw error;
    }
    const fence = entries.find((entry) => FENCE.test(entry));
    if (fence === undefined) return entries.length === 0 ? { kind: 'free', emptied: true } : { kind: 'held' };
    let mtimeMs: number;
    try {
      mtimeMs = statSync(join(this.lockPath, fence)).mtimeMs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'free', emptied: true }; // released or broken just now
      throw error;
    }
    let lease: unknown;
    try {
      lease = (JSON.parse(readFileSync(join(this.lockPath, fence, 'owner.json'), 'utf8')) as { ttlMs?: unknown }).ttlMs;
    } catch {
      // being written, or from a holder that crashed while writing it
    }
    const leaseMs = typeof lease === 'number' && Number.isFinite(lease) && lease > 0 ? lease : ttlMs;
    return Date.now() > mtimeMs + leaseMs ? { kind: 'stale', fence } : { kind: 'held' };
  }

  /**
   * Breaks a lease that ran out: its fence folder leaves the lock (only one breaker can move
   * it), to `<file>.lock-<fence>.broken`, which the next member to take the lock looks in and
   * removes (see `clearLeftFolders`).
   */
  #breakLease(fence: string): void {
    try {
      renameSync(join(this.lockPath, fence), `${this.lockPath}-${fence}.broken`);
      this.#leftFolders = true;
    } catch {
      // released, or broken by another member, just now
    }
  }

  /** For a waiting member: the file no longer holds `seen`, or the lock is free or its lease ran out. */
  async #moved(seen: string | undefined): Promise<boolean> {
    try {
      if ((await this.load())?.token !== seen) return true;
      return this.#inspect(Number.POSITIVE_INFINITY).kind !== 'held';
    } catch {
      return true; // let the manager read the store and report what is wrong
    }
  }

  /** The handle of one holding of the lock. */
  #holding(fence: string, ttlMs: number): TokenStoreLock {
    const folder = join(this.lockPath, fence);
    const lockFailed = (what: string, error: unknown) =>
      new TokenStoreError('lock-failed', `cannot ${what} the lock ${this.lockPath} of the token file ${this.path}: ${codeOf(error)}`, {
        path: this.path,
        cause: error,
      });
    return {
      fence,
      renew: async () => {
        try {
          const now = new Date();
          utimesSync(folder, now, now);
          return true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
          throw lockFailed('renew', error);
        }
      },
      saveIf: (expected, next, options) => this.#saveIf(folder, expected, next, options?.onVisible),
      release: async () => {
        const released = `${this.lockPath}-${fence}.released`;
        try {
          renameSync(folder, released);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // broken by another member: not ours any more
          throw lockFailed('release', error);
        }
        // The lock is free now. The removals free blocks: off the event loop (see `load`).
        await removeQuietly(released);
        try {
          await rmdir(this.lockPath);
        } catch {
          // taken again already: not empty
        }
        await removeDeadStaging(this.lockPath, Math.max(ttlMs, STAGING_MAX_AGE_MS));
      },
    };
  }

  /** Compare-and-set under the lock whose fence folder is `folder`. */
  async #saveIf(folder: string, expected: string | undefined, next: StoredToken, onVisible?: () => void): Promise<SaveIfResult> {
    const record = checkStoredToken(next);
    if ((await this.load())?.token !== expected) return 'changed';
    let visible = false;
    try {
      // The temp file is in the fence folder, so the rename resolves through it: it fails
      // (ENOENT) if the lock was broken since, in the same system call as the replace.
      await replaceDurably(join(folder, 'next.tmp'), this.path, this.#format(record), 'w', {
        aside: join(folder, 'replaced'),
        onVisible: () => {
          visible = true;
          onVisible?.();
        },
      });
    } catch (error) {
      // Only a step before the rename can find the fence folder gone; after it, the token is saved.
      if (!visible && ((error as TokenStoreError).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return 'lost';
      throw error;
    }
    return 'saved';
  }

  #format(record: StoredToken): string {
    return `${JSON.stringify({
      version: FORMAT_VERSION,
      token: record.token,
      expiresAt: new Date(record.expiresAt).toISOString(),
      ...(record.issuedAt === undefined ? {} : { issuedAt: new Date(record.issuedAt).toISOString() }),
    })}\n`;
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
    const { version, token, expiresAt, issuedAt } = data as Record<string, unknown>;
    if (version !== FORMAT_VERSION) throw corrupt(`has an unknown format version (expected ${FORMAT_VERSION})`);
    return readRecord(token, expiresAt, issuedAt, corrupt);
  }

  async #write(text: string): Promise<void> {
    const dir = dirname(this.path);
    const name = basename(this.path);
    const tempName = () => join(dir, `${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const temp = tempName();
    const aside = tempName(); // the replaced file, named as a temp file: ignored by load, and removed if left
    let created: string | undefined;
    try {
      created = mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    } catch (error) {
      throw new TokenStoreError('write-failed', `cannot create the directory of the token file ${this.path}: ${codeOf(error)}`, { path: this.path, cause: error });
    }
    try {
      await replaceDurably(temp, this.path, text, 'wx', { aside });
    } finally {
      await unlink(aside).catch(() => undefined);
    }
    // Folders created just now exist durably only once their parents are synced too.
    for (let at = dir; created !== undefined && at !== dirname(created); at = dirname(at)) {
      await syncDirectory(dirname(at), this.path);
    }
    await removeStaleTemps(dir, name);
  }
}

const fsyncAsync = promisify(fsync);

/**
 * The atomic replace of both saves: writes `text` to `temp` (mode exactly 0600, whatever the
 * umask), fsyncs it, renames it over `target`, fsyncs the folder. A crash at any point leaves
 * the old `target` or the new one, never a torn one. Only the fsyncs leave the event loop (see
 * `load`). `onVisible` runs once the new file is in place, with the folder's fsync already
 * under way. Rejects with a TokenStoreError `write-failed` naming the step, its `cause` the
 * system error; the temp file is removed. The file replaced stays linked as `aside` (see
 * `keepAside`): the caller removes it, on the thread pool.
 */
async function replaceDurably(
  temp: string,
  target: string,
  text: string,
  flags: 'w' | 'wx',
  { aside, onVisible }: { aside: string; onVisible?: () => void },
): Promise<void> {
  let fd: number | undefined;
  let step = 'write a temp file for';
  try {
    fd = openSync(temp, flags, FILE_MODE);
    fchmodSync(fd, FILE_MODE);
    keepOwner(fd, target);
    writeFileSync(fd, text, 'utf8');
    await fsyncAsync(fd);
    closeSync(fd);
    fd = undefined;
    step = 'rename the temp file over';
    keepAside(target, aside);
    renameSync(temp, target);
  } catch (error) {
    if (fd !== undefined) closeQuietly(fd);
    try {
      unlinkSync(temp);
    } catch {
      // never created, or its folder is gone (a broken lock)
    }
    throw new TokenStoreError('write-failed', `cannot ${step} the token file ${target}: ${codeOf(error)}`, { path: target, cause: error });
  }
  await syncDirectory(dirname(target), target, onVisible);
}

/**
 * `path` with its symbolic links resolved, when it (or its folder) exists: a save renames a new
 * file into place, which would replace a link with a file of its own and leave the link's target,
 * where other readers look, with the old token; and every member must lock the same file,
 * whichever name it was given. Resolved once, when the store is made.
 */
function followLinks(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path)); // no file yet
    } catch {
      return path; // no folder yet either; save creates it
    }
  }
}

/**
 * Run as root, the new file gets the owner and group of the file it replaces, or of its folder
 * when there is no such file yet (CLI rotate's `<file>.unsaved` rescue copy, a first save): a
 * rotation run by root (its cron, a service without `User=`) must not take the token from the
 * user whose process reads it, nor leave that user a copy it cannot read. Any other user can
 * only create files of its own. Best effort.
 */
function keepOwner(fd: number, target: string): void {
  if (process.getuid?.() !== 0) return;
  let owner: { uid: number; gid: number };
  try {
    owner = statSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return;
    try {
      owner = statSync(dirname(target));
    } catch {
      return; // a file system without owners, or nothing to go by
    }
  }
  try {
    if (owner.uid !== 0 || owner.gid !== 0) fchownSync(fd, owner.uid, owner.gid);
  } catch {
    // a file system without owners
  }
}

/**
 * Links the file a rename is about to replace as `aside`, so that the rename, which makes the
 * new token visible, frees no blocks: on a file system mounted with `discard` freeing them
 * waits for the device, in the calling thread (see `load`). Best effort: when there is no file
 * yet, or no hard links on this file system, the rename frees the blocks itself.
 */
function keepAside(target: string, aside: string): void {
  try {
    linkSync(target, aside);
  } catch {
    // nothing to keep, or cannot: the rename frees the old file
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
}

/**
 * The identity of a file as `stat` shows it: a save renames a new file into place (another
 * inode), an edit in place changes its mtime, as a rule, or its size. What it cannot tell (an
 * inode freed and reused by a same-size file within one mtime tick) a wait sees on its poll.
 */
function identity(stats: { ino: number; mtimeMs: number; size: number }): string {
  return `${stats.ino}:${stats.mtimeMs}:${stats.size}`;
}

/** The identity of no file. */
const ABSENT = 'absent';

/**
 * Whether a change of the folder entry `changed` can end a wait on the token file `name`: the
 * file itself (a save renames over it), the lock folder (taken, or removed after a release),
 * or a fence folder moved out of the lock (`.released`, `.broken`). Not a taker's staging
 * folder (`.new`) nor a save's temp file: a waiter woken by those would only re-read in vain.
 */
function movesTheStore(name: string, changed: string): boolean {
  if (changed === name || changed === `${name}.lock`) return true;
  const prefix = `${name}.lock-`;
  if (!changed.startsWith(prefix)) return false;
  const rest = changed.slice(prefix.length);
  return rest.endsWith('.released') || rest.endsWith('.broken');
}

/** Makes the rename durable; `started` runs once the fsync is under way. Windows cannot open a directory, and does not need this. */
async function syncDirectory(dir: string, path: string, started?: () => void): Promise<void> {
  if (process.platform === 'win32') return void started?.();
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    const synced = fsyncAsync(fd);
    started?.();
    await synced;
  } catch (error) {
    // The new file is in place; only its durability across a power loss is in doubt.
    throw new TokenStoreError('write-failed', `saved the token file ${path}, but cannot fsync its directory: ${codeOf(error)}`, {
      path,
      cause: error,
    });
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

/** Removes a folder of the lock that left it (released, broken, or a staging one), on the thread pool (it frees blocks). Best effort. */
async function removeQuietly(folder: string): Promise<void> {
  try {
    await rm(folder, { recursive: true, force: true });
  } catch {
    // a leftover; the next holder's look ignores it
  }
}

/**
 * Removes the staging folders of the lock `lockPath` older than `ageMs` (see STAGING_MAX_AGE_MS),
 * on the thread pool. A taker only paused between its `mkdir` and its `rename` for that long
 * finds its folder gone: its `lock()` fails with `lock-failed` (ENOENT), and it tries again
 * later; no lock is lost. Best effort.
 */
async function removeDeadStaging(lockPath: string, ageMs: number): Promise<void> {
  const dir = dirname(lockPath);
  const prefix = `${basename(lockPath)}-`;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !STAGING_FOLDER.test(entry.slice(prefix.length))) continue;
    const folder = join(dir, entry);
    try {
      if (Date.now() - (await stat(folder)).mtimeMs > ageMs) await removeQuietly(folder);
    } catch {
      // gone already (its taker installed it, or another release removed it)
    }
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
export type { SaveIfResult, StoredToken, TokenStore, TokenStoreLock } from './token-store.js';
