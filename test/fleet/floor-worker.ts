// The floor of a fleet rotation on this machine, for `npm run bench:fleet`: one member of a
// fleet that coordinates as little as one refresh per rotation allows, without this package's
// TokenManager or stores. Each member has its watch on the token file's folder set up before it
// says "ready"; on SIGUSR1 it tries `mkdir <file>.floor-lock` (one system call: the lock), and
//   - the one that made it reads the file, refreshes through the same client as a member does
//     (createTokenClient), writes the new token to a temp file and renames it over the file (no
//     fsync, no lease, no fence, no compare-and-set), and reports it;
//   - every other one waits for that rename, reads the file, and reports the token.
// With `bare`, a member only refreshes (no lock, no write): one refresh as a member makes it,
// from a process idle until the signal, on a connection it opens then.
// It reports the same lines as worker.ts: {"event":"ready"} and {"event":"token","token","at"}.
// What a rotation by TokenManager costs beyond this floor is the package's coordination; the
// floor itself is what waking N processes and one refresh cost on this machine. Its refresh
// path is warmed up as worker.ts's is (`warm`): it runs WARM_RUNS times first; and it says
// "ready" once idle (settle() in warm-up.ts).
import { mkdirSync, readFileSync, renameSync, watch, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createTokenClient } from '../../src/index.js';
import { startEmulator } from '../../src/emulator/emulator.js';
import { settle, WARM_RUNS } from './warm-up.js';

export interface FloorWorkerConfig {
  baseUrl: string;
  /** The token file: `{"token"}`, written by the bench before the release. */
  path: string;
  /** One refresh and nothing else: no lock, no write (the bench's refresh from an idle process). */
  bare?: boolean;
}

const config = JSON.parse(process.argv[2] ?? '{}') as FloorWorkerConfig;
const now = () => performance.timeOrigin + performance.now();
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const read = () => (JSON.parse(readFileSync(config.path, 'utf8')) as { token: string }).token;

let waiting: ((token: string) => void) | undefined;
const name = basename(config.path);
watch(dirname(config.path), { persistent: false }, (event, changed) => {
  // Only a rename over the file (the holder's): the bench's own write just before the release
  // rewrites it in place ('change'), and its event may arrive after the signal.
  if (event === 'rename' && changed === name && waiting) {
    const done = waiting;
    waiting = undefined;
    done(read());
  }
});

async function refresh(baseUrl: string, token: string): Promise<string> {
  const client = createTokenClient({ accessToken: token, accountChannel: 'lb', baseUrl });
  return (await client.refreshAccessToken()).token;
}

process.on('SIGUSR1', () => {
  if (config.bare) {
    void refresh(config.baseUrl, read()).then((token) => say({ event: 'token', token, at: now() }));
    return;
  }
  let holder = false;
  try {
    mkdirSync(`${config.path}.floor-lock`);
    holder = true;
  } catch {
    // another member has it
  }
  const token = holder
    ? refresh(config.baseUrl, read()).then((next) => {
        writeFileSync(`${config.path}.tmp`, JSON.stringify({ token: next }));
        renameSync(`${config.path}.tmp`, config.path);
        return next;
      })
    : new Promise<string>((resolve) => (waiting = resolve));
  void token.then((value) => say({ event: 'token', token: value, at: now() }));
});

// Warm up as worker.ts does: the refresh path WARM_RUNS times against a private emulator, then idle.
const emulator = await startEmulator();
for (let run = 0; run < WARM_RUNS; run++) {
  read();
  await refresh(emulator.url, emulator.issueToken());
}
await emulator.close();
await settle();
process.stdin.resume(); // stays until killed, as worker.ts does
say({ event: 'ready', at: now() });
