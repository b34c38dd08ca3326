// One member of a fleet, as its own process: a TokenManager on a shared store (a token file or
// Redis), refreshing against the emulator. Started by test/fleet/harness.ts with its config as
// JSON in argv[2]. It reports on stdout, one JSON object a line:
//   {"event":"ready"}                        set up and warmed up, waiting for SIGUSR1 (the start barrier)
//   {"event":"locked"}                       its store's lock() gave it the lock
//   {"event":"refreshed"}                    its refresh call came back (the server acted)
//   {"event":"saveIf","result":"saved"|"changed"|"lost"}
//   {"event":"token","token","at"}           getToken() / invalidate() resolved
//   {"event":"changed","token","source","at"}  subscribe(): the held token changed
//   {"event":"error","phase","name","code"}  onError
// and takes commands on stdin, one a line: `get`, `invalidate`, `exit`. SIGUSR1 = `get`.
// `pause` stops the process itself (SIGSTOP) right after taking the lock, or right after its
// refresh came back, for the paused-holder proofs; the test sends SIGCONT.
import { createInterface } from 'node:readline';
import { createClient } from 'redis';
import { clientRefresh, TokenManager, type RefreshFunction, type TokenStore, type TokenStoreLock } from '../../src/index.js';
import { FileTokenStore } from '../../src/lifecycle/file-token-store.js';
import { RedisTokenStore } from '../../src/lifecycle/redis-token-store.js';

export interface WorkerConfig {
  baseUrl: string;
  store: { kind: 'file'; path: string } | { kind: 'redis'; url: string; key: string };
  lockTtlMs: number;
  refreshWindowMs: number;
  /** The client's timeout for one refresh (must stay below lockTtlMs). */
  timeoutMs: number;
  backoffMs: number;
  pause?: 'after-lock' | 'after-refresh';
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const now = () => performance.timeOrigin + performance.now();
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

let redis: ReturnType<typeof createClient> | undefined;
let store: TokenStore;
if (config.store.kind === 'file') {
  store = new FileTokenStore(config.store.path, { pollMs: 20 });
} else {
  redis = createClient({ url: config.store.url });
  redis.on('error', () => undefined); // reported through the store's errors
  await redis.connect();
  store = new RedisTokenStore({ client: redis, key: config.store.key, pollMs: 20 });
}

const pauseHere = (point: WorkerConfig['pause']) => {
  if (config.pause === point) process.kill(process.pid, 'SIGSTOP');
};

/** The store, reporting its lock and compare-and-set saves. */
const observed: TokenStore = {
  load: () => store.load(),
  save: (token) => store.save(token),
  waitForChange: (seen, options) => store.waitForChange!(seen, options),
  async lock(ttlMs: number) {
    const lock = await store.lock!(ttlMs);
    if (lock === undefined) return undefined;
    say({ event: 'locked', at: now() });
    pauseHere('after-lock');
    const watched: TokenStoreLock = {
      fence: lock.fence,
      renew: () => lock.renew(),
      release: () => lock.release(),
      async saveIf(expected, next) {
        const result = await lock.saveIf(expected, next);
        say({ event: 'saveIf', result, at: now() });
        return result;
      },
    };
    return watched;
  },
};

const inner = clientRefresh({ accountChannel: 'lb', baseUrl: config.baseUrl, timeoutMs: config.timeoutMs, retry: false });
const refresh: RefreshFunction = Object.assign(
  async (current: Parameters<RefreshFunction>[0]) => {
    const result = await inner(current);
    say({ event: 'refreshed', at: now() });
    pauseHere('after-refresh');
    return result;
  },
  { deadlineMs: inner.deadlineMs },
);

const manager = new TokenManager({
  refresh,
  store: observed,
  lockTtlMs: config.lockTtlMs,
  refreshWindowMs: config.refreshWindowMs,
  backoff: { initialMs: config.backoffMs, maxMs: config.backoffMs },
  onError: (error, { phase }) =>
    say({ event: 'error', phase, name: (error as Error)?.name, code: (error as { code?: unknown })?.code, reason: (error as { reason?: unknown })?.reason, at: now() }),
});
manager.subscribe((token, { source }) => say({ event: 'changed', token, source, at: now() }));

let held: string | undefined;
const report = (promise: Promise<string>) =>
  promise.then(
    (token) => {
      held = token;
      say({ event: 'token', token, at: now() });
    },
    (error: unknown) => say({ event: 'error', phase: 'get', name: (error as Error)?.name, at: now() }),
  );

process.on('SIGUSR1', () => void report(manager.getToken()));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'get') void report(manager.getToken());
  else if (line === 'invalidate') void report(manager.invalidate(held ?? ''));
  else if (line === 'exit') {
    manager.close();
    process.stdin.destroy();
    void redis?.quit().catch(() => undefined);
  }
});
// Warm up as a long-running member would be: the store read and locked once, the HTTP client
// loaded and connected (GET /warm-up is no operation of the spec: the emulator answers 404).
await store.load();
await (await store.lock!(config.lockTtlMs))?.release();
await fetch(`${config.baseUrl}/warm-up`).then((response) => response.arrayBuffer(), () => undefined);
say({ event: 'ready', at: now() });
