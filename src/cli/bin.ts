// Process entry of the `longbridge-token` CLI (package bin, built to dist/cli.js with a
// `#!/usr/bin/env node` banner, so no shebang here). Everything else is in src/cli/: main() is
// a plain function the tests call in-process.
import { main } from './main.js';

// Ctrl-C (or SIGTERM) ends the run with exit 130 and, once the request is out, the warning that
// the refresh may have gone through; a second Ctrl-C kills at once.
const interrupt = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, () => interrupt.abort());

// A write to a closed pipe or a full disk is reported by main() through the write's callback
// (exit 15 for the new token); without these listeners Node would also throw it, with a stack trace.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

// The package's own waits never keep a process alive (unref()ed timers, a watch that is not
// persistent), which is right in an application and wrong here: `rotate` waiting for another
// process's lock would leave Node nothing to wait for, and it would end the run with its exit
// 13 (an unsettled top-level await) and no word. The run keeps the process until main() ends.
const running = setInterval(() => undefined, 2 ** 31 - 1);
let stdinUsed = false;
process.exitCode = await main(process.argv.slice(2), process.env, {
  signal: interrupt.signal,
  stdout: process.stdout,
  stderr: process.stderr,
  get stdin() {
    stdinUsed = true; // process.stdin is created only when --access-token - reads it
    return process.stdin;
  },
});
clearInterval(running);
if (stdinUsed) process.stdin.destroy(); // interrupted mid-read, it would keep the process alive

