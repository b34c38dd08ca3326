// Proof: SIGKILL the lock holder at a random point, 50 runs a store, a short TTL (1.5 s), on a
// token file and on Redis. Two processes per run on a fresh store against the emulator at 20 ms.
// The survivor recovers (holds the live token) unless the kill fell between the server acting and
// the save, the only window in which the token can be lost; the store is never corrupt. The
// random kill points span the holder's whole rotation (lock, refresh, save, release), so some
// runs die before the server acted, some after the save. The counts are printed.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/emulator.js';
import { FileTokenStore } from '../../src/lifecycle/file-token-store.js';
import { RedisTokenStore } from '../../src/lifecycle/redis-token-store.js';
import type { TokenStore } from '../../src/lifecycle/token-store.js';
import { stopAll } from '../helpers/child.js';
import { redisServerPath, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { clock, release, startFleet, type Worker } from './harness.js';
import type { WorkerConfig } from './worker.js';

const DAY = 24 * 3600 * 1000;
const RUNS = 50;
const TTL_MS = 1_500;
const BACKOFF_MS = 50;
/** Kill points: up to this long after the holder took the lock (its rotation takes about 40–80 ms here). */
const KILL_WITHIN_MS = 100;
const hasRedis = redisServerPath() !== undefined;
let emulator: Emulator;
let redis: RedisServer | undefined;
let redisClient: ReturnType<typeof createClient> | undefined;
let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fleet-killed-'));
  emulator = await startEmulator({ latencyMs: 20 });
  if (hasRedis) {
    redis = await startRedisServer();
    redisClient = createClient({ url: redis.url });
    await redisClient.connect();
  }
});
afterAll(async () => {
  await stopAll();
  await redisClient?.quit().catch(() => undefined);
  await redis?.stop();
  await emulator.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** `promise`, or a failure naming `what` after `ms`: a run that hangs fails at once, with its events. */
function within<T>(ms: number, promise: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The token a dead holder left complete in its `next.tmp` (in its fence folder, still in the
 * lock or already broken out of it), or `undefined`: none, or torn.
 */
function leftNextToken(path: string): string | undefined {
  const folders = readdirSync(dirname(path)).filter((entry) => entry.startsWith(`${basename(path)}.lock`));
  for (const folder of folders) {
    const fences = folder.endsWith('.lock') ? readdirSync(join(dirname(path), folder)).map((fence) => join(folder, fence)) : [folder];
    for (const fence of fences) {
      try {
        const token = (JSON.parse(readFileSync(join(dirname(path), fence, 'next.tmp'), 'utf8')) as { token?: unknown }).token;
        if (typeof token === 'string') return token;
      } catch {
        // no next.tmp there, or torn
      }
    }
  }
  return undefined;
}

/** A fresh store for run `run`: this process's view of it, and the workers' config. */
const stores: Record<'file' | 'redis', (run: number) => { store: TokenStore; config: WorkerConfig['store'] }> = {
  file: (run) => {
    const path = join(tmp, `run-${run}.json`);
    return { store: new FileTokenStore(path), config: { kind: 'file', path } };
  },
  redis: (run) => {
    const key = `fleet-killed-${run}`;
    return { store: new RedisTokenStore({ client: redisClient!, key }), config: { kind: 'redis', url: redis!.url, key } };
  },
};

describe.each([
  ['a token file (FileTokenStore)', 'file'],
  ['Redis (RedisTokenStore)', 'redis'],
] as const)('on %s', (label, kind) => {
  it.skipIf(kind === 'redis' && !hasRedis)(
    `${RUNS} runs: the holder SIGKILLed at a random point; the other recovers unless the kill fell between the server acting and the save; the store is never corrupt`,
    async () => {
      const counts = { beforeServer: 0, afterSave: 0, inNextTmp: 0, lost: 0 };
      // From the kill until the survivor holds the live token; 0 when it already held it (it can take the holder's save before the kill lands).
      const recoveries = { store: [] as number[], refresh: [] as number[] };
      const setUp = async (run: number) => {
        const { store, config } = stores[kind](run);
        const token = emulator.issueToken(Date.now() + 3 * DAY);
        await store.save({ token, expiresAt: Date.now() + 3 * DAY });
        const workers = await startFleet(2, {
          baseUrl: emulator.url,
          store: config,
          lockTtlMs: TTL_MS,
          refreshWindowMs: 7 * DAY,
          timeoutMs: 1_000,
          backoffMs: BACKOFF_MS,
          pollMs: 20, // the short test TTL: look often
        });
        return { store, token, workers };
      };
      let next = setUp(0);
      for (let run = 0; run < RUNS; run++) {
        const { store, token, workers } = await next;
        if (run + 1 < RUNS) {
          next = setUp(run + 1); // the next pair starts while this run goes on
          next.catch(() => undefined); // awaited next run; if this run fails, its workers are stopped
        }
        try {
          release(workers);
          const holder = await Promise.race(workers.map((worker) => worker.next('locked').then(() => worker)));
          const survivor = workers.find((worker) => worker !== holder) as Worker;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * KILL_WITHIN_MS)); // a random kill point, not a wait for a condition
          const killedAt = clock();
          holder.child.kill('SIGKILL');
          await holder.child.exited;

          expect(await store.load()).toBeDefined(); // throws if torn or corrupt: never
          // Killed after the server acted and after its next.tmp was written, before the rename
          // (during the fsync): the new token is only there, and the survivor must save it.
          const orphan = store instanceof FileTokenStore && (await store.load())?.token === token ? leftNextToken(store.path) : undefined;

          // What the survivor does decides nothing by itself, and the run is classified only
          // once it has acted: the emulator may still act on the dead holder's request just
          // after the kill (half its latency comes before it acts), and the survivor acts a
          // lock TTL later. Either it takes a successor (`changed`), or its own refresh is
          // refused because the holder's went through (`error` in phase refresh).
          // A survivor slow to start (under load) may first read the store after the holder's
          // save: it then starts on the successor, which is no change (no `changed` event).
          const changed = survivor.next('changed');
          const startedOnSuccessor = survivor
            .next('token', (event) => event.token !== token)
            .then((event) => ({ event: 'changed' as const, token: event.token, source: 'store' as const, at: event.at }));
          const refused = survivor.next('error', (event) => event.phase === 'refresh');
          for (const wait of [changed, startedOnSuccessor, refused]) wait.catch(() => undefined); // the ones that lose reject when the workers are killed
          const outcome = await within(
            10 * TTL_MS,
            Promise.race([changed, startedOnSuccessor, refused]),
            () => `run ${run}: the survivor neither took a new token nor had its refresh refused; its events: ${JSON.stringify(survivor.events)}`,
          );
          const successes = () => emulator.requests.filter((request) => request.token === token && request.code === 0);
          if (orphan !== undefined) {
            expect(outcome, `run ${run}: the holder died with its new token in next.tmp; the survivor takes it`).toMatchObject({ event: 'changed', source: 'store', token: orphan });
          }
          if (outcome.event === 'error' && outcome.code === 401004) {
            // The server acted on the holder's refresh, and the holder died before its save:
            // the token is lost, and the survivor sent one refresh from the dead token, no more.
            counts.lost += 1;
            expect(successes()).toHaveLength(1);
            expect(holder.events.some((event) => event.event === 'saveIf' && event.result === 'saved')).toBe(false);
            expect((await store.load())?.token).toBe(token);
            continue;
          }
          let taken = outcome;
          if (taken.event === 'error') {
            // Its refresh failed otherwise (a timeout under heavy load): the member is told its
            // token was refused (`invalidate`), which rotates again at once.
            survivor.send('invalidate');
            taken = await within(10 * TTL_MS, survivor.next('changed'), () => `run ${run}: no recovery after ${JSON.stringify(outcome)}; events: ${JSON.stringify(survivor.events)}`);
          }
          if (taken.event !== 'changed') throw new Error('unreachable');
          recoveries[taken.source].push(Math.max(0, taken.at - killedAt));
          // `store`: the holder saved before it died, or wrote its next.tmp, which the survivor
          // saved when it broke the lease; the survivor took that token;
          // `refresh`: the holder died before the server acted, and the survivor refreshed.
          if (taken.source === 'store') counts[orphan === undefined ? 'afterSave' : 'inNextTmp'] += 1;
          else counts.beforeServer += 1;
          expect(successes(), 'one refresh from the initial token went through').toHaveLength(1);
          expect(taken.token).toBe(successes()[0]!.issued!.token);
          expect(emulator.liveTokens().find((entry) => entry.token === taken.token), 'the survivor holds a live token').toBeDefined();
          expect((await store.load())?.token).toBe(taken.token);
        } finally {
          for (const worker of workers) worker.child.kill();
        }
      }
      const summary = (xs: number[]) => {
        const sorted = [...xs].sort((a, b) => a - b);
        return sorted.length === 0 ? 'no run' : `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`;
      };
      console.log(
        `SIGKILL of the lock holder on ${label}, ${RUNS} runs (TTL ${TTL_MS} ms, back-off ${BACKOFF_MS} ms, kill within ${KILL_WITHIN_MS} ms of the lock): ` +
          `${counts.beforeServer} killed before the server acted (the other refreshed), ${counts.afterSave} after the new token reached the store (the other took it), ` +
          (kind === 'file' ? `${counts.inNextTmp} with the new token only in the holder's next.tmp (the other saved it), ` : '') +
          `${counts.lost} between the server acting and the save (token lost); store never corrupt; ` +
          `from the kill until the survivor held the live token: ${summary(recoveries.refresh)} where it refreshed, ${summary(recoveries.store)} where it took the new token`,
      );
      expect(counts.beforeServer + counts.afterSave + counts.inNextTmp + counts.lost).toBe(RUNS);
    },
    1_200_000,
  );
});
