// The suite's entry for Node, Bun and Deno: `<runtime> test/runtimes/main.mjs <mock URL>`.
// Prints a line per case, then `RESULT <json>` for the harness (test/runtimes/matrix.ts).
import { runSuite } from './suite.mjs';

const [mockUrl] = globalThis.Deno?.args ?? globalThis.process.argv.slice(2);
const report = await runSuite(mockUrl, (line) => console.log(line));
console.log(`RESULT ${JSON.stringify(report)}`);
// Keep-alive sockets must not hold the runtime open.
(globalThis.Deno ?? globalThis.process).exit(report.failed === 0 ? 0 : 1);
