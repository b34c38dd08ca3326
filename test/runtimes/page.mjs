// The suite's entry in the browser: bundled with esbuild into the page the harness serves;
// `?mock=<URL>` names the mock (another origin, which allows this page's by CORS).
import { runSuite } from './suite.mjs';

const mockUrl = new URLSearchParams(location.search).get('mock');
runSuite(mockUrl, (line) => console.log(line)).then(
  (report) => (globalThis.suiteReport = report),
  (error) => (globalThis.suiteReport = { failed: 1, passed: 0, results: [{ name: 'suite', ok: false, detail: String(error) }], facts: {} }),
);
