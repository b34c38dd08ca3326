// Proof: a lock holder paused past its TTL (SIGSTOP, then SIGCONT). Two processes on one token
// file against the emulator; the holder stops itself at a chosen point (the worker's `pause`)
// and the test sends SIGCONT once the other member has acted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/emulator.js';
import { FileTokenStore } from '../../src/lifecycle/file-token-store.js';
import { stopAll } from '../helpers/child.js';
import { startWorker, type Worker } from './harness.js';
import { fleetRequests } from './warm-up.js';
import type { WorkerConfig } from './worker.js';

const DAY = 24 * 3600 * 1000;
let emulator: Emulator;
let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fleet-paused-'));
  emulator = await startEmulator({ latencyMs: 20 });
});
afterAll(async () => {
  await stopAll();
  await emulator.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A due token in a new file, and the config of its members (a short TTL: 1.5 s). */
async function setUp(name: string) {
  const path = join(tmp, `${name}.json`);
  const store = new FileTokenStore(path);
  const token = emulator.issueToken(Date.now() + 3 * DAY);
  await store.save({ token, expiresAt: Date.now() + 3 * DAY });
  const config: WorkerConfig = {
    baseUrl: emulator.url,
    store: { kind: 'file', path },
    lockTtlMs: 1_500,
    refreshWindowMs: 7 * DAY,
    timeoutMs: 1_000,
    backoffMs: 50,
    pollMs: 20, // the short test TTL: look often
  };
  return { store, token, config, before: emulator.requests.length };
}

const refreshRequests = (before: number) => fleetRequests(emulator.requests, before);
const saves = (worker: Worker) => worker.events.flatMap((event) => (event.event === 'saveIf' ? [event.result] : []));

describe('a holder paused past its TTL', () => {
  it('after the server acted: its save is refused by the fencing check ("lost"), and it saves under a new lock; the other adopts the stored token', async () => {
    const { store, token, config, before } = await setUp('after-refresh');
    const holder = startWorker({ ...config, pause: 'after-refresh' });
    const other = startWorker(config);
    try {
      await Promise.all([holder.next('ready'), other.next('ready')]);
      holder.send('get');
      await holder.next('refreshed'); // the server acted; the holder stops itself before its save
      other.send('get');
      // Past the TTL the other breaks the lease, and its own refresh from the old token is refused.
      await other.next('locked');
      const refused = await other.next('error', (event) => event.phase === 'refresh');
      expect(refused).toMatchObject({ name: 'ApiError', code: 401004 });

      holder.child.process.kill('SIGCONT');
      await holder.next('saveIf', (event) => event.result === 'saved');
      expect(saves(holder)).toEqual(['lost', 'saved']); // refused by the fence, then saved under a new lock
      const live = refreshRequests(before)[0]!.issued!.token;
      expect((await store.load())?.token).toBe(live);

      // Its own API call with the dead token got 401004: it tells its manager, which re-reads the store.
      other.send('invalidate');
      await other.next('changed', (event) => event.token === live && event.source === 'store');
      expect(refreshRequests(before).map((request) => [request.token === token, request.tokenState, request.code])).toEqual([
        [true, 'live', 0],
        [true, 'replaced', 401004],
      ]);
      expect(emulator.refreshes).toBeGreaterThan(0);
      expect(emulator.tokenState(live)).toBe('live');
    } finally {
      if (process.env.FLEET_DEBUG) console.log(JSON.stringify({ holder: holder.events, other: other.events, requests: emulator.requests.slice(before) }, null, 1));
      holder.child.kill();
      other.child.kill();
    }
  }, 60_000);

  it('before its refresh was sent: the other rotates; on SIGCONT it re-reads the store, adopts the stored token and sends nothing, saves nothing', async () => {
    const { store, token, config, before } = await setUp('after-lock');
    const holder = startWorker({ ...config, pause: 'after-lock' });
    const other = startWorker(config);
    try {
      await Promise.all([holder.next('ready'), other.next('ready')]);
      holder.send('get');
      await holder.next('locked'); // it stops itself holding the lock
      other.send('get');
      const saved = await other.next('saveIf');
      expect(saved.result).toBe('saved');
      const rotated = await other.next('changed', (event) => event.source === 'refresh'); // (its callers may have had the old token meanwhile, past the TTL)
      expect((await store.load())?.token).toBe(rotated.token);

      holder.child.process.kill('SIGCONT');
      await holder.next('changed', (event) => event.token === rotated.token && event.source === 'store');
      expect(saves(holder)).toEqual([]); // it never wrote over the successor
      expect(holder.events.some((event) => event.event === 'refreshed')).toBe(false);
      // One refresh in all: the paused holder sent nothing, not even with its dead token.
      expect(refreshRequests(before).map((request) => [request.token === token, request.tokenState, request.code])).toEqual([[true, 'live', 0]]);
      expect(emulator.tokenState(rotated.token)).toBe('live');
    } finally {
      holder.child.kill();
      other.child.kill();
    }
  }, 120_000);
});
