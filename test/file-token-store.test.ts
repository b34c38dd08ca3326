// FileTokenStore: the token file format, mode 0600, clear errors that name the path but
// never show the content, and atomic saves: a writer SIGKILLed at random points always
// leaves the complete old or the complete new token, never an empty or corrupt file.
import { spawn, spawnSync } from 'node:child_process';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FileTokenStore, TokenStoreError } from '../src/lifecycle/file-token-store.js';
import { InvalidInputError, TokenManager } from '../src/index.js';
import { rejectionOf, views } from './helpers/views.js';

const SECRET = 'SECRET-FILE-TOKEN-9b1d77';
const EXPIRES = Date.parse('2099-01-01T00:00:00.000Z');
const root = await mkdtemp(join(tmpdir(), 'lb-file-store-'));
afterAll(() => rm(root, { recursive: true, force: true }));

let dir: string;
let file: string;
let n = 0;
beforeEach(async () => {
  dir = join(root, `case-${++n}`);
  file = join(dir, 'token.json');
});

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
const tempsIn = async (path: string) => (await readdir(path)).filter((f) => f.endsWith('.tmp'));

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('FileTokenStore', () => {
  it('load() resolves undefined when the file does not exist', async () => {
    expect(await new FileTokenStore(file).load()).toBeUndefined();
  });

  it('save() writes {version, token, expiresAt (ISO)} with mode 0600, creating the directory (0700)', async () => {
    const store = new FileTokenStore(file);
    await store.save({ token: SECRET, expiresAt: EXPIRES });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, token: SECRET, expiresAt: '2099-01-01T00:00:00.000Z' });
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await new FileTokenStore(file).load()).toEqual({ token: SECRET, expiresAt: EXPIRES });
    expect(await tempsIn(dir)).toEqual([]);
  });

  it('keeps issuedAt (ISO) when the token has one; a file without it, or with one that is not a date-time, loads without it', async () => {
    const store = new FileTokenStore(file);
    const ISSUED = Date.parse('2098-10-03T00:00:00.000Z');
    await store.save({ token: SECRET, expiresAt: EXPIRES, issuedAt: ISSUED });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, token: SECRET, expiresAt: '2099-01-01T00:00:00.000Z', issuedAt: '2098-10-03T00:00:00.000Z' });
    expect(await store.load()).toEqual({ token: SECRET, expiresAt: EXPIRES, issuedAt: ISSUED });
    await writeFile(file, JSON.stringify({ version: 1, token: SECRET, expiresAt: '2099-01-01T00:00:00.000Z', issuedAt: 'last Tuesday' }));
    expect(await store.load()).toEqual({ token: SECRET, expiresAt: EXPIRES });
    await expect(store.save({ token: SECRET, expiresAt: EXPIRES, issuedAt: Number.NaN })).rejects.toMatchObject({ name: 'InvalidInputError', field: 'token.issuedAt' });
  });

  it('replaces a world-readable file with a 0600 one', async () => {
    const store = new FileTokenStore(file);
    await store.save({ token: 'old-token', expiresAt: EXPIRES });
    await chmod(file, 0o644);
    await store.save({ token: SECRET, expiresAt: EXPIRES + 1 });
    expect(await modeOf(file)).toBe(0o600);
    expect(await store.load()).toEqual({ token: SECRET, expiresAt: EXPIRES + 1 });
  });

  it.skipIf(process.getuid?.() !== 0)('run as root, a save keeps the owner and group of the file it replaces (a rotation by root must not take the file from the user whose process reads it), through the lock too; a new file takes its folder\'s', async () => {
    const store = new FileTokenStore(file);
    await store.save({ token: 'old-token', expiresAt: EXPIRES });
    await chown(file, 1234, 2345);
    await store.save({ token: SECRET, expiresAt: EXPIRES + 1 });
    expect(await stat(file)).toMatchObject({ uid: 1234, gid: 2345 });
    expect(await modeOf(file)).toBe(0o600);
    const lock = (await store.lock(60_000))!;
    expect(await lock.saveIf(SECRET, { token: 'next-token', expiresAt: EXPIRES + 2 })).toBe('saved');
    await lock.release();
    expect(await stat(file)).toMatchObject({ uid: 1234, gid: 2345 });
    // A new file (rotate's <file>.unsaved rescue copy, a first save) gets its folder's owner and group.
    await mkdir(join(dir, 'bobs'), { mode: 0o700 });
    await chown(join(dir, 'bobs'), 1234, 2345);
    await new FileTokenStore(join(dir, 'bobs', 'token.json.unsaved')).save({ token: SECRET, expiresAt: EXPIRES });
    expect(await stat(join(dir, 'bobs', 'token.json.unsaved'))).toMatchObject({ uid: 1234, gid: 2345 });
  });

  it('follows a symbolic link: the link stays, its target gets the new token, and members given either name share one lock', async () => {
    const target = join(dir, 'secrets', 'token.json');
    await new FileTokenStore(target).save({ token: 'old-token', expiresAt: EXPIRES });
    await mkdir(join(dir, 'bot'), { recursive: true });
    await symlink(target, join(dir, 'bot', 'token.json'));
    const viaLink = new FileTokenStore(join(dir, 'bot', 'token.json'));
    await viaLink.save({ token: SECRET, expiresAt: EXPIRES + 1 });
    expect((await lstat(join(dir, 'bot', 'token.json'))).isSymbolicLink()).toBe(true);
    expect(await new FileTokenStore(target).load()).toEqual({ token: SECRET, expiresAt: EXPIRES + 1 });
    const lock = (await viaLink.lock(60_000))!;
    expect(await new FileTokenStore(target).lock(60_000)).toBeUndefined();
    await lock.release();
  });

  it('resolves a relative path and rejects a bad one with InvalidInputError', () => {
    expect(new FileTokenStore('token.json').path).toBe(join(process.cwd(), 'token.json'));
    expect(() => new FileTokenStore('')).toThrow(InvalidInputError);
    expect(() => new FileTokenStore(undefined as unknown as string)).toThrow(InvalidInputError);
  });

  it('save() rejects a bad record with InvalidInputError and writes nothing', async () => {
    const store = new FileTokenStore(file);
    for (const bad of [{ token: '', expiresAt: EXPIRES }, { token: SECRET, expiresAt: Number.NaN }, null]) {
      const error = await rejectionOf(store.save(bad as never));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(views(error)).not.toContain(SECRET);
    }
    expect(await store.load()).toBeUndefined();
  });

  it('serializes concurrent saves: the last one wins, no temp file remains', async () => {
    const store = new FileTokenStore(file);
    await Promise.all(Array.from({ length: 25 }, (_, i) => store.save({ token: `token-${i}`, expiresAt: EXPIRES + i })));
    expect(await store.load()).toEqual({ token: 'token-24', expiresAt: EXPIRES + 24 });
    expect(await tempsIn(dir)).toEqual([]);
  });

  describe('a corrupt file gives TokenStoreError "corrupt" naming the path, never the content', () => {
    const longToken = `${SECRET}-${'y'.repeat(64)}`;
    const full = JSON.stringify({ version: 1, token: longToken, expiresAt: '2099-01-01T00:00:00.000Z' });
    it.each([
      ['truncated JSON', full.slice(0, full.indexOf(SECRET) + SECRET.length + 10), /not valid JSON/],
      ['an empty file', '', /is empty/],
      ['white space only', ' \n', /is empty/],
      ['a JSON array', JSON.stringify([longToken]), /JSON object/],
      ['an unknown version', JSON.stringify({ version: 2, token: longToken, expiresAt: '2099-01-01T00:00:00Z' }), /format version/],
      ['no token', JSON.stringify({ version: 1, expiresAt: '2099-01-01T00:00:00Z' }), /"token"/],
      ['a token with a line break', JSON.stringify({ version: 1, token: `${SECRET}\n`, expiresAt: '2099-01-01T00:00:00Z' }), /"token"/],
      ['an expiry in ms, not ISO', JSON.stringify({ version: 1, token: longToken, expiresAt: EXPIRES }), /"expiresAt"/],
      ['an impossible date', JSON.stringify({ version: 1, token: longToken, expiresAt: '2099-02-30T00:00:00Z' }), /"expiresAt"/],
    ])('%s', async (_, content, why) => {
      await new FileTokenStore(file).save({ token: 'placeholder', expiresAt: EXPIRES }); // creates the directory
      await writeFile(file, content);
      const error = await rejectionOf(new FileTokenStore(file).load());
      expect(error).toBeInstanceOf(TokenStoreError);
      expect(error).toMatchObject({ name: 'TokenStoreError', reason: 'corrupt', path: file });
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(why);
      expect((error as Error).cause).toBeUndefined(); // JSON.parse's message would quote the content
      expect(views(error)).not.toContain(SECRET);
    });
  });

  it('reads a file longer than one read whole (load reads 16 kB at once)', async () => {
    await mkdir(dir, { recursive: true });
    const text = `${JSON.stringify({ version: 1, token: SECRET, expiresAt: new Date(EXPIRES).toISOString() })}${' '.repeat(40_000)}\n`;
    await writeFile(file, text);
    expect(await new FileTokenStore(file).load()).toEqual({ token: SECRET, expiresAt: EXPIRES });
    await writeFile(file, `${text.slice(0, -1)}x`); // the end is read too
    expect(await rejectionOf(new FileTokenStore(file).load())).toMatchObject({ reason: 'corrupt' });
  });

  it('an unreadable path gives TokenStoreError "read-failed" with the path and the error code', async () => {
    await mkdir(dir, { recursive: true });
    await symlink(file, file); // a link to itself: ELOOP, even for root
    const error = await rejectionOf(new FileTokenStore(file).load());
    expect(error).toMatchObject({ name: 'TokenStoreError', reason: 'read-failed', path: file });
    expect((error as Error).message).toMatch(/ELOOP/);
  });

  it('a folder where the file should be gives TokenStoreError "not-a-file" naming the path', async () => {
    await new FileTokenStore(join(file, 'inner.json')).save({ token: SECRET, expiresAt: EXPIRES }); // file is now a directory
    const error = await rejectionOf(new FileTokenStore(file).load());
    expect(error).toMatchObject({ name: 'TokenStoreError', reason: 'not-a-file', path: file });
    expect((error as Error).message).toContain(file);
    expect(views(error)).not.toContain(SECRET);
  });

  it('a FIFO at the path is refused at once with "not-a-file", instead of waiting for a writer forever', async () => {
    await mkdir(dir, { recursive: true });
    expect(spawnSync('mkfifo', [file]).status).toBe(0);
    const store = new FileTokenStore(file);
    const error = await rejectionOf(store.load());
    expect(error).toMatchObject({ name: 'TokenStoreError', reason: 'not-a-file', path: file });
    expect((error as Error).message).toMatch(/not a regular file/);
    // The manager reports it and keeps serving the token it holds.
    const reports: string[] = [];
    const manager = new TokenManager({
      store,
      initial: { token: SECRET, expiresAt: EXPIRES },
      refresh: async () => ({ token: 'never', expiresAt: EXPIRES + 1 }),
      onError: (e, { phase }) => reports.push(`${phase}:${(e as TokenStoreError).reason}`),
    });
    expect(await manager.getToken()).toBe(SECRET);
    expect(reports).toEqual(['load:not-a-file']);
  });

  it('a failed write gives TokenStoreError "write-failed", leaves the old file and no temp file', async () => {
    const store = new FileTokenStore(file);
    await store.save({ token: 'old-token', expiresAt: EXPIRES });
    // A directory where the file should be makes the rename fail after the temp file is written.
    const blocked = join(dir, 'blocked.json');
    await new FileTokenStore(join(blocked, 'x.json')).save({ token: 'x', expiresAt: EXPIRES });
    const error = await rejectionOf(new FileTokenStore(blocked).save({ token: SECRET, expiresAt: EXPIRES }));
    expect(error).toMatchObject({ name: 'TokenStoreError', reason: 'write-failed', path: blocked });
    expect((error as Error).message).toMatch(/rename/);
    expect(views(error)).not.toContain(SECRET);
    expect(await tempsIn(dir)).toEqual([]);
    // And a path below a regular file cannot even get its directory.
    const below = await rejectionOf(new FileTokenStore(join(file, 'token.json')).save({ token: SECRET, expiresAt: EXPIRES }));
    expect(below).toMatchObject({ reason: 'write-failed' });
    expect(await store.load()).toEqual({ token: 'old-token', expiresAt: EXPIRES });
  });

  it('ignores temp files left by a crashed process, and the next save removes them', async () => {
    const store = new FileTokenStore(file);
    await store.save({ token: 'old-token', expiresAt: EXPIRES });
    const dead = deadPid();
    const stale = [`token.json.${dead}.0123456789ab.tmp`, `token.json.${dead}.ffffffffffff.tmp`];
    await writeFile(join(dir, stale[0]!), '{"version":1,"tok'); // a partial write
    await writeFile(join(dir, stale[1]!), '');
    await writeFile(join(dir, 'unrelated.json.1.aa.tmp'), 'not ours');
    expect(await store.load()).toEqual({ token: 'old-token', expiresAt: EXPIRES });
    await store.save({ token: 'new-token', expiresAt: EXPIRES });
    expect((await readdir(dir)).sort()).toEqual(['token.json', 'unrelated.json.1.aa.tmp']);
  });

  it('keeps a refreshed token across a restart of the TokenManager', async () => {
    const store = new FileTokenStore(file);
    let t = Date.parse('2030-01-01T00:00:00Z');
    const first = new TokenManager({
      store,
      initial: { token: 'portal-token', expiresAt: t + 3_600_000 }, // within the default window
      now: () => t,
      refresh: async () => ({ token: SECRET, expiresAt: new Date(t + 90 * 86_400_000) }),
    });
    expect(await first.getToken()).toBe(SECRET);
    t += 60_000;
    let refreshes = 0;
    const second = new TokenManager({
      store: new FileTokenStore(file),
      initial: { token: 'portal-token', expiresAt: '2030-01-01T01:00:00Z' }, // the now dead configured token
      now: () => t,
      refresh: async () => {
        refreshes++;
        return { token: 'never', expiresAt: t + 1 };
      },
    });
    expect(await second.getToken()).toBe(SECRET);
    expect(refreshes).toBe(0);
  });

  it('never shows the token in util.inspect, JSON or String() of the store', async () => {
    const store = new FileTokenStore(file);
    await store.save({ token: SECRET, expiresAt: EXPIRES });
    await store.load();
    expect(views(store)).not.toContain(SECRET);
  });
});

describe('crash safety: a writer SIGKILLed at random points', () => {
  // 4 MB tokens: a save takes ~25 ms here and its write is split into 512 KiB chunks, so a
  // kill often lands mid-write. Checked by breaking save() into an in-place write: about 10
  // of 16 kills then left a truncated file, which this test reports.
  const ROUNDS = 20;
  const PADDING = 4_000_000;
  const fixture = fileURLToPath(new URL('./fixtures/token-store/crash-writer.ts', import.meta.url));

  // mulberry32: reproducible kill times; the seed is printed in every assertion message.
  const seed = Number(process.env.CRASH_SEED ?? 0x5eed);
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };

  /** Runs the writer, kills it `delayMs` after it started, resolves the last index it reported saved. */
  function killedWriter(path: string, round: number, delayMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, path, String(PADDING), String(round)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      let timer: NodeJS.Timeout | undefined;
      const guard = setTimeout(() => child.kill('SIGKILL'), 15_000); // never outlive the test
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (timer === undefined && out.startsWith('start\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(guard);
        clearTimeout(timer);
        if (signal !== 'SIGKILL') return reject(new Error(`writer exited with ${code ?? signal}: ${err.slice(0, 500)}`));
        const saved = [...out.matchAll(/^saved (\d+)$/gm)].map((m) => Number(m[1]));
        resolve(saved.length ? saved[saved.length - 1]! : 0);
      });
    });
  }

  it(`leaves the complete old or the complete new token after each of ${ROUNDS} kills (or more, until one hits a write)`, async () => {
    const crashDir = join(root, 'crash');
    const path = join(crashDir, 'token.json');
    const store = new FileTokenStore(path);
    await store.save({ token: `T-0-0-${'x'.repeat(PADDING)}`, expiresAt: 4_102_444_800_000 });
    const tokenPattern = new RegExp(`^T-(\\d+)-(\\d+)-x{${PADDING}}$`);
    let old = { round: 0, index: 0 };
    let killsMidWrite = 0;

    // Under heavy load a run of kills can all miss the writes (the writer is slow to reach its
    // loop): then more rounds, up to three times as many, until one hits a write.
    for (let round = 1; round <= ROUNDS || (killsMidWrite === 0 && round <= 3 * ROUNDS); round++) {
      const delayMs = Math.floor(random() * 80);
      const context = `seed ${seed}, round ${round}, kill after ${delayMs} ms`;
      const reported = await killedWriter(path, round, delayMs);

      const loaded = await new FileTokenStore(path).load(); // throws on an empty or corrupt file
      expect(loaded, context).toBeDefined();
      const match = tokenPattern.exec(loaded!.token);
      expect(match, `${context}: the token is not complete`).not.toBeNull();
      const now = { round: Number(match![1]), index: Number(match![2]) };
      if (now.round === old.round && now.index === old.index) {
        expect(reported, `${context}: a save that resolved was lost`).toBe(0);
      } else {
        expect(now.round, context).toBe(round);
        // Linux writes to a pipe synchronously, so the last report is at most one save behind.
        expect(now.index, context).toBeGreaterThanOrEqual(Math.max(1, reported));
        expect(now.index, context).toBeLessThanOrEqual(reported + 1);
      }
      expect(loaded!.expiresAt, context).toBe(now.round === 0 ? 4_102_444_800_000 : 4_102_444_800_000 + now.index);

      const temps = await tempsIn(crashDir);
      if (temps.length > 0) killsMidWrite++;
      for (const temp of temps) expect(await modeOf(join(crashDir, temp)), `${context}: ${temp}`).toBe(0o600);
      expect(await modeOf(path), context).toBe(0o600);
      old = now;
    }

    // Evidence that the kills hit the write itself, not only the gaps between saves.
    expect(killsMidWrite, `seed ${seed}`).toBeGreaterThan(0);
    // The next save removes the temp files of the killed writers.
    await store.save({ token: 'after-the-crashes', expiresAt: 4_102_444_800_000 });
    expect(await readdir(crashDir)).toEqual(['token.json']);
    expect(await store.load()).toEqual({ token: 'after-the-crashes', expiresAt: 4_102_444_800_000 });
  }, 300_000);
});
