// Starts the Prism mock of openapi.yaml as a child process we hold the PID of, on a free
// (or given) loopback port, and stops it again. Shared by the tests, `npm start` and the
// contract suite's self-tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const SPEC_PATH = fileURLToPath(new URL('../openapi.yaml', import.meta.url));
const PRISM_CLI = createRequire(import.meta.url).resolve('@stoplight/prism-cli/dist/index.js');

export interface PrismMock {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  pid: number;
  /** Settles when the Prism process has exited, however that came about. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts Prism and resolves once it listens; rejects (and kills it) within `readyTimeoutMs`. */
export async function startPrismMock(
  options: { port?: number; specPath?: string; readyTimeoutMs?: number } = {},
): Promise<PrismMock> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [PRISM_CLI, 'mock', '--host', '127.0.0.1', '--port', String(port), options.specPath ?? SPEC_PATH],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const kill = () => child.kill('SIGTERM');
  process.once('exit', kill); // never leave an orphaned Prism behind
  const url = `http://127.0.0.1:${port}`;
  await waitUntilListening(child, options.readyTimeoutMs ?? 30_000, port);
  return {
    url,
    pid: child.pid!,
    exited,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', kill);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

function waitUntilListening(child: ChildProcess, timeoutMs: number, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`Prism mock on 127.0.0.1:${port} did not start: ${why}\n${output.slice(-2_000)}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Prism is listening')) {
        clearTimeout(timer);
        child.stdout?.removeListener('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve();
      } else if (/EADDRINUSE/.test(output)) {
        fail(`port ${port} is already in use`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? code}`));
  });
}
