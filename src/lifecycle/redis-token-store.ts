// Published as `longbridge-token-api/redis-store`: a TokenStore that several machines share,
// on a node-redis client (`redis`, an optional peer dependency) that the caller creates and
// connects. This module never imports `redis` itself (the client's shape is typed below), and
// the main entry never imports this module.
import { describeValue, InvalidInputError } from '../errors/invalid-input-error.js';
import { TokenStoreError, type TokenStoreErrorReason } from '../errors/token-store-error.js';
import { scrubOrWithhold } from '../redact.js';
import { keepListening, listenOn, markOf, quietSince, type ListenMark } from './redis-subscriber.js';
import { LastRead, waitUntilMoved } from './wait-for-change.js';
import { checkStoredToken, readRecord, type SaveIfResult, type StoredToken, type TokenStore, type TokenStoreLock } from './token-store.js';

/** What the store uses of a node-redis client (v5 or v6: `createClient(...)`, connected). */
export interface RedisClientLike {
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>;
  /**
   * A second connection for SUBSCRIBE, opened on the first lock attempt or wait and shared by
   * every store on this client; kept open (unref()ed) until the client ends.
   */
  duplicate(): RedisSubscriberLike;
  /** Where the client says it ended (node-redis: quit, close, destroy): the subscriber is closed with it. */
  on?(event: 'end', listener: () => void): unknown;
  readonly options?: unknown;
}

/** What the store uses of the duplicate connection. */
export interface RedisSubscriberLike {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** 'ready': connected (again: node-redis has re-subscribed); 'end': closed for good. */
  on(event: 'ready' | 'end', listener: () => void): unknown;
  /** False while disconnected (node-redis); a wait then opens a new subscriber. */
  readonly isReady?: boolean;
  /** So the connection never keeps a process alive (node-redis 4.x and later). */
  unref?(): void;
  destroy?(): void;
  disconnect?(): Promise<unknown>;
}

export interface RedisTokenStoreOptions {
  /** A connected node-redis client: `await createClient({ url }).connect()`. The store never closes it. */
  client: RedisClientLike;
  /**
   * The hash that holds the token; the lock is `<key>:lock`, the change channel
   * `<key>:events`. Default `longbridge-token`. On Redis Cluster use a hash tag, e.g.
   * `{longbridge-token}`, so the hash and the lock share a slot.
   */
  key?: string;
  /** A command that gets no answer within this many ms fails with TokenStoreError. Default 5000. */
  commandTimeoutMs?: number;
  /** While a member waits for another one's rotation, it also looks this often (ms). Default 100. */
  pollMs?: number;
}

export const DEFAULT_REDIS_KEY = 'longbridge-token';
const FORMAT_VERSION = '1';
/** The hash's fields a read takes, in the order #parse reads them. */
const READ_FIELDS = ['version', 'token', 'expiresAt', 'issuedAt', 'issuedFor'];
const FIELDS = READ_FIELDS.map((field) => `'${field}'`).join(', ');

// The record's write, in both save scripts. `issuedAt` goes with `issuedFor`, the `expiresAt`
// it was written with: a reader takes it only while they match, so one left behind by a writer
// that does not know it (0.2.0, another language) is ignored; '' (none) removes both.
const WRITE = (token: string, expiresAt: string, issuedAt: string) => `
redis.call('HSET', KEYS[1], 'version', '${FORMAT_VERSION}', 'token', ${token}, 'expiresAt', ${expiresAt})
if ${issuedAt} == '' then redis.call('HDEL', KEYS[1], 'issuedAt', 'issuedFor')
else redis.call('HSET', KEYS[1], 'issuedAt', ${issuedAt}, 'issuedFor', ${expiresAt}) end`;
// Compare-and-set: the lock must still hold this fence and the hash the expected token
// ('' = none), checked and written in one atomic script.
const SAVE_IF = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'lost' end
local current = redis.call('HGET', KEYS[1], 'token')
if current == false then current = '' end
if current ~= ARGV[2] then return 'changed' end
${WRITE('ARGV[3]', 'ARGV[4]', 'ARGV[5]')}
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 'saved'`;
const SAVE = `
${WRITE('ARGV[1]', 'ARGV[2]', 'ARGV[3]')}
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 'saved'`;
// Reads the hash and takes the lock in one step: the read is the holder's read under the lock,
// returned only when the lock was taken. The read comes first, so a hash that cannot be read
// (a key of another type) fails the script before it takes the lock.
const LOCK = `
local read = redis.call('HMGET', KEYS[1], ${FIELDS})
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return read`;
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'released')
  return 1
end
return 0`;

/**
 * Keeps the token in Redis, so the members of a fleet on several machines share it and
 * refresh once per rotation (`TokenManager` coordinates through it by default).
 *
 * The format, for members written in other languages:
 *
 * - `<key>`: a hash `{ version: "1", token, expiresAt: ISO 8601 UTC, issuedAt?: ISO 8601 UTC,
 *   issuedFor? }` (`issuedAt`: see `StoredToken`; `issuedFor` is the `expiresAt` it was written
 *   with, and `issuedAt` is taken only while the two match: one left behind by a writer that does
 *   not know the fields is ignored; this store's save without one removes both);
 * - `<key>:lock`: the lock, `SET <key>:lock <fence> NX PX <ttlMs>`; the fence is 32 random
 *   hex digits; renew with `PEXPIRE` only while `GET` still returns your fence (one script);
 *   release with `DEL` only while it does (one script). This store takes it and reads the hash
 *   in one script, so what it reads under the lock costs no second round trip;
 * - save (compare-and-set, one Lua script): only while `<key>:lock` holds your fence and the
 *   hash's `token` is still the one you read under the lock;
 * - `<key>:events`: every save and release is PUBLISHed there, so waiting members wake at once
 *   (a member may keep one connection SUBSCRIBEd to it for good, as this store does). A save's
 *   message is the record it wrote, `{"event":"saved","version":"1","token","expiresAt","issuedAt"?}`, so a
 *   waiter takes it without reading the hash; a release's is `released`. Any message may be
 *   taken as a wake-up only. The channel thus carries the token as the hash does: where Redis
 *   ACLs restrict channels (`&pattern`), grant it only to those who may read the key.
 *
 * Errors are `TokenStoreError`s naming the key and the server (never its password), never the token.
 */
export class RedisTokenStore implements TokenStore {
  /** The hash that holds the token. */
  readonly key: string;
  readonly lockKey: string;
  readonly channel: string;
  /** Where the token is, for messages: the key and the server without credentials. */
  readonly place: string;
  readonly #client: RedisClientLike;
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  /** The last read of the hash, marked with where the subscription stood as it was sent. */
  readonly #lastRead = new LastRead<ListenMark | undefined>();

  constructor(options: RedisTokenStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidInputError('options', 'must be an object { client, key?, commandTimeoutMs?, pollMs? }');
    }
    const { client } = options;
    if (typeof client !== 'object' || client === null || typeof client.sendCommand !== 'function' || typeof client.duplicate !== 'function') {
      throw new InvalidInputError('client', 'must be a connected node-redis client: await createClient({ url }).connect()');
    }
    const key = options.key ?? DEFAULT_REDIS_KEY;
    if (typeof key !== 'string' || key === '') throw new InvalidInputError('key', `must be a non-empty string, got ${describeValue(key)}`);
    this.#client = client;
    this.key = key;
    this.lockKey = `${key}:lock`;
    this.channel = `${key}:events`;
    this.#timeoutMs = checkMs('commandTimeoutMs', options.commandTimeoutMs, 5_000);
    this.#pollMs = checkMs('pollMs', options.pollMs, 100);
    this.place = `Redis key "${key}" at ${serverOf(client)}`;
  }

  async load(): Promise<StoredToken | undefined> {
    const mark = markOf(this.#client, this.channel); // before the read: a save after it is heard after this
    this.#lastRead.forget();
    const stored = this.#parse(await this.#command('read-failed', 'read', ['HMGET', this.key, ...READ_FIELDS]));
    this.#lastRead.record(stored?.token, mark);
    return stored;
  }

  /** The record a save's message carries, checked as the hash is; undefined for a release or any other message (the waiter reads the hash). */
  #carried(text: string): StoredToken | undefined {
    try {
      const { event, version, token, expiresAt, issuedAt } = JSON.parse(text) as Record<string, unknown>;
      return event === 'saved' ? this.#parse([version, token, expiresAt, issuedAt, expiresAt]) : undefined; // the message's issuedAt is its record's
    } catch {
      return undefined; // not JSON (`released`), or not a valid record
    }
  }

  /** The hash's fields (an HMGET reply) as a StoredToken; TokenStoreError 'corrupt' naming the place, never the token. */
  #parse(reply: unknown): StoredToken | undefined {
    const [version, token, expiresAt, issuedAt, issuedFor] = Array.isArray(reply) ? (reply as unknown[]) : [];
    if (version == null && token == null && expiresAt == null) return undefined;
    const corrupt = (what: string) =>
      new TokenStoreError('corrupt', `the ${this.place} ${what}; restore it or delete it and start from a new token (its content is not shown: it holds a token)`, {
        path: this.place,
      });
    if (String(version) !== FORMAT_VERSION) throw corrupt(`has an unknown format version (expected ${FORMAT_VERSION})`);
    return readRecord(token, expiresAt, issuedFor === expiresAt ? issuedAt : undefined, corrupt); // an issuedAt written for another token is not this one's
  }

  async save(token: StoredToken): Promise<void> {
    const record = checkStoredToken(token);
    await this.#command('write-failed', 'save', ['EVAL', SAVE, '1', this.key, record.token, iso(record.expiresAt), issued(record), this.channel, savedMessage(record)], [record.token]);
  }

  async lock(ttlMs: number): Promise<TokenStoreLock | undefined> {
    if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1) {
      throw new InvalidInputError('ttlMs', `must be a whole number of ms, 1 or more, got ${typeof ttlMs === 'number' ? ttlMs : describeValue(ttlMs)}`);
    }
    const fence = randomFence();
    keepListening(this.#client, this.channel); // a member that locks waits too: its first wait then finds the channel subscribed
    const taken = this.#lastRead.lockAttempt(); // for the wait that comes next (see waitForChange)
    const reply = await this.#command('lock-failed', 'lock', ['EVAL', LOCK, '2', this.key, this.lockKey, fence, String(ttlMs)]);
    if (reply == null) return void taken();
    let read: unknown = reply; // what the hash held as the lock was taken: step 3's read, once
    return {
      fence,
      load: async () => {
        const fields = read;
        read = undefined;
        return fields === undefined ? this.load() : this.#parse(fields);
      },
      renew: async () => Number(await this.#command('lock-failed', 'renew', ['EVAL', RENEW, '1', this.lockKey, fence, String(ttlMs)])) === 1,
      saveIf: async (expected, next) => {
        const record = checkStoredToken(next);
        const args = ['EVAL', SAVE_IF, '2', this.key, this.lockKey, fence, expected ?? '', record.token, iso(record.expiresAt), issued(record), this.channel, savedMessage(record)];
        const result = String(await this.#command('write-failed', 'save', args, [record.token, expected]));
        if (result === 'saved' || result === 'changed' || result === 'lost') return result as SaveIfResult;
        throw new TokenStoreError('write-failed', `cannot save to the ${this.place}: unexpected reply from the script`, { path: this.place });
      },
      release: async () => {
        await this.#command('lock-failed', 'release', ['EVAL', RELEASE, '1', this.lockKey, fence, this.channel]);
      },
    };
  }

  /**
   * Resolves when the hash no longer holds `seen` or the lock is free, when a save or release
   * is PUBLISHed on `<key>:events` (at once, without a look: with the record a save's message
   * carries, which the caller takes as its read, or with nothing: the caller re-reads the store),
   * after `timeoutMs`, or when `signal` aborts. It looks once the subscription is active (at
   * once when it already is) and every `pollMs`; not at once when nothing can have moved: this
   * store's last read found `seen`, a lock attempt after it found the lock taken within the
   * last `pollMs`, and the channel, listened to since before that read, has heard nothing since
   * (a member that lost the race for the lock then waits without a round trip). The subscriber
   * is one connection per client, shared by every store on it, opened on the first lock attempt
   * or wait and kept (unref()ed) until the client ends. Never rejects.
   */
  waitForChange(seen: string | undefined, options: { timeoutMs: number; signal?: AbortSignal }): Promise<StoredToken | undefined> {
    return waitUntilMoved<StoredToken>(() => this.#moved(seen), {
      ...options,
      pollMs: this.#pollMs,
      notify: (look, moved) => {
        const handle = listenOn(this.#client, this.channel, { message: (text) => moved(this.#carried(text)), look });
        // A read found `seen`, a lock attempt after it found the lock taken (within one poll
        // interval: what no message announces, a lease running out, is then seen at most one
        // poll later than a first look would), and the channel, listened to since before that
        // read, has heard nothing since (every save and release PUBLISHes there): nothing has
        // moved, so the first look (a round trip) is skipped.
        const quiet = this.#lastRead.quietMark(seen, this.#pollMs);
        return quiet !== undefined && quietSince(this.#client, this.channel, quiet.mark) ? { close: handle.close, lookLater: true } : handle;
      },
    });
  }

  get [Symbol.toStringTag](): string {
    return 'RedisTokenStore';
  }

  async #moved(seen: string | undefined): Promise<boolean> {
    try {
      // Both at once: one round trip (the client pipelines commands sent in the same tick).
      const [token, locked] = await Promise.all([
        this.#command('read-failed', 'read', ['HGET', this.key, 'token']),
        this.#command('read-failed', 'read', ['EXISTS', this.lockKey]),
      ]);
      return (token ?? undefined) !== seen || Number(locked) === 0;
    } catch {
      return true; // let the manager read the store and report what is wrong
    }
  }

  /** One command with a deadline; failures become TokenStoreErrors naming the place, never a token. */
  async #command(reason: TokenStoreErrorReason, what: string, args: string[], secrets: Array<string | undefined> = []): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms (commandTimeoutMs)`)), this.#timeoutMs);
    });
    try {
      return await Promise.race([this.#client.sendCommand(args), deadline]);
    } catch (error) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const why = scrubOrWithhold(text, secrets, 'the reply is withheld: it contains a token');
      throw new TokenStoreError(reason, `cannot ${what} the ${this.place}: ${why}`, { path: this.place });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What a save PUBLISHes: the record it wrote, as JSON, so a waiting member need not read it. */
function savedMessage(record: StoredToken): string {
  const message = { event: 'saved', version: FORMAT_VERSION, token: record.token, expiresAt: iso(record.expiresAt) };
  return JSON.stringify(record.issuedAt === undefined ? message : { ...message, issuedAt: iso(record.issuedAt) });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The record's `issuedAt` as the save scripts take it: '' for none. */
function issued(record: StoredToken): string {
  return record.issuedAt === undefined ? '' : iso(record.issuedAt);
}

function randomFence(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `redis://host:port` of the client, without user name or password. */
function serverOf(client: RedisClientLike): string {
  const options = (client.options ?? {}) as { url?: unknown; socket?: { host?: unknown; port?: unknown; path?: unknown } };
  if (typeof options.url === 'string') {
    try {
      const url = new URL(options.url);
      return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
    } catch {
      return 'the configured server';
    }
  }
  const socket = options.socket ?? {};
  if (typeof socket.path === 'string') return `unix:${socket.path}`;
  const host = typeof socket.host === 'string' ? socket.host : 'localhost';
  const port = typeof socket.port === 'number' ? socket.port : 6379;
  return `redis://${host}:${port}`;
}

function checkMs(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidInputError(field, `must be a whole number of ms, 1 or more, got ${typeof value === 'number' ? value : describeValue(value)}`);
  }
  return value;
}

export { TokenStoreError } from '../errors/token-store-error.js';
export type { SaveIfResult, StoredToken, TokenStore, TokenStoreLock } from './token-store.js';
