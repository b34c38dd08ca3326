// The command line of `npm start`: two ports, from flags or the environment.

export const DEFAULT_DOCS_PORT = 8080;
/** The spec's `servers` list http://127.0.0.1:4010 as the local mock. */
export const DEFAULT_MOCK_PORT = 4010;

export interface StartOptions {
  /** The docs server's port (docs and /openapi.yaml). */
  port: number;
  /** The Prism mock's port. */
  mockPort: number;
  help: boolean;
}

export const USAGE = `Usage: npm start [-- --port <n>] [--mock-port <n>]

Starts, on 127.0.0.1, the Prism mock of openapi.yaml and a server for the API docs and the
spec file, makes one refresh through the package's client against the mock, and serves
until Ctrl-C.

  --port <n>        docs and /openapi.yaml (default ${DEFAULT_DOCS_PORT}; env PORT)
  --mock-port <n>   the Prism mock (default ${DEFAULT_MOCK_PORT}; env MOCK_PORT)
  --help            this text
`;

/** How to choose each port, for error messages. */
export const HOW_TO_CHOOSE = {
  port: '`npm start -- --port <n>` or `PORT=<n> npm start`',
  mockPort: '`npm start -- --mock-port <n>` or `MOCK_PORT=<n> npm start`',
} as const;

export class StartUsageError extends Error {
  override readonly name = 'StartUsageError';
}

/** Flags win over the environment; throws StartUsageError for anything it does not understand. */
export function parseStartOptions(argv: readonly string[], env: NodeJS.ProcessEnv): StartOptions {
  const flags: { port?: string; mockPort?: string } = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const match = /^--(port|mock-port)(?:=(.*))?$/.exec(arg);
    if (!match) throw new StartUsageError(`Unknown argument ${JSON.stringify(arg)}.`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new StartUsageError(`--${match[1]} needs a port number.`);
    flags[match[1] === 'port' ? 'port' : 'mockPort'] = value;
  }
  const port = toPort(flags.port ?? env.PORT, flags.port === undefined ? 'PORT' : '--port', DEFAULT_DOCS_PORT);
  const mockPort = toPort(
    flags.mockPort ?? env.MOCK_PORT,
    flags.mockPort === undefined ? 'MOCK_PORT' : '--mock-port',
    DEFAULT_MOCK_PORT,
  );
  if (port === mockPort) {
    throw new StartUsageError(`The docs port and the mock port are both ${port}; they must differ.`);
  }
  return { port, mockPort, help };
}

function toPort(value: string | undefined, source: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new StartUsageError(`${source} must be a port number from 1 to 65535, got ${JSON.stringify(value)}.`);
  }
  return port;
}
