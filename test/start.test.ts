// `npm start` as a user runs it: spawned on free ports, it prints the URLs and an example;
// the docs, the spec file and the printed example all answer; Ctrl-C (SIGINT to the whole
// process group, as a terminal sends it) stops it with no process left behind; a busy port
// is refused with a message naming the port and how to choose another.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { freePort } from '../scripts/prism-mock.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SPEC_FILE = fileURLToPath(new URL('../openapi.yaml', import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Started[] = [];

/** `npm start -- <args>` without npm in between: `node --import tsx scripts/start.ts <args>`, in its own process group. */
function start(args: string[]): Started {
  const env = { ...process.env };
  delete env.PORT;
  delete env.MOCK_PORT;
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  expect(script).toBe('node --import tsx scripts/start.ts'); // one process: no wrapper relaying signals on a timer
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', ...args], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const started = { child, output: () => output, exited };
  running.push(started);
  return started;
}

/** Resolves when `text` has been printed; rejects if the process exits first or after `timeoutMs`. */
function printed(started: Started, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!started.output().includes(text)) return;
      done();
      resolve();
    };
    const exited = () => {
      done();
      reject(new Error(`"${text}": not printed (exit ${started.child.exitCode}). Output so far:\n${started.output()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`"${text}": not printed within ${timeoutMs} ms. Output so far:\n${started.output()}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      started.child.stdout!.off('data', check);
      started.child.off('exit', exited);
    };
    started.child.stdout!.on('data', check);
    started.child.once('exit', exited);
    check();
  });
}

/** Alive and not a zombie; Linux /proc when there, else signal 0. */
function isAlive(pid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process in the tree under `pid` (Linux /proc; empty elsewhere). */
function descendants(pid: number): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  for (let frontier = [pid]; frontier.length; ) {
    const children = [...parentOf].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child);
    found.push(...children);
    frontier = children;
  }
  return found;
}

async function waitUntil(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Parses the printed curl example (a GET, the live form) into a fetch call. */
function printedExample(output: string): { url: string; init: RequestInit } {
  const block = /curl -sS '([^']+)' \\\n\s+-H '([^:]+): ([^']*)'\n/.exec(output);
  if (!block) throw new Error(`no curl example in:\n${output}`);
  return { url: block[1]!, init: { method: 'GET', headers: [[block[2]!, block[3]!]] } };
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

afterEach(async () => {
  // Whatever a failed test left: kill the whole group.
  for (const started of running.splice(0)) {
    if (started.child.exitCode === null && started.child.signalCode === null) {
      try {
        process.kill(-started.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await started.exited;
    }
  }
});

describe('npm start', () => {
  it('serves the docs, the spec and a mock that answers the printed example; Ctrl-C stops it all', async () => {
    const [port, mockPort] = [await freePort(), await freePort()];
    const started = start(['--port', String(port), '--mock-port', String(mockPort)]);
    onTestFailed(() => console.error(`--- npm start printed ---\n${started.output()}`));
    await printed(started, 'Serving until Ctrl-C.', 90_000);
    const output = started.output();

    expect(output).toContain(`API docs       http://127.0.0.1:${port}/`);
    expect(output).toContain(`OpenAPI spec   http://127.0.0.1:${port}/openapi.yaml`);
    const prismPid = Number(/Prism mock\s+http:\/\/127\.0\.0\.1:(\d+)\s+\(pid (\d+)\)/.exec(output)?.[2]);
    expect(output).toContain(`Prism mock     http://127.0.0.1:${mockPort}`);
    expect(isAlive(prismPid)).toBe(true);
    const tree = descendants(started.child.pid!);
    if (tree.length) expect(tree).toContain(prismPid);

    // The one refresh through the package's client (the live form, signed) printed the new token.
    expect(output).toMatch(/One refresh through the package's client \(refreshAccessToken, signed[^\n]*\n\s+\{\n\s+"token": "m_[^"]+"/);

    const docs = await fetch(`http://127.0.0.1:${port}/`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await docs.text();
    expect(html).toContain('<title>Longbridge OpenAPI');
    expect(html).toContain('Content-Security-Policy');

    const specFile = await fetch(`http://127.0.0.1:${port}/openapi.yaml`);
    expect(specFile.status).toBe(200);
    expect(specFile.headers.get('content-type')).toBe('application/yaml; charset=utf-8');
    expect(await specFile.text()).toBe(readFileSync(SPEC_FILE, 'utf8')); // read now: others may edit it
    expect((await fetch(`http://127.0.0.1:${port}/nothing-here`)).status).toBe(404);

    const example = printedExample(output);
    const url = new URL(example.url);
    expect(`${url.origin}${url.pathname}`).toBe(`http://127.0.0.1:${mockPort}/v1/token/refresh`);
    // It asks for now + 90 days, computed when npm start printed it (minutes of slack for a slow machine).
    const asked = Date.parse(url.searchParams.get('expired_at') ?? '');
    expect(Math.abs(asked - (Date.now() + 90 * 86_400_000))).toBeLessThan(5 * 60_000);
    const answer = await fetch(example.url, example.init);
    expect(answer.status).toBe(200);
    const envelope = (await answer.json()) as { code: number; data: { token: string } };
    expect(envelope.code).toBe(0);
    expect(envelope.data.token).not.toBe('');

    process.kill(-started.child.pid!, 'SIGINT'); // Ctrl-C in a terminal: the whole foreground group
    process.kill(started.child.pid!, 'SIGINT'); // and again, as `npm start` forwards it: still a clean stop
    const exit = await Promise.race([
      started.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running 15 s after Ctrl-C:\n${started.output()}`)), 15_000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(started.output()).toContain('Stopped.');
    await waitUntil('Prism and every process start.ts started are gone', () => ![prismPid, ...tree].some(isAlive), 5_000);
  }, 120_000);

  it.each([
    { busy: 'docs', flag: '--port', env: 'PORT=', what: 'docs server' },
    { busy: 'mock', flag: '--mock-port', env: 'MOCK_PORT=', what: 'Prism mock' },
  ])('refuses a busy $busy port, naming it and how to choose another', async ({ busy, flag, env, what }) => {
    const [port, mockPort] = [await freePort(), await freePort()];
    const blocker = await occupy(busy === 'docs' ? port : mockPort);
    try {
      const started = start(['--port', String(port), '--mock-port', String(mockPort)]);
      const exit = await Promise.race([
        started.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`did not exit:\n${started.output()}`)), 30_000)),
      ]);
      expect(exit.code).toBe(1);
      const busyPort = busy === 'docs' ? port : mockPort;
      expect(started.output()).toContain(`Port ${busyPort} on 127.0.0.1 is already in use, so the ${what} cannot start there.`);
      expect(started.output()).toContain(flag);
      expect(started.output()).toContain(env);
      expect(started.output()).not.toContain('Prism mock     http');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 60_000);
});
