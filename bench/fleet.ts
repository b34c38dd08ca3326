// `npm run bench:fleet` (also run by `npm run bench`; not part of `npm test`): the time of one
// fleet rotation against the time of one refresh, against the emulator at 20 ms latency, for a
// token file and for Redis (when redis-server is installed); and getToken() on the hot path of a
// coordinating TokenManager. Fleets of N worker processes (test/fleet/worker.ts) are released by
// one signal after every one is ready; a rotation ends when the last member holds the new
// token. Prints medians and ratios; asserts nothing. N = 1 is a lone member in the same harness
// (lock, refresh, save, release, and no one to wait): the rotation's cost without a fleet, so
// the coordination cost shows on its own ("vs N=1"). The target stays against one refresh.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { createTokenClient, TokenManager } from '../src/index.js';
import { startEmulator } from '../src/emulator/emulator.js';
import { FileTokenStore } from '../src/lifecycle/file-token-store.js';
import { RedisTokenStore } from '../src/lifecycle/redis-token-store.js';
import type { TokenStore } from '../src/lifecycle/token-store.js';
import { stopAll } from '../test/helpers/child.js';
import { redisServerPath, startRedisServer } from '../test/helpers/redis-server.js';
import { clock, median, release, startFleet } from '../test/fleet/harness.js';
import type { WorkerConfig } from '../test/fleet/worker.js';

const ROUNDS = Number(process.env.BENCH_FLEET_ROUNDS ?? 5);
const SIZES = [1, 2, 4, 8];
const LATENCY_MS = 20;
const DAY = 24 * 3600 * 1000;

const tmp = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
const emulator = await startEmulator({ latencyMs: LATENCY_MS });
const redis = redisServerPath() ? await startRedisServer() : undefined;
const redisClient = redis ? createClient({ url: redis.url }) : undefined;
await redisClient?.connect();

/** One warm refresh through the client, in this process: the yardstick. */
async function oneRefresh(): Promise<number> {
  const client = createTokenClient({ accessToken: emulator.issueToken(), accountChannel: 'lb', baseUrl: emulator.url });
  const started = clock();
  await client.refreshAccessToken();
  return clock() - started;
}

async function rotation(kind: 'file' | 'redis', n: number, round: number): Promise<number> {
  let store: TokenStore;
  let config: WorkerConfig['store'];
  if (kind === 'file') {
    const path = join(tmp, `bench-${n}-${round}.json`);
    store = new FileTokenStore(path);
    config = { kind, path };
  } else {
    const key = `bench-fleet-${n}-${round}`;
    store = new RedisTokenStore({ client: redisClient!, key });
    config = { kind, url: redis!.url, key };
  }
  await store.save({ token: emulator.issueToken(Date.now() + 3 * DAY), expiresAt: Date.now() + 3 * DAY });
  const workers = await startFleet(n, { baseUrl: emulator.url, store: config, lockTtlMs: 20_000, refreshWindowMs: 7 * DAY, timeoutMs: 10_000, backoffMs: 1_000 });
  try {
    const released = release(workers);
    const held = await Promise.all(workers.map((worker) => worker.next('token')));
    return Math.max(...held.map((event) => event.at)) - released;
  } finally {
    for (const worker of workers) worker.child.kill();
  }
}

try {
  console.log(`fleet rotation vs one refresh, emulator at ${LATENCY_MS} ms latency, ${ROUNDS} rounds (medians)`);
  console.log('store   N   rotation ms   one refresh ms   ratio (target <= 1.5)   vs N=1');
  for (const kind of ['file', 'redis'] as const) {
    if (kind === 'redis' && !redis) {
      console.log('redis   -   skipped: redis-server is not installed');
      continue;
    }
    let lone: number | undefined;
    for (const n of SIZES) {
      const rotations: number[] = [];
      const refreshes: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        refreshes.push(await oneRefresh()); // interleaved, so both see the same machine load
        rotations.push(await rotation(kind, n, round));
      }
      const [r, one] = [median(rotations), median(refreshes)];
      lone ??= r;
      console.log(
        `${kind.padEnd(7)} ${String(n).padEnd(3)} ${r.toFixed(1).padStart(11)} ${one.toFixed(1).padStart(16)}   ${`${(r / one).toFixed(2)}x`.padEnd(23)} ${(r / lone).toFixed(2)}x`,
      );
    }
  }

  // getToken() outside the refresh window, on a coordinating store: one comparison, no store read.
  const manager = new TokenManager({
    refresh: async () => ({ token: 'never', expiresAt: Date.now() + 90 * DAY }),
    store: new FileTokenStore(join(tmp, 'hot.json')),
    initial: { token: 'hot-path-token', expiresAt: Date.now() + 90 * DAY },
  });
  await manager.getToken();
  const CALLS = 2_000_000;
  const samples: number[] = [];
  for (let round = 0; round < 7; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) void manager.getToken();
    samples.push(Number(process.hrtime.bigint() - started) / CALLS);
  }
  console.log(`getToken() hot path (FileTokenStore, coordinating): median ${median(samples).toFixed(1)} ns per call (target < 100 ns)`);
} finally {
  await stopAll();
  await redisClient?.quit().catch(() => undefined);
  await redis?.stop();
  await emulator.close();
  rmSync(tmp, { recursive: true, force: true });
}
