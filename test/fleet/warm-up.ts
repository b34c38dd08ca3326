// How a fleet worker (worker.ts, floor-worker.ts) warms up before it says "ready": the token it
// warms its refresh path with (the emulator never issued it, so it refuses it, 401004, and
// nothing rotates; requests carrying it are left out of what the fleet tests count), how many
// runs, and the wait until its process is idle.
import type { EmulatorRequest } from '../../src/emulator/emulator.js';

export const WARM_UP_TOKEN = 'fleet-worker-warm-up-token';

/**
 * How many times each side of a timing runs its code before it is timed, the same on both
 * sides: the yardstick's client refreshes this many times first (bench/fleet.ts,
 * rotation.test.ts), and each member rehearses the rotation this many times (worker.ts, `warm`).
 * The cost of a run falls over its first runs as V8 compiles and then optimises the code (a
 * refresh with the emulator in the same process: about 9 ms of CPU, client and server together,
 * in its second to eighth runs, 3 to 4 ms from its twentieth on), so a member rehearsed once,
 * timed against a yardstick warmed ten times, was timed cold against warm.
 */
export const WARM_RUNS = 10;

/** The requests a fleet sent from `before` on, warm-ups left out. */
export function fleetRequests(requests: readonly EmulatorRequest[], before: number): EmulatorRequest[] {
  return requests.slice(before).filter((request) => request.operation !== undefined && request.token !== WARM_UP_TOKEN);
}

/**
 * Waits until this process is idle, as a long-running member is between rotations, and
 * resolves how long that took. The warm-up leaves work running on V8's background threads:
 * its first requests make V8 compile undici's HTTP parser (WebAssembly) again with TurboFan,
 * about 100 ms of CPU per process, which without this wait fell inside the rotation, in every
 * member at once (seen with perf; a fleet of 8 on 2 cores spent 3/4 of its CPU there). Idle:
 * under 2.5 ms of CPU in each of two consecutive 50 ms intervals; gives up after 20 s.
 */
export async function settle(): Promise<number> {
  const started = performance.now();
  let quiet = 0;
  let last = process.cpuUsage();
  while (quiet < 2 && performance.now() - started < 20_000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const used = process.cpuUsage(last);
    last = process.cpuUsage();
    quiet = (used.user + used.system) / 1000 < 2.5 ? quiet + 1 : 0;
  }
  return Math.round(performance.now() - started);
}
