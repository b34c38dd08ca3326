// Child processes for tests: spawned in their own process group (so `npm run …` and the
// node it starts are stopped together), their stdout read line by line, waited on by event
// (a line printed, the exit), never by a fixed sleep. Every child is tracked, and
// `stopAll()` (call it in afterAll / finally) kills what is still running.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** All of stderr so far. */
  stderr(): string;
  /** Calls `listener` with every stdout line, past and future. */
  onLine(listener: (line: string) => void): void;
  /** Resolves with the first stdout line (past or future) matching `pattern`; rejects if the child exits first. */
  waitForLine(pattern: RegExp): Promise<string>;
  /** Resolves when the child has exited: its code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` to the child's whole process group (no-op once it has exited). */
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<Child>();

export function spawnChild(command: string, args: readonly string[], options: SpawnOptions = {}): Child {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
  const pid = child.pid;
  const lines: string[] = [];
  let errText = '';
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const listeners: Array<(line: string) => void> = [];
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      running.delete(handle);
      resolve({ code, signal });
    });
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const listener of listeners) listener(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => void (errText += chunk.toString('utf8')));
  const handle: Child = {
    process: child,
    pid,
    lines,
    stderr: () => errText,
    onLine(listener) {
      lines.forEach((line) => listener(line));
      listeners.push(listener);
    },
    waitForLine(pattern) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then(({ code, signal }) =>
          reject(new Error(`the child exited (${signal ?? code}) before printing ${pattern}; stderr: ${errText.slice(-2000)}`)),
        );
      });
    },
    exited,
    kill(signal = 'SIGKILL') {
      if (done) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    },
  };
  running.add(handle);
  return handle;
}

/** Kills every child still running and waits for each to exit. */
export async function stopAll(): Promise<void> {
  const children = [...running];
  for (const child of children) child.kill('SIGKILL'); // SIGKILL ends a stopped (SIGSTOP) child too
  await Promise.all(children.map((child) => child.exited));
}
