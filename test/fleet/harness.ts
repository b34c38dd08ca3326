// Drives a fleet of worker processes (test/fleet/worker.ts) against the emulator: starts N of
// them on one store, waits until every one has said "ready", releases them all with one
// signal, and collects what each reports. Waits are on events (a line printed, an exit),
// never on sleeps; every child is killed by stopAll() (afterAll / finally).
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnChild, type Child } from '../helpers/child.js';
import type { FloorWorkerConfig } from './floor-worker.js';
import type { WorkerConfig } from './worker.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const WORKER = join(ROOT, 'test/fleet/worker.ts');
/** The floor's member (bench/fleet.ts). */
export const FLOOR_WORKER = join(ROOT, 'test/fleet/floor-worker.ts');
/** Extra node options for every worker, for diagnosis: e.g. `FLEET_NODE_ARGS=--perf-basic-prof` to profile a rotation with perf. */
const NODE_ARGS = process.env.FLEET_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

export type WorkerEvent =
  | { event: 'ready' | 'locked' | 'refreshed'; at: number }
  | { event: 'saveIf'; result: 'saved' | 'changed' | 'lost'; at: number }
  | { event: 'token'; token: string; at: number }
  | { event: 'changed'; token: string; source: 'refresh' | 'store'; at: number }
  | { event: 'error'; phase: string; name?: string; code?: unknown; reason?: unknown; at: number };

export interface Worker {
  readonly child: Child;
  readonly events: WorkerEvent[];
  /** Resolves with the first event (past or future) that `match` accepts; rejects if the worker exits first. */
  next<E extends WorkerEvent['event']>(event: E, match?: (e: Extract<WorkerEvent, { event: E }>) => boolean): Promise<Extract<WorkerEvent, { event: E }>>;
  /** Sends a command line: `get`, `invalidate`, `exit`. */
  send(command: 'get' | 'invalidate' | 'exit'): void;
}

/** Epoch ms with fractions, comparable across the processes of one machine. */
export const clock = () => performance.timeOrigin + performance.now();

/** Starts a worker: worker.ts with `config`, or floor-worker.ts (bench/fleet.ts), which speaks the same lines. */
export function startWorker(config: WorkerConfig): Worker;
export function startWorker(config: FloorWorkerConfig, script: typeof FLOOR_WORKER): Worker;
export function startWorker(config: WorkerConfig | FloorWorkerConfig, script = WORKER): Worker {
  return spawnWorker(config, script);
}

function spawnWorker(config: object, script: string): Worker {
  const child = spawnChild(process.execPath, [...NODE_ARGS, '--import', LOADER, script, JSON.stringify(config)], { cwd: ROOT });
  const events: WorkerEvent[] = [];
  const waiters = new Set<{ accept: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }>();
  const parse = (line: string) => {
    let event: WorkerEvent;
    try {
      event = JSON.parse(line) as WorkerEvent;
    } catch {
      return;
    }
    events.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.accept(event)) {
        waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  };
  child.onLine(parse);
  return {
    child,
    events,
    next(name, match = () => true) {
      const accept = (e: WorkerEvent) => e.event === name && match(e as never);
      const found = events.find(accept);
      if (found) return Promise.resolve(found as never);
      return new Promise((resolve, reject) => {
        waiters.add({ accept, resolve: resolve as (e: WorkerEvent) => void });
        void child.exited.then(({ code, signal }) =>
          reject(new Error(`worker ${child.pid} exited (${signal ?? code}) before reporting "${name}"; stderr: ${child.stderr().slice(-1500)}`)),
        );
      });
    },
    send(command) {
      child.process.stdin!.write(`${command}\n`);
    },
  };
}

/**
 * The fleet a rotation is timed on, the same in `test/fleet/rotation.test.ts` and
 * `bench/fleet.ts`: a token inside the 7-day window, a lock TTL and timeout far above one
 * refresh, and members rehearsed and idle before the release (as the yardstick is warm).
 */
export const ROTATION_FLEET = {
  lockTtlMs: 20_000,
  refreshWindowMs: 7 * 24 * 3600 * 1000,
  timeoutMs: 10_000,
  backoffMs: 1_000,
  warm: true,
} as const satisfies Partial<WorkerConfig>;

/** Starts `count` workers and resolves once every one is ready (the start barrier). */
export function startFleet(count: number, config: WorkerConfig): Promise<Worker[]>;
export function startFleet(count: number, config: FloorWorkerConfig, script: typeof FLOOR_WORKER): Promise<Worker[]>;
export async function startFleet(count: number, config: WorkerConfig | FloorWorkerConfig, script = WORKER): Promise<Worker[]> {
  const workers = Array.from({ length: count }, () => spawnWorker(config, script));
  await Promise.all(workers.map((worker) => worker.next('ready')));
  return workers;
}

/** Releases every worker at once (SIGUSR1: each calls getToken()); resolves the release time. */
export function release(workers: readonly Worker[]): number {
  const at = clock();
  for (const worker of workers) worker.child.process.kill('SIGUSR1');
  return at;
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
