// `longbridge-token rotate`: main() in-process against the emulator (src/emulator/), which
// kills a token once it has been refreshed, so a second refresh from the same token fails.
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/exit-codes.js';
import { giveOwnerOf } from '../src/cli/rotate.js';
import { main, type Writer } from '../src/cli/main.js';
import { startEmulator, type Emulator } from '../src/emulator/emulator.js';
import { FileTokenStore } from '../src/lifecycle/file-token-store.js';

const DAY = 24 * 3600 * 1000;
let tmp: string;
let emulator: Emulator;
let file: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'rotate-test-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeEach(async () => {
  emulator = await startEmulator({ initialExpiresAt: Date.now() + 3 * DAY });
  file = join(tmp, `token-${Math.random().toString(16).slice(2)}.json`);
});
afterEach(() => emulator.close());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function rotate(args: string[], options: { env?: Record<string, string>; stdout?: Writer; signal?: AbortSignal } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(['rotate', '--token-file', file, '--base-url', emulator.url, ...args], options.env ?? {}, {
    ...(options.signal && { signal: options.signal }),
    stdout: options.stdout ?? { write: (s: string, done: () => void) => ((stdout += s), done()) },
    stderr: { write: (s: string, done: () => void) => ((stderr += s), done()) },
  });
  return { code, stdout, stderr };
}

const fileJson = () => JSON.parse(readFileSync(file, 'utf8')) as { version: number; token: string; expiresAt: string };
const seedFile = (token: string, expiresAt: number) => new FileTokenStore(file).save({ token, expiresAt });

describe('rotate', () => {
  it('refreshes a token that expires within the window, saves the successor, prints outcome "rotated" (exit 0)', async () => {
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    const result = await rotate(['--if-expires-within', '7d']);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(emulator.refreshes).toBe(1);
    const printed = JSON.parse(result.stdout) as Record<string, string>;
    const live = emulator.liveTokens();
    expect(live).toHaveLength(1);
    expect(printed).toEqual({ outcome: 'rotated', token: live[0]!.token, expired_at: new Date(live[0]!.expiresAt).toISOString(), token_file: file });
    expect(fileJson()).toMatchObject({ version: 1, token: live[0]!.token, expiresAt: printed.expired_at });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('does nothing when the token is not due: outcome "not due", no request, file untouched (exit 0)', async () => {
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    const before = readFileSync(file, 'utf8');
    const result = await rotate(['--if-expires-within', '2d']);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'not due', token: emulator.initialToken });
    expect(emulator.requests).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('is due by default within 7 days; a second run right after is not due', async () => {
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    expect(JSON.parse((await rotate([])).stdout)).toMatchObject({ outcome: 'rotated' });
    expect(JSON.parse((await rotate([])).stdout)).toMatchObject({ outcome: 'not due' });
    expect(emulator.refreshes).toBe(1);
  });

  it('two runs at once: only the run whose refresh reached the server says "rotated"; the other says "already rotated" (or "not due" when it read the file after)', async () => {
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    const runs = await Promise.all([rotate([]), rotate([])]);
    expect(runs.map((run) => run.code)).toEqual([EXIT.ok, EXIT.ok]);
    const outcomes = runs.map((run) => (JSON.parse(run.stdout) as { outcome: string }).outcome).sort();
    expect(emulator.refreshes).toBe(1);
    expect(outcomes.filter((outcome) => outcome === 'rotated')).toHaveLength(1);
    expect(['already rotated', 'not due']).toContain(outcomes.find((outcome) => outcome !== 'rotated'));
  });

  it('two runs at once on one file take the store\'s lock: one refresh, both print the token the file holds', async () => {
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    const runs = await Promise.all([rotate(['--output', 'token']), rotate(['--output', 'token'])]);
    expect(runs.map((run) => run.code)).toEqual([EXIT.ok, EXIT.ok]);
    expect(emulator.requests).toHaveLength(1);
    expect(runs.map((run) => run.stdout)).toEqual([`${fileJson().token}\n`, `${fileJson().token}\n`]);
    expect(emulator.tokenState(fileJson().token)).toBe('live');
  });

  it('--output token prints the token alone and the outcome as a line on stderr', async () => {
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    const rotated = await rotate(['--output', 'token']);
    expect(rotated.code).toBe(EXIT.ok);
    expect(rotated.stdout).toBe(`${fileJson().token}\n`);
    expect(rotated.stderr).toMatch(new RegExp(`^rotated: ${file} now holds a new token, valid until \\S+Z\\n$`));
    const notDue = await rotate(['--output', 'token']);
    expect(notDue.code).toBe(EXIT.ok);
    expect(notDue.stdout).toBe(rotated.stdout);
    expect(notDue.stderr).toMatch(/^not due: the token in .* is valid until \S+Z, later than --if-expires-within from now\n$/);
  });

  it('writes the successor to the file before printing anything', async () => {
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    const fileAtPrint: string[] = [];
    const stdout: Writer = {
      write: (chunk, done) => {
        fileAtPrint.push(fileJson().token);
        expect(chunk).toContain(fileJson().token);
        done();
      },
    };
    expect((await rotate(['--output', 'token'], { stdout })).code).toBe(EXIT.ok);
    expect(fileAtPrint).toEqual([emulator.liveTokens()[0]!.token]);
  });

  it('signs with LONGBRIDGE_APP_KEY / LONGBRIDGE_APP_SECRET and sends --expires-in as the new lifetime', async () => {
    await emulator.close();
    emulator = await startEmulator({ appKey: 'rotate-key', appSecret: 'rotate-secret-0123', initialExpiresAt: Date.now() + DAY });
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    const result = await rotate(['--expires-in', '30d'], { env: { LONGBRIDGE_APP_KEY: 'rotate-key', LONGBRIDGE_APP_SECRET: 'rotate-secret-0123' } });
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const lifetime = emulator.liveTokens()[0]!.expiresAt - emulator.requests[0]!.at;
    expect(Math.abs(lifetime - 30 * DAY)).toBeLessThan(60_000);
  });

  it('converts a raw token file (what --access-token-file reads) with --expires-at, then rotates it', async () => {
    writeFileSync(file, `${emulator.initialToken}\n`, { mode: 0o644 });
    const expiresAt = new Date(emulator.initialExpiresAt).toISOString();
    const result = await rotate(['--expires-at', expiresAt, '--if-expires-within', '1d']);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stderr).toContain(`converted ${file} from a raw token to the token store's JSON (mode 0600)`);
    expect(fileJson()).toEqual({ version: 1, token: emulator.initialToken, expiresAt });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'not due' });
    expect(JSON.parse((await rotate([])).stdout)).toMatchObject({ outcome: 'rotated' });
  });

  it('refuses a raw token file without --expires-at (exit 2), sending nothing and leaving the file as it was', async () => {
    writeFileSync(file, emulator.initialToken);
    const result = await rotate([]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain('holds a raw token, not the token store\'s JSON: run once with --expires-at ISO');
    expect(result.stderr).not.toContain(emulator.initialToken);
    expect(readFileSync(file, 'utf8')).toBe(emulator.initialToken);
    expect(emulator.requests).toEqual([]);
  });

  it('reports a missing or corrupt file by its path, never its content (exit 2 / 16)', async () => {
    const missing = await rotate([]);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain(`there is no token file at ${file}`);
    writeFileSync(file, '{"version":1,"token":"half-a-secret');
    const corrupt = await rotate([]);
    expect(corrupt.code).toBe(EXIT['token-file']);
    expect(corrupt.stderr).toContain(`the token file ${file} is not valid JSON`);
    expect(corrupt.stderr).not.toContain('half-a-secret');
    expect(emulator.requests).toEqual([]);
  });

  it('a refused refresh (the token was already replaced: 401004) exits 4 and leaves the file alone', async () => {
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    const before = readFileSync(file, 'utf8');
    await fetch(`${emulator.url}/v1/token/refresh?expired_at=2099-01-01T00:00:00Z`, { headers: { Authorization: emulator.initialToken } });
    const result = await rotate([]);
    expect(result.code).toBe(EXIT['token-invalid']);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain(emulator.initialToken);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  // While the emulator acts on the refresh, the save is made to fail: the token file's folder
  // becomes a file (nothing can be written there), or a folder takes the file's name (the
  // rename over it fails, the folder can still be written).
  it.each([
    [
      'the folder gone: the successor is only on stdout',
      'json',
      (folder: string) => {
        renameSync(folder, `${folder}.moved`);
        writeFileSync(folder, 'not a folder');
      },
      false,
    ],
    [
      "the file's name taken: the successor is in <file>.unsaved too (the recipes drop stdout)",
      'token',
      (folder: string) => {
        renameSync(join(folder, 'token.json'), join(folder, 'token.json.old'));
        mkdirSync(join(folder, 'token.json', 'in-the-way'), { recursive: true });
      },
      true,
    ],
  ])('when the file cannot take the successor (%s), stdout has it as --output %s asks, stderr says where it is, exit 16', async (_case, output, breakSave, rescued) => {
    const folder = join(tmp, `stuck-${Math.random().toString(16).slice(2)}`);
    mkdirSync(folder);
    file = join(folder, 'token.json');
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    await emulator.close();
    emulator = await startEmulator({
      initialToken: fileJson().token,
      initialExpiresAt: Date.parse(fileJson().expiresAt),
      onRequest: () => breakSave(folder),
    });
    const result = await rotate(['--output', output]);
    expect(result.code, result.stderr).toBe(EXIT['token-file']);
    const live = emulator.liveTokens()[0]!;
    if (output === 'token') {
      expect(result.stdout).toBe(`${live.token}\n`);
    } else {
      expect(JSON.parse(result.stdout)).toEqual({
        outcome: 'rotated, not saved',
        token: live.token,
        expired_at: new Date(live.expiresAt).toISOString(),
        token_file: file,
        unsaved_file: rescued ? `${file}.unsaved` : null,
      });
    }
    expect(result.stderr).toContain(`error: the refresh went through, but ${file} could not be written`);
    expect(result.stderr).not.toContain(live.token);
    const stdoutCopy = output === 'token' ? 'the line on stdout' : 'in the JSON on stdout';
    if (rescued) {
      // With when it was issued: moved over the token file, it keeps the fleet's refresh point.
      expect(await new FileTokenStore(`${file}.unsaved`).load()).toEqual({ token: live.token, expiresAt: live.expiresAt, issuedAt: expect.any(Number) });
      expect(statSync(`${file}.unsaved`).mode & 0o777).toBe(0o600);
      expect(result.stderr).toContain(`hint: the new token is in ${file}.unsaved, and ${stdoutCopy}, and nowhere else`);
      expect(result.stderr).toContain(`(mv ${file}.unsaved ${file})`);
    } else {
      expect(result.stderr).toContain(`hint: the new token is ${stdoutCopy}, and nowhere else`);
    }
  });

  it.skipIf(process.getuid?.() !== 0)('run as root, the rescue copy gets the token file\'s owner and group (the user whose bot reads the file), and a link put in its place is not followed', () => {
    const folder = mkdtempSync(join(tmp, 'owners-'));
    const tokenFile = join(folder, 'token.json');
    writeFileSync(tokenFile, '{}', { mode: 0o600 });
    chownSync(tokenFile, 1234, 2345);
    writeFileSync(`${tokenFile}.unsaved`, '{}', { mode: 0o600 });
    giveOwnerOf(tokenFile, `${tokenFile}.unsaved`);
    expect(statSync(`${tokenFile}.unsaved`)).toMatchObject({ uid: 1234, gid: 2345 });
    const victim = join(folder, 'not-yours');
    writeFileSync(victim, '');
    rmSync(`${tokenFile}.unsaved`);
    symlinkSync(victim, `${tokenFile}.unsaved`);
    giveOwnerOf(tokenFile, `${tokenFile}.unsaved`);
    expect(statSync(victim)).toMatchObject({ uid: 0, gid: 0 });
    expect(lstatSync(`${tokenFile}.unsaved`)).toMatchObject({ uid: 1234, gid: 2345 });
  });

  it('stdout that cannot take the token after a rotation (EPIPE): exit 15, and nothing is lost: the token file holds the new token', async () => {
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    const failing: Writer = { write: (_s, done) => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) };
    const result = await rotate(['--output', 'json'], { stdout: failing });
    expect(result.code).toBe(EXIT['output-failed']);
    expect(emulator.refreshes).toBe(1);
    const live = emulator.liveTokens()[0]!.token;
    expect(live).not.toBe(emulator.initialToken);
    expect(fileJson().token).toBe(live);
    expect(result.stderr).toContain('error: stdout could not take the token (EPIPE); the token file holds it, so nothing is lost');
    expect(result.stderr).not.toContain(live);
  });

  it('Ctrl-C during the refresh: the run says it finishes the refresh and saves the new token first, does so, and exits 0', async () => {
    await seedFile(emulator.initialToken, emulator.initialExpiresAt);
    await emulator.close();
    const interrupt = new AbortController();
    emulator = await startEmulator({
      initialToken: fileJson().token,
      initialExpiresAt: Date.parse(fileJson().expiresAt),
      onRequest: () => interrupt.abort(), // while the server acts on the refresh
    });
    const result = await rotate(['--output', 'json'], { signal: interrupt.signal });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('interrupted: finishing the refresh and saving the new token first');
    expect(fileJson().token).toBe(emulator.liveTokens()[0]!.token);
    expect(emulator.refreshes).toBe(1);
  });

  it('refuses flags that do not apply, naming them (exit 2)', async () => {
    for (const [flag, value] of [['--access-token-file', 'x'], ['--aaid', '1'], ['--expired-at', '2099-01-01T00:00:00Z']] as const) {
      const result = await rotate([flag, value]);
      expect(result.code).toBe(EXIT.usage);
      expect(result.stderr).toContain(`rotate takes no ${flag}`);
    }
    expect((await rotate(['--output', 'yaml'])).stderr).toContain('--output must be json or token');
    expect((await rotate(['--if-expires-within', 'soon'])).stderr).toContain('--if-expires-within must be a number with a unit');
    expect((await main(['rotate'], {}, { stdout: { write: (_s, done) => done() }, stderr: { write: (_s, done) => done() } }))).toBe(EXIT.usage);
  });
});
