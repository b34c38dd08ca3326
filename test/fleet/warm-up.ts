// The token a fleet worker (worker.ts) warms its refresh path with before it says "ready": the
// emulator never issued it, so it refuses it (401004) and nothing rotates. Requests carrying it
// are left out of what the fleet tests count.
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
