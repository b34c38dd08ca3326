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
// With FLEET_TRACE=1 in its environment it also reports each step of the protocol as it starts
// and ends (`load>`/`load<`, `lock>`/`nolock`, `wait>`/`wait<`, `refresh>`, `saveIf>`,
// `release>`/`release<`, `signal`, and `cpu` used from the signal to the token), for timelines
// of a rotation; the tests do not set it.
// `pause` stops the process itself (SIGSTOP) right after taking the lock, or right after its
// refresh came back, for the paused-holder proofs; the test sends SIGCONT.
import { createInterface } from 'node:readline';
import { createClient } from 'redis';
import { clientRefresh, TokenManager, type RefreshFunction, type TokenStore, type TokenStoreLock } from '../../src/index.js';
import { FileTokenStore } from '../../src/lifecycle/file-token-store.js';
import { RedisTokenStore } from '../../src/lifecycle/redis-token-store.js';
import { WARM_UP_TOKEN } from './warm-up.js';

export interface WorkerConfig {
  baseUrl: string;
  store: { kind: 'file'; path: string } | { kind: 'redis'; url: string; key: string };
  lockTtlMs: number;
  refreshWindowMs: number;
  /** The client's timeout for one refresh (must stay below lockTtlMs). */
  timeoutMs: number;
  backoffMs: number;
  /** The store's `pollMs` while it waits for another member's rotation; default: the store's own (100 ms). */
  pollMs?: number;
  pause?: 'after-lock' | 'after-refresh';
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const now = () => performance.timeOrigin + performance.now();
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const trace = process.env.FLEET_TRACE === '1' ? (event: string) => say({ event, at: now() }) : () => undefined;

let redis: ReturnType<typeof createClient> | undefined;
let store: TokenStore;
if (config.store.kind === 'file') {
  store = new FileTokenStore(config.store.path, { pollMs: config.pollMs });
} else {
  redis = createClient({ url: config.store.url });
  redis.on('error', () => undefined); // reported through the store's errors
  await redis.connect();
  store = new RedisTokenStore({ client: redis, key: config.store.key, pollMs: config.pollMs });
}

const pauseHere = (point: WorkerConfig['pause']) => {
  if (config.pause === point) process.kill(process.pid, 'SIGSTOP');
};

/** The store, reporting its lock and compare-and-set saves. */
const observed: TokenStore = {
  async load() {
    trace('load>');
    const stored = await store.load();
    trace('load<');
    return stored;
  },
  save: (token) => store.save(token),
  async waitForChange(seen, options) {
    trace('wait>');
    await store.waitForChange!(seen, options);
    trace('wait<');
  },
  async lock(ttlMs: number) {
    trace('lock>');
    const lock = await store.lock!(ttlMs);
    if (lock === undefined) {
      trace('nolock');
      return undefined;
    }
    say({ event: 'locked', at: now() });
    pauseHere('after-lock');
    const watched: TokenStoreLock = {
      fence: lock.fence,
      renew: () => lock.renew(),
      async release() {
        trace('release>');
        await lock.release();
        trace('release<');
      },
      async saveIf(expected, next) {
        trace('saveIf>');
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
    trace('refresh>');
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

process.on('SIGUSR1', () => {
  trace('signal');
  const cpu = process.cpuUsage();
  void report(manager.getToken()).then(() => {
    const used = process.cpuUsage(cpu);
    trace(`cpu user ${(used.user / 1000).toFixed(1)} sys ${(used.system / 1000).toFixed(1)} ms`);
  });
});
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'get') void report(manager.getToken());
  else if (line === 'invalidate') void report(manager.invalidate(held ?? ''));
  else if (line === 'exit') {
    manager.close();
    process.stdin.destroy();
    void redis?.quit().catch(() => undefined);
  }
});
// Warm up as a long-running member would be, whose code has run before: the store read and
// locked once, and the refresh path run once through the client, with WARM_UP_TOKEN, a token the
// emulator never issued, so it refuses it (401004) and nothing rotates. The tests leave these
// requests out of their counts (fleetRequests() in harness.ts).
await store.load();
await (await store.lock!(config.lockTtlMs))?.release();
await inner({ token: WARM_UP_TOKEN, expiresAt: Date.now() + 3_600_000 }).catch(() => undefined);
say({ event: 'ready', at: now() });
