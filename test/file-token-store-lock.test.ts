// FileTokenStore's lock and compare-and-set save (the format README and the class comment
// document): one holder at a time, a lease that runs out, a broken lease refuses the old
// holder's save in the same step as the rename, release never frees another holder's lock,
// waiters wake on a save or a release. And a fleet of managers on one file, in one process.
// The multi-process proofs (N processes, SIGSTOP/SIGKILL) run against the emulator elsewhere.
import fs, { readFileSync, watch } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FileTokenStore, TokenStoreError } from '../src/lifecycle/file-token-store.js';
import { TokenManager } from '../src/index.js';
import { rejectionOf, views } from './helpers/views.js';

const A = { token: 'SECRET-LOCK-TOKEN-A-1234', expiresAt: Date.parse('2099-01-01T00:00:00Z') };
const B = { token: 'SECRET-LOCK-TOKEN-B-5678', expiresAt: Date.parse('2099-02-01T00:00:00Z') };
const C = { token: 'SECRET-LOCK-TOKEN-C-9012', expiresAt: Date.parse('2099-03-01T00:00:00Z') };
const root = await mkdtemp(join(tmpdir(), 'lb-file-lock-'));
afterAll(() => rm(root, { recursive: true, force: true }));

let dir: string;
let file: string;
let n = 0;
beforeEach(async () => {
  dir = join(root, `case-${++n}`);
  file = join(dir, 'token.json');
});

/** Makes the lease of the lock's holder run out by moving its folder's mtime into the past. */
async function expireLease(store: FileTokenStore) {
  const [fence] = await readdir(store.lockPath);
  const past = new Date(Date.now() - 3_600_000);
  await utimes(join(store.lockPath, fence!), past, past);
}

describe('FileTokenStore lock', () => {
  it('one holder at a time; the layout is <file>.lock/<fence>/owner.json; release frees it', async () => {
    const one = new FileTokenStore(file);
    const two = new FileTokenStore(file);
    const lock = await one.lock(60_000);
    expect(lock?.fence).toMatch(/^[0-9a-f]{32}$/);
    expect(await two.lock(60_000)).toBeUndefined();
    expect(await readdir(one.lockPath)).toEqual([lock!.fence]);
    const owner = JSON.parse(await readFile(join(one.lockPath, lock!.fence, 'owner.json'), 'utf8'));
    expect(owner).toMatchObject({ version: 1, pid: process.pid, ttlMs: 60_000 });
    expect(typeof owner.host).toBe('string');
    await lock!.release();
    expect(await readdir(dir)).toEqual([]); // no lock folder, nothing left behind
    const again = await two.lock(60_000);
    expect(again).toBeDefined();
    expect(again!.fence).not.toBe(lock!.fence);
    await again!.release();
  });

  it('saveIf() saves only while the file holds the expected token and the lock is held', async () => {
    const store = new FileTokenStore(file);
    const lock = (await store.lock(60_000))!;
    expect(await lock.saveIf(A.token, B)).toBe('changed'); // the file is empty, not A
    expect(await lock.saveIf(undefined, A)).toBe('saved');
    expect(await store.load()).toEqual(A);
    expect(await lock.saveIf(C.token, B)).toBe('changed');
    expect(await lock.saveIf(A.token, B)).toBe('saved');
    expect(await store.load()).toEqual(B);
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    await lock.release();
    expect(await lock.saveIf(B.token, C)).toBe('lost'); // released: not ours any more
    expect(await store.load()).toEqual(B);
  });

  it('saveIf() calls onVisible once, when the file holds the new token, before it resolves (the folder\'s fsync still running)', async () => {
    const store = new FileTokenStore(file);
    const lock = (await store.lock(60_000))!;
    const order: string[] = [];
    const saving = lock.saveIf(undefined, A, {
      onVisible: () => order.push(`visible: ${JSON.parse(readFileSync(file, 'utf8')).token === A.token ? 'new' : 'old'} token in the file`),
    });
    expect(order).toEqual([]); // not before the write
    expect(await saving).toBe('saved');
    order.push('saved');
    expect(order).toEqual(['visible: new token in the file', 'saved']);
    const refused = await lock.saveIf(C.token, B, { onVisible: () => order.push('visible again') });
    expect(refused).toBe('changed'); // not saved: not visible
    expect(order).toEqual(['visible: new token in the file', 'saved']);
    await lock.release();
  });

  it('saveIf() keeps the file it replaced linked in the fence folder until the release, so the rename that makes the new token visible frees no blocks', async () => {
    // On a file system mounted with `discard`, freeing a file's blocks waits for the device in
    // the calling thread: a rename over the last link of the old file held a fleet's holder 5 ms.
    const store = new FileTokenStore(file);
    await store.save(A);
    const before = await stat(file);
    const lock = (await store.lock(60_000))!;
    expect(await lock.saveIf(A.token, B)).toBe('saved');
    const kept = join(store.lockPath, lock.fence, 'replaced');
    expect((await stat(kept)).ino).toBe(before.ino); // the old file itself, not a copy
    expect((await stat(kept)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(kept, 'utf8')).token).toBe(A.token);
    expect(await store.load()).toEqual(B);
    await lock.release();
    expect(await readdir(dir)).toEqual(['token.json']); // removed with the fence folder
  });

  it('a lease that ran out is broken by the next taker; the old holder then finds renew() false, saveIf() "lost", and its release leaves the new lock alone', async () => {
    const store = new FileTokenStore(file);
    await store.save(A);
    const stalled = (await store.lock(60_000))!;
    await expireLease(store);
    const taker = (await new FileTokenStore(file).lock(60_000))!;
    expect(taker).toBeDefined();
    expect(await stalled.renew()).toBe(false);
    expect(await stalled.saveIf(A.token, C)).toBe('lost');
    expect(await store.load()).toEqual(A);
    await stalled.release();
    expect(await readdir(store.lockPath)).toEqual([taker.fence]);
    expect(await taker.saveIf(A.token, B)).toBe('saved');
    expect(await store.load()).toEqual(B);
    await taker.release();
  });

  it('renew() keeps a live lease: a holder that renews is never broken', async () => {
    const store = new FileTokenStore(file);
    const lock = (await store.lock(200))!;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 60));
      expect(await lock.renew()).toBe(true);
      expect(await new FileTokenStore(file).lock(200)).toBeUndefined();
    }
    await lock.release();
  });

  it('an empty lock folder (left by a release that could not remove it) is free', async () => {
    const store = new FileTokenStore(file);
    await mkdir(store.lockPath, { recursive: true });
    const lock = await store.lock(60_000);
    expect(lock).toBeDefined();
    await lock!.release();
  });

  it('a lock path that is a file gives TokenStoreError "lock-failed" naming it', async () => {
    const store = new FileTokenStore(file);
    await mkdir(dir, { recursive: true });
    await writeFile(store.lockPath, 'not a lock');
    const error = await rejectionOf(store.lock(60_000));
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error).toMatchObject({ reason: 'lock-failed', path: file });
    expect((error as Error).message).toContain(store.lockPath);
  });

  it('saveIf() on a corrupt file rejects with "corrupt" naming the path, never the content', async () => {
    const store = new FileTokenStore(file);
    await mkdir(dir, { recursive: true });
    await writeFile(file, `{"version":1,"token":"${A.token}"`);
    const lock = (await store.lock(60_000))!;
    const error = await rejectionOf(lock.saveIf(A.token, B));
    expect(error).toMatchObject({ name: 'TokenStoreError', reason: 'corrupt', path: file });
    expect(views(error)).not.toContain(A.token);
    expect(views(error)).not.toContain(B.token);
    await lock.release();
  });
});

describe('FileTokenStore waitForChange()', () => {
  it('wakes on a save by another holder, on a release, and at the timeout; at once when already changed', async () => {
    const store = new FileTokenStore(file, { pollMs: 10_000 }); // fs.watch alone must wake it
    await store.save(A);
    const holder = (await new FileTokenStore(file).lock(60_000))!;

    let woke = false;
    const waiting = store.waitForChange(A.token, { timeoutMs: 30_000 }).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(woke).toBe(false);
    expect(await holder.saveIf(A.token, B)).toBe('saved');
    await waiting;

    const released = store.waitForChange(B.token, { timeoutMs: 30_000 });
    await holder.release();
    await released;

    const started = Date.now();
    await store.waitForChange(B.token, { timeoutMs: 100 }); // nothing changes: the lock is free though
    await store.waitForChange(A.token, { timeoutMs: 30_000 }); // already changed: at once
    expect(Date.now() - started).toBeLessThan(30_000);
    const held = (await store.lock(60_000))!;
    const t0 = Date.now();
    await store.waitForChange(B.token, { timeoutMs: 150 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    const aborted = new AbortController();
    const stop = store.waitForChange(B.token, { timeoutMs: 30_000, signal: aborted.signal });
    aborted.abort();
    await stop;
    await held.release();
  });
});

/** A store that counts its reads: a waiter reads once per look. */
class Counting extends FileTokenStore {
  loads = 0;
  override load() {
    this.loads += 1;
    return super.load();
  }
}

/** The entries of `folder` that change from now on, as this process's fs.watch hears of them. */
function folderEvents(folder: string) {
  const seen: string[] = [];
  let sentinel: { name: string; arrived: () => void } | undefined;
  const watcher = watch(folder, (_event, name) => {
    seen.push(String(name));
    if (sentinel !== undefined && String(name) === sentinel.name) sentinel.arrived();
  });
  return {
    seen,
    /** Makes a sentinel file and resolves when its event arrives: every earlier event has reached every watcher of this process by then. */
    settle: () =>
      new Promise<void>((arrived, failed) => {
        sentinel = { name: `sentinel-${seen.length}`, arrived };
        writeFile(join(folder, sentinel.name), '').catch(failed);
      }),
    close: () => watcher.close(),
  };
}

describe('FileTokenStore: members that wait make no noise and hear none', () => {
  it('lock() on a lock visibly held changes nothing in the folder (no staging folder that would wake the waiters)', async () => {
    const store = new FileTokenStore(file);
    await store.save(A);
    const holder = (await store.lock(60_000))!;
    const events = folderEvents(dir);
    try {
      for (let i = 0; i < 3; i++) expect(await new FileTokenStore(file).lock(60_000)).toBeUndefined();
      await events.settle();
      expect(events.seen.filter((name) => !name.startsWith('sentinel-'))).toEqual([]);
    } finally {
      events.close();
      await holder.release();
    }
  });

  it("waitForChange() is not woken by a taker's staging folder nor a save's temp file, only by the file or the lock", async () => {
    await new FileTokenStore(file).save(A);
    const holder = (await new FileTokenStore(file).lock(60_000))!;
    const waiter = new Counting(file, { pollMs: 3_600_000 }); // no poll: only the folder's events wake it
    const events = folderEvents(dir);
    try {
      const waiting = waiter.waitForChange(A.token, { timeoutMs: 60_000 });
      expect(waiter.loads).toBe(1); // the first look, at once
      // What an older member's taker, or one racing for a free lock, leaves: a staging folder; and a save's temp file.
      const staging = `${file}.lock-${'0'.repeat(32)}.new`;
      await mkdir(join(staging, '0'.repeat(32)), { recursive: true });
      await writeFile(join(staging, '0'.repeat(32), 'owner.json'), '{}');
      await rm(staging, { recursive: true });
      await writeFile(`${file}.${process.pid}.0123456789ab.tmp`, 'partial');
      await rm(`${file}.${process.pid}.0123456789ab.tmp`);
      await events.settle(); // the waiter's watcher has had all of these by now
      expect(waiter.loads).toBe(1);
      await holder.release(); // the lock is free: that wakes it, and it ends
      await waiting;
      expect(waiter.loads).toBe(2);
    } finally {
      events.close();
      await holder.release();
    }
  });

  it('a member that lost the lock race waits without a look: its read found the token, a lock attempt after it found the lock taken, and the file is still the one it read', async () => {
    await new FileTokenStore(file).save(A);
    const holder = (await new FileTokenStore(file).lock(60_000))!;
    const member = new Counting(file, { pollMs: 3_600_000 }); // no poll: only the folder's events wake it
    const lose = async (token: string) => {
      expect((await member.load())?.token).toBe(token);
      expect(await member.lock(60_000)).toBeUndefined();
      member.loads = 0;
    };
    try {
      await lose(A.token);
      const quiet = member.waitForChange(A.token, { timeoutMs: 60_000 });
      expect(member.loads).toBe(0); // a look would have read the file by now (it starts in the same tick)
      expect(await holder.saveIf(A.token, B)).toBe('saved');
      await quiet; // the rename's event ends it
      expect(member.loads).toBe(0);
      // The file replaced between the read and the wait, before the wait's watch began (so no
      // event can tell it): its stat shows another file, and the wait looks at once.
      await lose(B.token);
      await new FileTokenStore(file).save(C);
      const replaced = member.waitForChange(B.token, { timeoutMs: 60_000 });
      expect(member.loads).toBe(1);
      await replaced;
      // A read that found another token than the one waited on: the wait looks.
      await lose(C.token);
      const other = member.waitForChange(A.token, { timeoutMs: 60_000 });
      expect(member.loads).toBe(1);
      await other;
      // A lock attempt longer ago than one poll interval: the wait looks (a lease may have run out unannounced).
      const impatient = new Counting(file, { pollMs: 5 });
      expect((await impatient.load())?.token).toBe(C.token);
      expect(await impatient.lock(60_000)).toBeUndefined();
      for (const until = Date.now() + 10; Date.now() <= until; ); // let 10 ms pass
      impatient.loads = 0;
      const late = impatient.waitForChange(C.token, { timeoutMs: 20 });
      expect(impatient.loads).toBe(1);
      await late;
      // A read that fails leaves no earlier read to trust, even when the file looks the same to
      // stat (rewritten in place, same size, mtime put back): the wait looks.
      const second = Math.floor(Date.now() / 1000); // a whole second: utimes can put it back exactly
      await utimes(file, second, second);
      await lose(C.token);
      await writeFile(file, '#'.repeat((await stat(file)).size));
      await utimes(file, second, second);
      expect(await rejectionOf(member.load())).toMatchObject({ name: 'TokenStoreError', reason: 'corrupt' });
      expect(await member.lock(60_000)).toBeUndefined();
      member.loads = 0;
      const afterFailure = member.waitForChange(C.token, { timeoutMs: 60_000 });
      expect(member.loads).toBe(1);
      await afterFailure; // the look fails to read: the wait ends, for the manager to read and report
    } finally {
      await holder.release();
    }
  });

  it('a save (the token file renamed into place) ends a wait at once, without a look: the manager reads the store next anyway', async () => {
    await new FileTokenStore(file).save(A);
    const holder = (await new FileTokenStore(file).lock(60_000))!;
    const waiter = new Counting(file, { pollMs: 3_600_000 }); // no poll: only the folder's events wake it
    try {
      const waiting = waiter.waitForChange(A.token, { timeoutMs: 60_000 });
      expect(waiter.loads).toBe(1); // the first look, at once
      expect(await holder.saveIf(A.token, B)).toBe('saved');
      await waiting;
      expect(waiter.loads).toBe(1); // ended by the rename's event alone
    } finally {
      await holder.release();
    }
  });
});

describe('a fleet of TokenManagers on one token file (one process)', () => {
  it('6 managers, each with its own FileTokenStore on the same path: 1 refresh, all end with the live token', async () => {
    await new FileTokenStore(file).save({ token: 'SECRET-FILE-FLEET-0', expiresAt: Date.now() + 86_400_000 });
    let live = 'SECRET-FILE-FLEET-0';
    const calls: string[] = [];
    const refresh = async ({ token }: { token: string }) => {
      calls.push(token);
      await new Promise((r) => setTimeout(r, 20));
      if (token !== live) throw new Error('401004');
      live = 'SECRET-FILE-FLEET-1';
      return { token: live, expiresAt: Date.now() + 90 * 86_400_000 };
    };
    const managers = Array.from({ length: 6 }, () => new TokenManager({ store: new FileTokenStore(file), refresh }));
    const tokens = await Promise.all(managers.map((m) => m.getToken()));
    expect(calls).toEqual(['SECRET-FILE-FLEET-0']);
    expect(new Set(tokens)).toEqual(new Set([live]));
    expect((await new FileTokenStore(file).load())?.token).toBe(live);
    await expect.poll(() => readdir(dir)).toEqual(['token.json']); // released (after the holder's callers were served)
  });

  it("a release removes staging folders (<file>.lock-<fence>.new) left by takers killed before their install, not a live taker's", async () => {
    const store = new FileTokenStore(file);
    await store.save(A);
    const staging = (fence: string) => `${store.lockPath}-${fence}.new`;
    for (const fence of ['d'.repeat(32), 'e'.repeat(32)]) {
      await mkdir(join(staging(fence), fence), { recursive: true });
      await writeFile(join(staging(fence), fence, 'owner.json'), '{}');
    }
    const [dead, live] = [staging('d'.repeat(32)), staging('e'.repeat(32))];
    const longAgo = new Date(Date.now() - 3_600_000);
    await utimes(dead, longAgo, longAgo); // an hour old: its taker is gone
    await (await store.lock(60_000))!.release();
    expect((await readdir(dir)).sort()).toEqual(['token.json', basename(live)].sort());
  });
});

describe('FileTokenStore: a holder that died between its refresh and its save, or in its release', () => {
  /** A holder of the lock that wrote its next token into next.tmp (as a save does before its fsync and rename) and died: its lease then runs out. */
  async function diedWhileSaving(store: FileTokenStore, next: string) {
    (await store.lock(60_000))!; // never released
    const [fence] = await readdir(store.lockPath);
    await writeFile(join(store.lockPath, fence!, 'next.tmp'), next, { mode: 0o600 });
    await expireLease(store);
  }
  const record = (t: { token: string; expiresAt: number }) => `${JSON.stringify({ version: 1, token: t.token, expiresAt: new Date(t.expiresAt).toISOString() })}\n`;

  it.each([
    ['the member that breaks its lease', false],
    ['a member that then lost the race for the lock (the lock folder left empty)', true],
  ])('a lease broken by %s: the member that takes the lock saves the complete next token the dead holder left; the token the server issued is not lost', async (_by, brokenByAnother) => {
    const store = new FileTokenStore(file);
    await store.save(A);
    await diedWhileSaving(store, record(B));
    if (brokenByAnother) {
      // As a breaker does, before another member installs its lock first.
      const [fence] = await readdir(store.lockPath);
      await rename(join(store.lockPath, fence!), `${store.lockPath}-${fence!}.broken`);
    }
    const taker = (await new FileTokenStore(file).lock(60_000))!;
    expect((await store.load())?.token).toBe(B.token);
    expect((await readdir(dir)).filter((entry) => entry.endsWith('.broken'))).toEqual([]);
    await taker.release();
  });

  /**
   * Has another member act at one point inside the store's own steps: `step` runs once, just
   * before the store's next `fs[name]` call on a path that `at` matches (the store is paused
   * there, as a process can be). Returns what undoes it.
   */
  function meanwhile(name: 'mkdirSync' | 'readFileSync', at: (path: string) => boolean, step: () => void): () => void {
    const original = fs[name] as (...args: unknown[]) => unknown;
    const restore = () => {
      Object.assign(fs, { [name]: original });
      syncBuiltinESMExports();
    };
    Object.assign(fs, {
      [name]: (...args: unknown[]) => {
        if (typeof args[0] === 'string' && at(args[0])) {
          restore();
          step();
        }
        return original(...args);
      },
    });
    syncBuiltinESMExports(); // the store's named imports from node:fs see it
    return restore;
  }

  it('a member that takes the lock and is paused while it saves the dead holder\'s token, its own lease broken meanwhile: it has no lock, and the folder stays for the next member, which saves that token', async () => {
    const store = new FileTokenStore(file);
    await store.save(A);
    await diedWhileSaving(store, record(B));
    const restore = meanwhile('readFileSync', (path) => path.endsWith('next.tmp'), () => {
      // Its lease runs out while it is paused, and another member breaks it, as a breaker does.
      const [fence] = fs.readdirSync(store.lockPath);
      fs.renameSync(join(store.lockPath, fence!), `${store.lockPath}-${fence!}.broken`);
    });
    try {
      expect(await new FileTokenStore(file).lock(60_000)).toBeUndefined(); // its save was refused: 'lost'
    } finally {
      restore();
    }
    expect((await store.load())?.token).toBe(A.token);
    const next = (await new FileTokenStore(file).lock(60_000))!;
    await next.release();
    expect((await store.load())?.token).toBe(B.token);
    expect(await readdir(dir)).toEqual(['token.json']);
  });

  it('a member that broke the dead holder\'s lease and lost the race for the lock, to one that had looked before the break (and so does not look for left folders), saves that token at its next lock take', async () => {
    const store = new FileTokenStore(file);
    await store.save(A);
    await diedWhileSaving(store, record(B));
    const breaker = new FileTokenStore(file);
    const other = 'c'.repeat(32);
    const restore = meanwhile('mkdirSync', (path) => path.endsWith('.new'), () => {
      // The other member, paused since it found no lock, installs its own now, as lock() does.
      const staging = `${store.lockPath}-${other}.new`;
      fs.mkdirSync(join(staging, other), { recursive: true });
      const owner = { version: 1, pid: process.pid, host: hostname(), ttlMs: 60_000, acquiredAt: new Date().toISOString() };
      fs.writeFileSync(join(staging, other, 'owner.json'), JSON.stringify(owner));
      fs.renameSync(staging, store.lockPath);
    });
    try {
      expect(await breaker.lock(60_000)).toBeUndefined();
    } finally {
      restore();
    }
    // The other member's refresh from the dead A fails; it releases, as release() does.
    await rename(join(store.lockPath, other), `${store.lockPath}-${other}.released`);
    await rm(`${store.lockPath}-${other}.released`, { recursive: true });
    await rm(store.lockPath, { recursive: true });
    const lock = (await breaker.lock(60_000))!;
    expect((await store.load())?.token).toBe(B.token);
    await lock.release();
    expect(await readdir(dir)).toEqual(['token.json']);
  });

  it('a holder killed in its release, after moving its folder out of the lock: the next member to take the lock removes that folder and the copy of the replaced token it keeps', async () => {
    const store = new FileTokenStore(file);
    await store.save(A);
    const holder = (await store.lock(60_000))!;
    expect(await holder.saveIf(A.token, B)).toBe('saved');
    // The release's first step, and then the process is gone: the lock folder is left empty.
    await rename(join(store.lockPath, holder.fence), `${store.lockPath}-${holder.fence}.released`);
    expect(await readdir(join(`${store.lockPath}-${holder.fence}.released`))).toContain('replaced');
    const taker = (await new FileTokenStore(file).lock(60_000))!;
    await taker.release();
    expect(await readdir(dir)).toEqual(['token.json']);
    expect((await store.load())?.token).toBe(B.token);
  });

  it('a manager whose refresh window is open takes that token and sends no refresh', async () => {
    const store = new FileTokenStore(file);
    await store.save(A);
    await diedWhileSaving(store, record(B));
    const calls: string[] = [];
    const manager = new TokenManager({
      store: new FileTokenStore(file),
      refreshWindowMs: 365 * 86_400_000 * 200, // A is inside it
      lockTtlMs: 60_000,
      refresh: async ({ token }) => {
        calls.push(token);
        return C;
      },
    });
    expect(await manager.getToken()).toBe(B.token);
    expect(calls).toEqual([]);
    manager.close();
  });

  it('a torn next.tmp, or one older than the file, is not saved: the file keeps its token', async () => {
    const store = new FileTokenStore(file);
    await store.save(B);
    await diedWhileSaving(store, record(C).slice(0, 30));
    await (await new FileTokenStore(file).lock(60_000))!.release();
    expect((await store.load())?.token).toBe(B.token);
    await diedWhileSaving(store, record(A)); // A expires before B
    await (await new FileTokenStore(file).lock(60_000))!.release();
    expect((await store.load())?.token).toBe(B.token);
  });
});
