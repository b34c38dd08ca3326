// The token a fleet worker (worker.ts) warms its refresh path with before it says "ready": the
// emulator never issued it, so it refuses it (401004) and nothing rotates. Requests carrying it
// are left out of what the fleet tests count.
import type { EmulatorRequest } from '../../src/emulator/emulator.js';

export const WARM_UP_TOKEN = 'fleet-worker-warm-up-token';

/** The requests a fleet sent from `before` on, warm-ups left out. */
export function fleetRequests(requests: readonly EmulatorRequest[], before: number): EmulatorRequest[] {
  return requests.slice(before).filter((request) => request.operation !== undefined && request.token !== WARM_UP_TOKEN);
}
