// `npm start`: the local sandbox, with no account and no network. On 127.0.0.1 it starts the
// Prism mock of openapi.yaml and a server for the API docs and the spec file (building the
// docs first when they are missing or stale), prints the URLs and a ready-to-run example,
// makes one refresh through the package's own client against the mock (the live form, signed,
// as a user would call the live service), and serves until Ctrl-C, when it stops everything it
// started.
import { createTokenClient } from '../src/index.js';
import { buildDocs, docsAreStale, DOCS_FILE, SPEC_FILE } from './build-docs.js';
import { startDocsServer, type DocsServer } from './docs-server.js';
import { assertPortFree, PortInUseError } from './port-in-use-error.js';
import { startPrismMock, type PrismMock } from './prism-mock.js';
import { HOW_TO_CHOOSE, parseStartOptions, StartUsageError, USAGE, type StartOptions } from './start-options.js';

/** Made up: the mock checks that Authorization is present, not what it says, and no signature. */
const MADE_UP_ACCESS_TOKEN = 'made-up-access-token-for-the-local-mock';
const MADE_UP_APP_KEY = 'made-up-app-key';
const MADE_UP_APP_SECRET = 'made-up-app-secret';
const NINETY_DAYS_MS = 90 * 24 * 60 * 60 * 1000;

let prism: PrismMock | undefined;
let docs: DocsServer | undefined;
let stopping = false;

async function main(): Promise<void> {
  let options: StartOptions;
  try {
    options = parseStartOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof StartUsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  // One Ctrl-C stops everything. It often arrives twice (a terminal signals the whole process
  // group, and `npm start` forwards it to this process again): once stopping, later signals are
  // ignored, and the stop is bounded by itself (Prism is killed 3 s after SIGTERM).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => void stop(0, signal === 'SIGINT' ? 'Ctrl-C' : signal));
  }

  // Both ports are checked before anything starts, so a busy one leaves nothing behind.
  await assertPortFree(options.port, 'docs server', HOW_TO_CHOOSE.port);
  await assertPortFree(options.mockPort, 'Prism mock', HOW_TO_CHOOSE.mockPort);

  if (docsAreStale()) {
    console.log('Building docs/index.html from openapi.yaml ...');
    await buildDocs();
  }
  prism = await startPrismMock({ port: options.mockPort }).catch((error: Error) => {
    throw /already in use/.test(error.message) ? new PortInUseError(options.mockPort, 'Prism mock', HOW_TO_CHOOSE.mockPort) : error;
  });
  void prism.exited.then(({ code, signal }) => {
    if (stopping) return;
    // Ctrl-C in a terminal reaches Prism too (same process group), and may end it before this
    // process has handled its own SIGINT: that is a stop, not a failure.
    if (signal === 'SIGINT' || signal === 'SIGTERM' || signal === 'SIGHUP') return void stop(0, signal === 'SIGINT' ? 'Ctrl-C' : signal);
    console.error(`\nThe Prism mock exited unexpectedly (${signal ?? `code ${code}`}).`);
    void stop(1, 'Prism exited');
  });
  docs = await startDocsServer({ port: options.port, docsFile: DOCS_FILE, specFile: SPEC_FILE, howToChoosePort: HOW_TO_CHOOSE.port });

  console.log(banner(docs, prism));
  await refreshOnce(prism.url);
  console.log('\nServing until Ctrl-C.');
}

function banner(docsServer: DocsServer, mock: PrismMock): string {
  const expiredAt = encodeURIComponent(new Date(Date.now() + NINETY_DAYS_MS).toISOString()); // now + 90 days
  return [
    '',
    'longbridge-token-api sandbox (local only: no account, no network)',
    '',
    `  API docs       ${docsServer.url}/`,
    `  OpenAPI spec   ${docsServer.url}/openapi.yaml`,
    `  Prism mock     ${mock.url}  (pid ${mock.pid})`,
    '',
    'Try the mock (the live form, GET /v1/token/refresh; the mock does not check signatures):',
    '',
    `  curl -sS '${mock.url}/v1/token/refresh?expired_at=${expiredAt}' \\`,
    `    -H 'Authorization: ${MADE_UP_ACCESS_TOKEN}'`,
    '',
  ].join('\n');
}

/** One refresh through the package's client, as a user of the package would write it for the live service. */
async function refreshOnce(baseUrl: string): Promise<void> {
  console.log(`One refresh through the package's client (refreshAccessToken, signed with made-up keys, baseUrl ${baseUrl}):`);
  try {
    const client = createTokenClient({
      accessToken: MADE_UP_ACCESS_TOKEN,
      appKey: MADE_UP_APP_KEY,
      appSecret: MADE_UP_APP_SECRET,
      accountChannel: 'lb',
      baseUrl,
    });
    const data = await client.refreshAccessToken({ expiredAt: new Date(Date.now() + NINETY_DAYS_MS) });
    console.log(JSON.stringify(data, null, 2).replace(/^/gm, '  '));
  } catch (error) {
    console.error(`  The refresh failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
}

async function stop(exitCode: number, why: string): Promise<void> {
  if (stopping) return; // already stopping: see the signal handlers in main()
  stopping = true;
  console.log(`\n${why}: stopping the docs server and the Prism mock ...`);
  await Promise.allSettled([docs?.close(), prism?.stop()]);
  console.log('Stopped.');
  process.exit(exitCode);
}

main().catch(async (error: unknown) => {
  console.error(error instanceof PortInUseError ? error.message : error);
  stopping = true;
  await Promise.allSettled([docs?.close(), prism?.stop()]);
  process.exit(1);
});
