// RedisTokenStore against a real redis-server on a free loopback port (started here, always
// stopped): the documented layout (hash, lock with SET NX PX and a fence, events channel),
// compare-and-set in one script, waits woken by PUBLISH, a fleet of managers on one key,
// and bad input: a corrupt hash, Redis down (a clear error naming the place, never the
// token; a valid token keeps being served).
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisTokenStore, TokenStoreError } from '../src/lifecycle/redis-token-store.js';
import { InvalidInputError, TokenManager } from '../src/index.js';
import { rejectionOf, views } from './helpers/views.js';
import { redisServerPath, startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { spawnChild, stopAll } from './helpers/child.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

const A = { token: 'SECRET-REDIS-TOKEN-A-1234', expiresAt: Date.parse('2099-01-01T00:00:00Z') };
const B = { token: 'SECRET-REDIS-TOKEN-B-5678', expiresAt: Date.parse('2099-02-01T00:00:00Z') };
const C = { token: 'SECRET-REDIS-TOKEN-C-9012', expiresAt: Date.parse('2099-03-01T00:00:00Z') };

// On CI redis-server must be there (.ci/run installs it); elsewhere a machine without it skips.
const available = redisServerPath() !== undefined || process.env.CI !== undefined;

function newClient(url: string) {
  const client = createClient({ url });
  client.on('error', () => undefined);
  return client;
}
type Client = ReturnType<typeof newClient>;

describe.skipIf(!available)('RedisTokenStore (real redis-server)', () => {
  let server: RedisServer;
  const clients: Client[] = [];
  let n = 0;
  let key: string;

  async function connect(url = server.url): Promise<Client> {
    const client = newClient(url);
    await client.connect();
    clients.push(client);
    return client;
  }

  async function store(options: { key?: string; pollMs?: number; commandTimeoutMs?: number } = {}) {
    return new RedisTokenStore({ client: await connect(), key, ...options });
  }

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await stopAll();
    await Promise.all(clients.map((c) => (c.isOpen ? c.destroy() : undefined)));
    await server?.stop();
  });
  beforeEach(() => {
    key = `test-${++n}`;
  });

  /** The ids of the server's subscriber (pubsub) connections. */
  async function pubsubIds(): Promise<string[]> {
    const admin = clients[0] ?? (await connect());
    const list = String(await admin.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub']));
    return [...list.matchAll(/\bid=(\d+)/g)].map((m) => m[1]!).sort();
  }

  /** Resolves once `channel` has `count` subscribers on the server (looks until then; gives up after 10 s). */
  async function subscribed(channel: string, count = 1): Promise<void> {
    const admin = clients[0] ?? (await connect());
    const until = Date.now() + 10_000;
    while (Number(((await admin.sendCommand(['PUBSUB', 'NUMSUB', channel])) as unknown[])[1]) < count) {
      if (Date.now() > until) throw new Error(`nothing subscribed to ${channel} within 10 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Whether `waiting` resolves before `boundMs` (a bound for a failing run, not a timing). */
  function endsWithin(waiting: Promise<unknown>, boundMs = 10_000): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), boundMs)));
    return Promise.race([waiting.then(() => true), bound]).finally(() => clearTimeout(timer));
  }

  it('accepts a node-redis client by its own types; refuses a bad one with InvalidInputError', async () => {
    const client: Client = await connect();
    expect(new RedisTokenStore({ client }).key).toBe('longbridge-token');
    expect(() => new RedisTokenStore({ client: {} as never })).toThrow(InvalidInputError);
    expect(() => new RedisTokenStore({ client, key: '' })).toThrow(InvalidInputError);
  });

  it('load() is undefined on an empty key; save() writes the documented hash and load() reads it', async () => {
    const s = await store();
    expect(await s.load()).toBeUndefined();
    await s.save(A);
    const raw = await clients.at(-1)!.hGetAll(key);
    expect({ ...raw }).toEqual({ version: '1', token: A.token, expiresAt: '2099-01-01T00:00:00.000Z' });
    expect(await s.load()).toEqual(A);
  });

  it('keeps issuedAt in the hash with issuedFor, the expiresAt it belongs to (the save message too: see below); one left by a writer that does not know them is ignored; a save without one removes both', async () => {
    const s = await store();
    const redis = clients.at(-1)!;
    const issued = { ...B, issuedAt: Date.parse('2098-10-03T00:00:00.000Z') };
    await s.save(issued);
    expect({ ...(await redis.hGetAll(key)) }).toEqual({
      version: '1',
      token: B.token,
      expiresAt: new Date(B.expiresAt).toISOString(),
      issuedAt: '2098-10-03T00:00:00.000Z',
      issuedFor: new Date(B.expiresAt).toISOString(),
    });
    expect(await s.load()).toEqual(issued);
    const lock = (await s.lock(60_000))!;
    expect(await lock.load!()).toEqual(issued);
    // A 0.2.0 member's save: the token and its expiry only. The issuedAt left is not this token's.
    await redis.hSet(key, { token: C.token, expiresAt: new Date(C.expiresAt).toISOString() });
    expect(await s.load()).toEqual(C);
    await redis.hSet(key, { token: B.token, expiresAt: new Date(B.expiresAt).toISOString() });
    expect(await lock.saveIf(B.token, C)).toBe('saved'); // without issuedAt (SAVE_IF)
    await lock.release();
    expect(await redis.hmGet(key, ['issuedAt', 'issuedFor'])).toEqual([null, null]);
    await s.save(issued);
    await s.save(C); // without issuedAt (SAVE)
    expect(await redis.hmGet(key, ['issuedAt', 'issuedFor'])).toEqual([null, null]);
    expect(await s.load()).toEqual(C);
  });

  it('lock: SET NX PX with a 32-hex fence; one holder; renew extends it; release frees only its own lock', async () => {
    const one = await store();
    const two = await store();
    const redis = clients.at(-1)!;
    const lock = (await one.lock(60_000))!;
    expect(lock.fence).toMatch(/^[0-9a-f]{32}$/);
    expect(await redis.get(`${key}:lock`)).toBe(lock.fence);
    const ttl = await redis.pTTL(`${key}:lock`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await two.lock(60_000)).toBeUndefined();
    await redis.pExpire(`${key}:lock`, 5_000);
    expect(await lock.renew()).toBe(true);
    expect(await redis.pTTL(`${key}:lock`)).toBeGreaterThan(5_000);
    // Its lease runs out; another member takes the lock: the old holder cannot renew or release it.
    await redis.del(`${key}:lock`);
    const taker = (await two.lock(60_000))!;
    expect(await lock.renew()).toBe(false);
    await lock.release();
    expect(await redis.get(`${key}:lock`)).toBe(taker.fence);
    await taker.release();
    expect(await redis.exists(`${key}:lock`)).toBe(0);
  });

  it('saveIf(): saved only while the hash holds the expected token and the lock holds the fence (one script)', async () => {
    const s = await store();
    const redis = clients.at(-1)!;
    const lock = (await s.lock(60_000))!;
    expect(await lock.saveIf(A.token, B)).toBe('changed'); // empty, not A
    expect(await lock.saveIf(undefined, A)).toBe('saved');
    expect(await lock.saveIf(C.token, B)).toBe('changed');
    expect(await lock.saveIf(A.token, B)).toBe('saved');
    expect(await s.load()).toEqual(B);
    await redis.set(`${key}:lock`, 'another-holders-fence');
    expect(await lock.saveIf(B.token, C)).toBe('lost');
    expect(await s.load()).toEqual(B);
  });

  it('lock() reads the hash in the same step as it takes the lock (one script): lock.load() answers from that read once, with no command of its own', async () => {
    const client = await connect();
    const sent: string[] = [];
    const counting = { sendCommand: (args: ReadonlyArray<string>) => (sent.push(args[0]!), client.sendCommand([...args])), duplicate: () => client.duplicate(), options: client.options };
    const s = new RedisTokenStore({ client: counting, key });
    await s.save(A);
    sent.length = 0;
    const lock = (await s.lock(60_000))!;
    expect(sent).toEqual(['EVAL']); // SET NX PX and HMGET in one script
    await client.hSet(key, 'token', B.token); // changed after the lock was taken: not what the lock read
    expect(await lock.load!()).toEqual(A);
    expect(sent).toHaveLength(1);
    expect((await lock.load!())?.token).toBe(B.token); // after the first: a read of its own
    expect(sent).toEqual(['EVAL', 'HMGET']);
    expect(await s.lock(60_000)).toBeUndefined(); // taken: no read comes back
    await lock.release();
    // An empty key: the read under the lock is "nothing stored".
    const empty = new RedisTokenStore({ client, key: `${key}-empty` });
    const emptyLock = (await empty.lock(60_000))!;
    expect(await emptyLock.load!()).toBeUndefined();
    await emptyLock.release();
    // A key that cannot be read as a hash: the script fails before it takes the lock.
    await client.set(`${key}-string`, 'not a hash');
    const wrong = new RedisTokenStore({ client, key: `${key}-string` });
    expect(await rejectionOf(wrong.lock(60_000))).toMatchObject({ name: 'TokenStoreError', reason: 'lock-failed' });
    expect(await client.exists(`${key}-string:lock`)).toBe(0);
    // A corrupt hash read with the lock: the read's error, naming the place, never the content.
    await client.hSet(key, { expiresAt: 'soon' });
    const corrupt = (await s.lock(60_000))!;
    const error = await rejectionOf(corrupt.load!());
    expect(error).toMatchObject({ name: 'TokenStoreError', reason: 'corrupt' });
    expect(views(error)).not.toContain(B.token);
    await corrupt.release();
  });

  it('a save PUBLISHes the record it wrote: a waiting store resolves with it (the manager then reads nothing); a release or another message wakes it empty', async () => {
    // The waiter's looks always see "unchanged" (the hash holds the token seen, the lock is
    // held), so only a message can end its waits: a look racing the save cannot end one first.
    const client = await connect();
    const unchanged = {
      sendCommand: (args: ReadonlyArray<string>) => (args[0] === 'HGET' ? Promise.resolve(looksSee) : args[0] === 'EXISTS' ? Promise.resolve(1) : client.sendCommand([...args])),
      duplicate: () => client.duplicate(),
      options: client.options,
    };
    let looksSee = A.token;
    const waiter = new RedisTokenStore({ client: unchanged, key, pollMs: 3_600_000 });
    const holderStore = await store();
    const listener = clients[0]!.duplicate();
    listener.on('error', () => undefined);
    clients.push(listener);
    const messages: string[] = [];
    await listener.connect();
    await listener.subscribe(waiter.channel, (message) => void messages.push(message));
    await holderStore.save(A);
    const holder = (await holderStore.lock(60_000))!;
    // Counted one by one: the listener and the holder's subscriber (its lock() keeps the channel
    // subscribed), then the waiter's. Counting to 2 after the wait began (as this test once did)
    // could count the holder's instead of the waiter's, and under load the save's message then
    // went out before the waiter's SUBSCRIBE: lost, and this waiter's looks never see a change.
    await subscribed(waiter.channel, 2);
    const saved = waiter.waitForChange(A.token, { timeoutMs: 60_000 });
    await subscribed(waiter.channel, 3);
    const issued = { ...B, issuedAt: Date.parse('2098-10-03T00:00:00.000Z') };
    expect(await holder.saveIf(A.token, issued)).toBe('saved');
    // Each wait bounded, so that a lost message fails here, naming the wait, not at the test's timeout.
    expect(await endsWithin(saved), "the save's message ended the wait").toBe(true);
    expect(await saved).toEqual(issued);
    // The documented message of a save (and of the unconditional save above).
    const documented = (record: { token: string; expiresAt: number; issuedAt?: number }) => ({
      event: 'saved',
      version: '1',
      token: record.token,
      expiresAt: new Date(record.expiresAt).toISOString(),
      ...(record.issuedAt === undefined ? {} : { issuedAt: new Date(record.issuedAt).toISOString() }),
    });
    await expect.poll(() => messages).toHaveLength(2);
    expect(messages.map((m) => JSON.parse(m))).toEqual([documented(A), documented(issued)]);
    looksSee = B.token;
    const released = waiter.waitForChange(B.token, { timeoutMs: 60_000 });
    await subscribed(waiter.channel);
    await holder.release();
    expect(await endsWithin(released), "the release's message ended the wait").toBe(true);
    expect(await released).toBeUndefined();
    await expect.poll(() => messages.at(-1)).toBe('released');
    const other = (await holderStore.lock(60_000))!;
    const odd = (fields: Record<string, unknown>) => JSON.stringify({ ...documented(C), ...fields });
    for (const message of ['saved', '{not json', odd({ token: '' }), odd({ version: '2' }), odd({ event: 'released' }), odd({ expiresAt: 'soon' }), odd({ token: 7 })]) {
      const woken = waiter.waitForChange(B.token, { timeoutMs: 60_000 });
      await clients[0]!.publish(waiter.channel, message);
      expect(await endsWithin(woken, 5_000), `the message ${JSON.stringify(message.slice(0, 12))} ended the wait`).toBe(true);
      expect(await woken).toBeUndefined();
    }
    await other.release();
  });

  it('a member that lost the lock race waits without a round trip: after its read found the token and its lock attempt found the lock taken, on a channel subscribed since before that read (by an earlier lock()), nothing can have moved', async () => {
    const client = await connect();
    const sent: string[] = [];
    let looksSee: string | undefined; // set: a look (HGET, EXISTS) answers "holds this token, the lock is taken" without asking
    const send = (args: ReadonlyArray<string>) =>
      looksSee !== undefined && args[0] === 'HGET' ? Promise.resolve(looksSee) : looksSee !== undefined && args[0] === 'EXISTS' ? Promise.resolve(1) : client.sendCommand([...args]);
    const counting = { sendCommand: (args: ReadonlyArray<string>) => (sent.push(args[0]!), send(args)), duplicate: () => client.duplicate(), options: client.options };
    const member = new RedisTokenStore({ client: counting, key, pollMs: 3_600_000 });
    const holderStore = await store();
    await holderStore.save(A);
    await (await member.lock(60_000))!.release(); // a lock() subscribes the store's channel, for good
    await subscribed(member.channel);
    const holder = (await holderStore.lock(60_000))!;
    const lose = async (token: string) => {
      expect((await member.load())?.token).toBe(token);
      expect(await member.lock(60_000)).toBeUndefined();
      sent.length = 0;
    };
    await lose(A.token);
    const quiet = member.waitForChange(A.token, { timeoutMs: 60_000 });
    expect(sent).toEqual([]); // a look would have sent HGET and EXISTS by now (it starts in the same tick)
    expect(await holder.saveIf(A.token, B)).toBe('saved');
    expect(await quiet).toEqual(B); // the save's message ends it
    expect(sent).toEqual([]); // and carries the token: no read either
    // A read that found another token, or no failed lock attempt after the read: the wait looks.
    await lose(B.token);
    await member.waitForChange(A.token, { timeoutMs: 60_000 }); // B is not what the caller saw: it moved
    expect(sent).toEqual(['HGET', 'EXISTS']);
    await member.load();
    sent.length = 0;
    const looked = member.waitForChange(B.token, { timeoutMs: 50 });
    expect(sent).toEqual(['HGET', 'EXISTS']);
    await looked;
    // A save heard between the read and the wait (a witness on the same subscriber saw its
    // message first; its own look sees "unchanged", whenever it runs, so only the message can
    // end its wait): the member's wait looks, finds it, and ends at once.
    await lose(B.token);
    const witness = new RedisTokenStore({ client: counting, key, pollMs: 3_600_000 }); // the same client: the same subscriber
    looksSee = B.token;
    const heard = witness.waitForChange(B.token, { timeoutMs: 60_000 });
    looksSee = undefined;
    expect(await holder.saveIf(B.token, C)).toBe('saved');
    expect(await heard).toEqual(C);
    sent.length = 0;
    expect(await endsWithin(member.waitForChange(B.token, { timeoutMs: 60_000 }))).toBe(true);
    expect(sent).toEqual(['HGET', 'EXISTS']);
    // A lock attempt longer ago than one poll interval: the wait looks (a lease may have run out unannounced).
    const impatient = new RedisTokenStore({ client: counting, key, pollMs: 5 });
    expect((await impatient.load())?.token).toBe(C.token);
    expect(await impatient.lock(60_000)).toBeUndefined();
    for (const until = Date.now() + 10; Date.now() <= until; ); // let 10 ms pass
    sent.length = 0;
    const late = impatient.waitForChange(C.token, { timeoutMs: 20 });
    expect(sent.slice(0, 2)).toEqual(['HGET', 'EXISTS']);
    await late;
    // A read that fails (a corrupt hash, written without a PUBLISH) leaves no earlier read to trust: the wait looks.
    await lose(C.token);
    await client.hSet(key, 'expiresAt', 'soon');
    expect(await rejectionOf(member.load())).toMatchObject({ name: 'TokenStoreError', reason: 'corrupt' });
    sent.length = 0;
    const afterFailure = member.waitForChange(C.token, { timeoutMs: 20 });
    expect(sent).toEqual(['HGET', 'EXISTS']);
    await afterFailure;
    await holder.release();
  });

  it('waitForChange() wakes on a PUBLISHed save and release (the poll is an hour: the channel alone must wake it), and at the timeout', async () => {
    const waiter = await store({ pollMs: 3_600_000 });
    const holderStore = await store();
    await holderStore.save(A);
    const holder = (await holderStore.lock(60_000))!;
    let woke = false;
    const waiting = waiter.waitForChange(A.token, { timeoutMs: 30_000 }).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(woke).toBe(false);
    expect(await holder.saveIf(A.token, B)).toBe('saved');
    await waiting;
    const released = waiter.waitForChange(B.token, { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 100));
    await holder.release();
    await released;
    const other = (await holderStore.lock(60_000))!;
    const started = Date.now();
    await waiter.waitForChange(B.token, { timeoutMs: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await other.release();
  });

  it('a PUBLISH on <key>:events ends a wait at once, without looking: the hash still holds the token seen and the lock is held', async () => {
    const waiter = await store({ pollMs: 3_600_000 });
    await waiter.save(A);
    const holder = (await waiter.lock(60_000))!;
    const waiting = waiter.waitForChange(A.token, { timeoutMs: 60_000 });
    await subscribed(waiter.channel);
    await clients[0]!.publish(waiter.channel, 'saved');
    expect(await endsWithin(waiting)).toBe(true); // the old look-first wait saw "not moved" and went on waiting
    await holder.release();
  });

  it('waits share one subscriber connection per client: kept after a wait, reused by the next, and by another store on the same client', async () => {
    const client = await connect();
    const one = new RedisTokenStore({ client, key, pollMs: 3_600_000 });
    const two = new RedisTokenStore({ client, key: `${key}-other`, pollMs: 3_600_000 });
    await one.save(A);
    await two.save(A);
    const before = await pubsubIds();
    const wakeBy = async (s: RedisTokenStore) => {
      const waiting = s.waitForChange(A.token, { timeoutMs: 60_000 });
      await subscribed(s.channel);
      await clients[0]!.publish(s.channel, 'saved');
      await waiting;
    };
    await wakeBy(one);
    const after = await pubsubIds();
    const added = after.filter((id) => !before.includes(id));
    expect(added).toHaveLength(1); // kept open after the wait
    await wakeBy(one);
    await wakeBy(two);
    expect(await pubsubIds()).toEqual(after); // the same connection, nothing new
  });

  it('quitting the client closes its subscriber connection', async () => {
    const client = await connect();
    const s = new RedisTokenStore({ client, key, pollMs: 3_600_000 });
    await s.save(A);
    const before = await pubsubIds();
    const waiting = s.waitForChange(A.token, { timeoutMs: 60_000 });
    await subscribed(s.channel);
    await clients[0]!.publish(s.channel, 'saved');
    await waiting;
    const mine = (await pubsubIds()).filter((id) => !before.includes(id));
    expect(mine).toHaveLength(1);
    await client.quit();
    const until = Date.now() + 10_000;
    while ((await pubsubIds()).includes(mine[0]!) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(await pubsubIds()).not.toContain(mine[0]);
  });

  it('a process whose store has waited exits on its own: the subscriber connection it keeps is unref()ed', async () => {
    const child = spawnChild(process.execPath, ['--import', LOADER, join(ROOT, 'test/fixtures/redis-waiter.ts'), server.url, key], { cwd: ROOT });
    await child.waitForLine(/^waited$/);
    const exited = await Promise.race([child.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 15_000))]);
    expect(exited, child.stderr()).toEqual({ code: 0, signal: null });
  });

  it('Redis stops: a process whose client does not reconnect (reconnectStrategy: false) exits on its own; the subscriber, a duplicate() of the client, does not reconnect either', async () => {
    const doomed = await startRedisServer();
    try {
      const child = spawnChild(process.execPath, ['--import', LOADER, join(ROOT, 'test/fixtures/redis-waiter.ts'), doomed.url, key, 'no-reconnect'], { cwd: ROOT });
      await child.waitForLine(/^waited$/);
      await doomed.stop();
      await child.waitForLine(/^dropped$/);
      child.process.stdin!.end(); // the fixture's own hold on the process ends
      const exited = await Promise.race([child.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 15_000))]);
      expect(exited, child.stderr()).toEqual({ code: 0, signal: null });
    } finally {
      await doomed.stop();
    }
  });

  it('with its subscriber connection killed (CLIENT KILL TYPE pubsub) a wait still ends when the hash changes unannounced, and a later wait is woken by PUBLISH again', async () => {
    const client = await connect();
    const polling = new RedisTokenStore({ client, key, pollMs: 20 });
    const listening = new RedisTokenStore({ client, key, pollMs: 3_600_000 });
    await polling.save(A);
    const holder = (await polling.lock(60_000))!;
    const first = polling.waitForChange(A.token, { timeoutMs: 60_000 });
    await subscribed(polling.channel);
    await clients[0]!.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await clients[0]!.hSet(key, 'token', B.token); // changed without a PUBLISH: only a look can see it
    expect(await endsWithin(first)).toBe(true);
    await polling.save(A);
    // Only a PUBLISH can end this wait (the hash holds A, the lock is held, the poll is an hour);
    // published until it does, as the subscriber may be reconnecting or replaced meanwhile.
    let ended = false;
    const second = listening.waitForChange(A.token, { timeoutMs: 60_000 }).then(() => void (ended = true));
    const until = Date.now() + 10_000;
    while (!ended && Date.now() < until) {
      await clients[0]!.publish(listening.channel, 'saved');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await endsWithin(second, 0)).toBe(true);
    await holder.release();
  });

  it('a fleet: 6 managers, each on its own connection to one key, make 1 refresh and all end with the live token', async () => {
    const first = new RedisTokenStore({ client: await connect(), key });
    await first.save({ token: 'SECRET-REDIS-FLEET-0', expiresAt: Date.now() + 86_400_000 });
    let live = 'SECRET-REDIS-FLEET-0';
    const calls: string[] = [];
    const refresh = async ({ token }: { token: string }) => {
      calls.push(token);
      await new Promise((r) => setTimeout(r, 20));
      if (token !== live) throw new Error('401004');
      live = 'SECRET-REDIS-FLEET-1';
      return { token: live, expiresAt: Date.now() + 90 * 86_400_000 };
    };
    const managers = await Promise.all(Array.from({ length: 6 }, async () => new TokenManager({ store: await store(), refresh })));
    const tokens = await Promise.all(managers.map((m) => m.getToken()));
    expect(calls).toEqual(['SECRET-REDIS-FLEET-0']);
    expect(new Set(tokens)).toEqual(new Set([live]));
    expect((await first.load())?.token).toBe(live);
    expect(await clients.at(-1)!.exists(`${key}:lock`)).toBe(0);
  });

  it('a corrupt hash gives TokenStoreError "corrupt" naming the key and the server, never the content', async () => {
    const s = await store();
    await clients.at(-1)!.hSet(key, { version: '1', token: A.token, expiresAt: 'soon' });
    const error = await rejectionOf(s.load());
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error).toMatchObject({ reason: 'corrupt' });
    expect((error as Error).message).toContain(`Redis key "${key}" at ${server.url}`);
    expect((error as Error).message).toContain('has no valid "expiresAt"');
    expect(views(error)).not.toContain(A.token);
  });

  it('Redis down: a clear error naming the place (no password), never the token; a manager keeps serving its valid token', async () => {
    const doomed = await startRedisServer();
    const client = createClient({ url: `redis://user:hunter2-password@127.0.0.1:${doomed.port}`, socket: { reconnectStrategy: false } });
    client.on('error', () => undefined);
    // No such user on a fresh server: connect without credentials, but name the server from the URL.
    const plain = await connect(doomed.url);
    const s = new RedisTokenStore({ client: { sendCommand: (a) => plain.sendCommand(a), duplicate: () => plain.duplicate(), options: client.options }, key, commandTimeoutMs: 500 });
    await s.save(A);
    const errors: string[] = [];
    const manager = new TokenManager({
      store: s,
      refresh: async () => B,
      initial: { token: A.token, expiresAt: Date.now() + 86_400_000 }, // inside the window
      onError: (error, { phase }) => errors.push(`${phase}: ${(error as Error).message}`),
    });
    await doomed.stop();
    const error = await rejectionOf(s.load());
    expect(error).toMatchObject({ name: 'TokenStoreError', reason: 'read-failed' });
    expect((error as Error).message).toContain(`Redis key "${key}" at redis://127.0.0.1:${doomed.port}`);
    expect(views(error)).not.toContain('hunter2');
    expect(await manager.getToken()).toBe(A.token);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toContain(`redis://127.0.0.1:${doomed.port}`);
    expect(errors.join('\n')).not.toContain(A.token);
    expect(errors.join('\n')).not.toContain('hunter2');
  });
});
