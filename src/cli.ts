// Process entry of the `longbridge-token` CLI (package bin, built to dist/cli.js with a
// `#!/usr/bin/env node` banner, so no shebang here). Everything else is in src/cli/: main() is
// a plain function the tests call in-process.
import { main } from './cli/main.js';

process.exitCode = await main(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  get stdin() {
    return process.stdin; // created only when --access-token - reads it
  },
});
