// One member of a fleet, as its own process: a TokenManager on a shared store (a token file or
// Redis), refreshing against the emulator. Started by test/fleet/harness.ts with its config as
// JSON in argv[2]. It reports on stdout, one JSON object a line:
//   {"event":"ready","settledMs"}            set up and warmed up (with `warm`, also idle), waiting for SIGUSR1 (the start barrier)
//   {"event":"locked"}                       its store's lock() gave it the lock
//   {"event":"refreshed"}                    its refresh call came back (the server acted)
//   {"event":"saveIf","result":"saved"|"changed"|"lost"}
//   {"event":"token","token","at"}           getToken() / invalidate() resolved
//   {"event":"changed","token","source","at"}  subscribe(): the held token changed
//   {"event":"error","phase","name","code"}  onError
// and takes commands on stdin, one a line: `get`, `invalidate`, `exit`. SIGUSR1 = `get`.
// With FLEET_TRACE=1 in its environment it also reports each step of the protocol as it starts
// and ends (`load>`/`load<`, `lock>`/`nolock`, `wait>`/`wait<`, `refresh>`, `saveIf>`,
// `release>`/`release<`, `signal`, and `cpu` used from the signal to the token), each with
// `cpu`, the ms of CPU the process used since the signal (all its threads), and every garbage
// collection (`gc`, with its `ms`), for timelines of a rotation (`FLEET_TRACE=1 npm run
// bench:fleet` prints them); the tests do not set it.
// `pause` stops the process itself (SIGSTOP) right after taking the lock, or right after its
// refresh came back, for the paused-holder proofs; the test sends SIGCONT.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createClient } from 'redis';
import { clientRefresh, TokenManager, type RefreshFunction, type TokenStore, type TokenStoreLock } from '../../src/index.js';
import { FileTokenStore } from '../../src/lifecycle/file-token-store.js';
import { RedisTokenStore } from '../../src/lifecycle/redis-token-store.js';
import { startEmulator } from '../../src/emulator/emulator.js';
import { settle, WARM_RUNS, WARM_UP_TOKEN } from './warm-up.js';

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
  /** For timings: rehearse the rotation's code (see rehearse()), and say "ready" only once the process is idle (see settle()). */
  warm?: boolean;
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const now = () => performance.timeOrigin + performance.now();
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
/** CPU this process used since the release signal (all its threads), in ms; with FLEET_TRACE=1. */
let cpuAtSignal: NodeJS.CpuUsage | undefined;
const cpuMs = () => {
  if (cpuAtSignal === undefined) return undefined;
  const used = process.cpuUsage(cpuAtSignal);
  return Math.round((used.user + used.system) / 100) / 10;
};
const tracing = process.env.FLEET_TRACE === '1';
const trace = tracing ? (event: string) => say({ event, at: now(), cpu: cpuMs() }) : () => undefined;
if (tracing) {
  // Garbage collections, so a timeline shows whether one fell inside a rotation.
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) say({ event: 'gc', ms: Math.round(entry.duration * 10) / 10, at: performance.timeOrigin + entry.startTime });
  }).observe({ entryTypes: ['gc'] });
}

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
    const carried = await store.waitForChange!(seen, options);
    trace('wait<');
    return carried;
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
      ...(lock.load && {
        async load() {
          trace('load>');
          const stored = await lock.load!();
          trace('load<');
          return stored;
        },
      }),
      renew: () => lock.renew(),
      async release() {
        trace('release>');
        await lock.release();
        trace('release<');
      },
      async saveIf(expected, next, options) {
        trace('saveIf>');
        const result = await lock.saveIf(expected, next, options);
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
  const cpu = process.cpuUsage();
  cpuAtSignal = cpu;
  trace('signal');
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
if (config.warm) {
  const stuck = setTimeout(() => {
    throw new Error('the rehearsals of a rotation did not end within 30 s');
  }, 30_000);
  await rehearse(WARM_RUNS);
  clearTimeout(stuck);
}
const settledMs = config.warm ? await settle() : undefined;
say({ event: 'ready', at: now(), settledMs });

/**
 * Runs the rotation's own code `times` times, as the lock holder and as a waiter, on a scratch
 * store (a folder of its own, or a Redis key of its own) against a private emulator, so the code
 * the member runs after the release has run as often as the yardstick's client has: the first
 * runs of a function compile it, and the waiter's path (fs.watch, a Redis subscriber) was never
 * run by the warm-up above. Nothing of it reaches the fleet's store or the fleet's emulator.
 */
async function rehearse(times: number): Promise<void> {
  const emulator = await startEmulator();
  const folder = config.store.kind === 'file' ? await mkdtemp(join(tmpdir(), 'fleet-rehearsal-')) : undefined;
  const key = `${config.store.kind === 'redis' ? config.store.key : ''}:rehearsal:${process.pid}`;
  const scratch = (): TokenStore => (folder ? new FileTokenStore(join(folder, 'token.json')) : new RedisTokenStore({ client: redis!, key }));
  const options = {
    refresh: clientRefresh({ accountChannel: 'lb', baseUrl: emulator.url, timeoutMs: config.timeoutMs, retry: false }),
    lockTtlMs: config.lockTtlMs,
    refreshWindowMs: config.refreshWindowMs,
  };
  try {
    for (let run = 0; run < times; run++) await rehearseOnce();
  } finally {
    await emulator.close();
    if (folder) await rm(folder, { recursive: true, force: true });
    else await redis!.sendCommand(['DEL', key]);
  }

  async function rehearseOnce(): Promise<void> {
    const expiresAt = Date.now() + 3 * 24 * 3600 * 1000; // inside the window: the holder refreshes it
    await scratch().save({ token: emulator.issueToken(expiresAt), expiresAt });
    // The holder: look, lock, look, refresh, save, release.
    const refreshed = await new TokenManager({ ...options, store: scratch() }).getToken();
    // A waiter: the lock is taken, it waits for the store to change and takes the successor.
    const otherStore = scratch();
    let other = await otherStore.lock!(config.lockTtlMs);
    while (other === undefined) {
      // The holder served its token on its save, before its release: wait until it has released.
      await otherStore.waitForChange!(refreshed, { timeoutMs: 1_000 });
      other = await otherStore.lock!(config.lockTtlMs);
    }
    const waiterStore = scratch();
    const waitForChange = waiterStore.waitForChange!.bind(waiterStore);
    let waiting!: () => void;
    const inWait = new Promise<void>((resolve) => (waiting = resolve));
    waiterStore.waitForChange = (seen, options) => {
      const done = waitForChange(seen, options);
      waiting();
      return done;
    };
    const waiter = new TokenManager({ ...options, store: waiterStore }).refreshNow(); // holds the refreshed token, outside its window
    await inWait;
    // Expiring after the refreshed one, as a successor does, so the waiter takes it from the message (Redis).
    const later = Date.now() + 365 * 24 * 3600 * 1000;
    await other.saveIf(refreshed, { token: emulator.issueToken(later), expiresAt: later });
    await other.release();
    await waiter;
  }
}
