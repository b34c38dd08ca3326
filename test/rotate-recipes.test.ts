// README's cron line and the systemd units in examples/systemd/, run as cron and systemd would
// run them: the cron line under `env -i` with cron's variables only, the service's ExecStart
// by hand with its EnvironmentFile only, against the emulator with signatures checked. The
// installed program is stood in for by a script that runs src/cli/bin.ts.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/emulator.js';
import { FileTokenStore } from '../src/lifecycle/file-token-store.js';
import { spawnChild, stopAll } from './helpers/child.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const unit = (name: string) => readFileSync(join(ROOT, 'examples/systemd', name), 'utf8');
const KEYS = { LONGBRIDGE_APP_KEY: 'recipe-app-key', LONGBRIDGE_APP_SECRET: 'recipe-app-secret-5f1e' };
const DAY = 24 * 3600 * 1000;

let home: string;
let bot: string;
let emulator: Emulator;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'rotate-recipes-'));
  bot = join(home, 'bot');
  mkdirSync(join(bot, 'node_modules/.bin'), { recursive: true });
  // Stands in for the installed bin (dist/cli.js, `#!/usr/bin/env node`): the same CLI, from source.
  const bin = join(bot, 'node_modules/.bin/longbridge-token');
  const loader = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  // tsx takes the repository's tsconfig (its paths map the package's #imports to src/) from any folder.
  writeFileSync(
    bin,
    `#!/bin/sh\nTSX_TSCONFIG_PATH='${join(ROOT, 'tsconfig.json')}' exec '${process.execPath}' --import '${loader}' '${join(ROOT, 'src/cli/bin.ts')}' "$@"\n`,
  );
  chmodSync(bin, 0o755);
});
afterAll(async () => {
  await stopAll();
  rmSync(home, { recursive: true, force: true });
});
beforeEach(async () => {
  emulator = await startEmulator({ appKey: KEYS.LONGBRIDGE_APP_KEY, appSecret: KEYS.LONGBRIDGE_APP_SECRET, initialExpiresAt: Date.now() + 3 * DAY });
  // The env file the README describes, plus the emulator's URL in place of the live host.
  writeFileSync(join(bot, 'longbridge.env'), `${Object.entries({ ...KEYS, LONGBRIDGE_HTTP_URL: emulator.url }).map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { mode: 0o600 });
  rmSync(join(bot, 'longbridge-token.json'), { force: true });
  await new FileTokenStore(join(bot, 'longbridge-token.json')).save({ token: emulator.initialToken, expiresAt: emulator.initialExpiresAt });
});
afterEach(() => emulator.close());

const storedToken = () => (JSON.parse(readFileSync(join(bot, 'longbridge-token.json'), 'utf8')) as { token: string }).token;

/** Whether a process running the CLI on `tokenFile` holds an inotify watch (Linux: /proc/<pid>/fdinfo): it is waiting for the token file to change. */
function cliWatching(tokenFile: string): boolean {
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv.some((arg) => arg.endsWith('src/cli/bin.ts')) || !argv.includes(basename(tokenFile))) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify' && readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').includes('inotify wd:')) return true;
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return false;
}

/** Runs `argv` with exactly `env`, as a service manager or cron would; resolves its exit and output. */
async function runExactly(argv: string[], env: Record<string, string>, cwd: string) {
  const child = spawnChild('/usr/bin/env', ['-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv], { cwd });
  try {
    const exit = await child.exited;
    return { ...exit, stdout: child.lines.join('\n'), stderr: child.stderr() };
  } finally {
    child.kill();
  }
}

describe('the README cron line', () => {
  const block = /```cron\n([^`]+)```/.exec(readme)?.[1] ?? '';
  const line = block.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#')) ?? '';
  const command = line.trim().split(/\s+/).slice(5).join(' ');

  it('is one crontab entry: five time fields and a command without %', () => {
    expect(line.trim().split(/\s+/).slice(0, 5)).toEqual(['17', '3', '*', '*', '*']);
    expect(command).toContain('longbridge-token rotate --token-file');
    expect(command).not.toContain('%'); // cron turns % into a line break
  });

  it('rotates a due token under `env -i` with cron\'s variables only, silently; the next run is not due', async () => {
    const cron = { HOME: home, LOGNAME: userInfo().username, PATH: '/usr/bin:/bin', SHELL: '/bin/sh' };
    const first = await runExactly(['/bin/sh', '-c', command], cron, '/');
    expect(first).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(emulator.refreshes).toBe(1);
    expect(emulator.tokenState(storedToken())).toBe('live');
    expect(emulator.requests[0]).toMatchObject({ status: 200, code: 0 }); // signed: the emulator checks signatures

    const second = await runExactly(['/bin/sh', '-c', command], cron, '/');
    expect(second).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(emulator.refreshes).toBe(1);
  }, 90_000); // two cold starts of the CLI, slow under load

  it('a run that finds the lock held by another process waits for it (it used to end at once, exit 13, silent), then takes the token that process saved and sends nothing', async () => {
    const cron = { HOME: home, LOGNAME: userInfo().username, PATH: '/usr/bin:/bin', SHELL: '/bin/sh' };
    const store = new FileTokenStore(join(bot, 'longbridge-token.json'));
    const other = (await store.lock(60_000))!; // a long-running member, in the middle of its rotation
    const run = runExactly(['/bin/sh', '-c', command], cron, '/');
    let ended = false;
    void run.then(() => (ended = true));
    // The run is waiting once its process watches the token's folder (an inotify watch in /proc).
    while (!ended && !cliWatching(join(bot, 'longbridge-token.json'))) await new Promise((r) => setTimeout(r, 10));
    const successor = { token: emulator.issueToken(Date.now() + 90 * DAY), expiresAt: Date.now() + 90 * DAY };
    expect(await other.saveIf(emulator.initialToken, successor)).toBe('saved');
    await other.release();
    expect(await run).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(emulator.refreshes).toBe(0);
    expect(storedToken()).toBe(successor.token);
  }, 90_000);
});

describe('interrupting a rotation (the signals as cron or systemd would send them)', () => {
  it('a first SIGINT once the request is out is deferred with a line on stderr; a second one stops the run at once (the token it asked for is then lost, as that line warns)', async () => {
    const line = /```cron\n([^`]+)```/.exec(readme)![1]!.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#'))!;
    const command = line.trim().split(/\s+/).slice(5).join(' ');
    const cron = { HOME: home, LOGNAME: userInfo().username, PATH: '/usr/bin:/bin', SHELL: '/bin/sh' };
    await emulator.close();
    let child: ReturnType<typeof spawnChild> | undefined;
    let acted!: () => void;
    const serverActed = new Promise<void>((resolve) => (acted = resolve));
    // The server acts halfway through its latency; the reply comes 2 s after that.
    emulator = await startEmulator({ appKey: KEYS.LONGBRIDGE_APP_KEY, appSecret: KEYS.LONGBRIDGE_APP_SECRET, initialToken: storedToken(), initialExpiresAt: Date.now() + 3 * DAY, latencyMs: 4_000, onRequest: () => acted() });
    writeFileSync(join(bot, 'longbridge.env'), `${Object.entries({ ...KEYS, LONGBRIDGE_HTTP_URL: emulator.url }).map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { mode: 0o600 });
    const before = storedToken();
    try {
      child = spawnChild('/usr/bin/env', ['-i', ...Object.entries(cron).map(([k, v]) => `${k}=${v}`), '/bin/sh', '-c', command], { cwd: '/' });
      await serverActed;
      child.kill('SIGINT');
      const until = Date.now() + 1_500;
      while (!child.stderr().includes('interrupted:') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(child.stderr()).toContain('interrupted: finishing the refresh and saving the new token first (interrupt again to stop at once, at the risk of losing it)');
      child.kill('SIGINT');
      expect(await child.exited).toMatchObject({ signal: 'SIGINT' });
      expect(emulator.refreshes).toBe(1);
      expect(storedToken()).toBe(before); // the new token never reached the file
      expect(emulator.tokenState(before)).not.toBe('live');
    } finally {
      child?.kill('SIGKILL');
    }
  }, 30_000);
});

describe('the systemd service and timer (examples/systemd/)', () => {
  const service = unit('longbridge-token-rotate.service');
  const setting = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(service)?.[1] ?? '';
  const expand = (value: string) => value.replaceAll('%h', home);

  it('pass `systemd-analyze --user verify`', (context) => {
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze']);
    if (which.status !== 0) {
      context.skip('systemd-analyze is not installed here (Debian package "systemd")');
      return;
    }
    const units = join(home, 'units');
    const runtime = join(home, 'runtime');
    mkdirSync(units, { recursive: true });
    mkdirSync(runtime, { recursive: true, mode: 0o700 });
    for (const name of ['longbridge-token-rotate.service', 'longbridge-token-rotate.timer']) writeFileSync(join(units, name), unit(name));
    const result = spawnSync('systemd-analyze', ['--user', 'verify', join(units, 'longbridge-token-rotate.service'), join(units, 'longbridge-token-rotate.timer')], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: runtime },
      encoding: 'utf8',
    });
    expect(result.stderr).toBe(''); // an unknown key or a missing program is only a warning there
    expect(result.status).toBe(0);
  });

  it('its ExecStart, run by hand with only its EnvironmentFile, rotates a due token and prints the outcome on stderr', async () => {
    const environment = Object.fromEntries(
      readFileSync(expand(setting('EnvironmentFile')), 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const argv = expand(setting('ExecStart')).split(' ');
    const result = await runExactly(argv, { ...environment, HOME: home, PATH: '/usr/local/bin:/usr/bin:/bin' }, expand(setting('WorkingDirectory')));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(storedToken()); // StandardOutput=null drops it
    expect(result.stderr).toMatch(/^rotated: .*longbridge-token\.json now holds a new token, valid until \S+Z\n$/);
    expect(emulator.refreshes).toBe(1);
    expect(emulator.tokenState(storedToken())).toBe('live');
  }, 60_000);

  it('the timer runs it daily and catches up after downtime', () => {
    const timer = unit('longbridge-token-rotate.timer');
    expect(timer).toMatch(/^OnCalendar=daily$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(setting('ExecStart')).toContain('--if-expires-within 7d');
  });
});
