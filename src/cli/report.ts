// What the CLI writes to stderr when something fails, and its exit code: `error: …`, `hint: …`,
// and for a failure after which a refresh may have happened, a warning not to re-run blindly.
// Every line goes through `redact` before it is written.
import { ApiError, InvalidInputError, InvalidResponseError, NetworkError, TimeoutError } from '../index.js';
import { UsageError } from './args.js';
import { EXIT } from './exit-codes.js';
import { scrubOrWithhold } from '../redact.js';

export interface Failure {
  exitCode: number;
  lines: string[];
}

/** What the failure report needs to know about the run, to name flags and sources. */
export interface RunContext {
  command: string;
  /** Set once the request may have left: from then on an interruption may have refreshed. */
  requestStarted: boolean;
  signed: boolean;
  /** Where each client field came from: `expiredAt` → `--expires-in`, `accessToken` → `LONGBRIDGE_ACCESS_TOKEN`, … */
  fieldLabels: Record<string, string>;
}

const HELP_HINT = 'run "longbridge-token --help" for the flags, environment variables and exit codes';

const DO_NOT_RERUN =
  'Do not re-run blindly: first check whether the old token still works; if it does not, create a new token in the Longbridge developer console.';

export const MAY_HAVE_REFRESHED =
  `the request may have reached the server: if the refresh went through, the old token is no longer valid and the new one was lost. ${DO_NOT_RERUN}`;

/** What main() rejects with when the run's signal aborts (Ctrl-C). */
export class Interrupted extends Error {
  override name = 'Interrupted';
  constructor() {
    super('interrupted');
  }
}

/** What main() rejects with when the new token could not be written to stdout. */
export class OutputFailed extends Error {
  override name = 'OutputFailed';
  constructor(readonly code: string) {
    super(`stdout: ${code}`);
  }
}

const OUTPUT_ERRORS: Record<string, string> = {
  EPIPE: 'EPIPE: whatever read stdout had closed it',
  ENOSPC: 'ENOSPC: no space left on the device stdout goes to',
  EDQUOT: 'EDQUOT: the disk quota is used up',
  EIO: 'EIO: an input/output error',
  EBADF: 'EBADF: stdout is closed',
};

/** Maps any failure to its report. Never throws. */
export function describeFailure(error: unknown, context: RunContext | undefined): Failure {
  if (error instanceof OutputFailed) {
    return {
      exitCode: EXIT['output-failed'],
      lines: [
        `error: the refresh went through, but the new token could not be written to stdout (${OUTPUT_ERRORS[error.code] ?? error.code})`,
        'hint: the old token is no longer valid and the new one was not written anywhere: create a new token in the Longbridge developer console, ' +
          'and make sure stdout goes somewhere that takes it (a pipe that reads to the end, a disk with free space). Do not re-run with the old token.',
      ],
    };
  }
  if (error instanceof Interrupted) {
    return context?.requestStarted
      ? { exitCode: EXIT.interrupted, lines: ['error: interrupted while waiting for the reply', 'hint: see the warning below', `warning: ${MAY_HAVE_REFRESHED}`] }
      : { exitCode: EXIT.interrupted, lines: ['error: interrupted', 'hint: nothing was sent'] };
  }
  if (error instanceof UsageError) {
    return { exitCode: EXIT.usage, lines: [`error: ${error.message}`, `hint: ${HELP_HINT}`] };
  }
  if (error instanceof InvalidInputError) {
    const label = context?.fieldLabels[error.field] ?? error.field;
    const message = error.message.startsWith(`${error.field}: `) ? `${label}: ${error.message.slice(error.field.length + 2)}` : error.message;
    return { exitCode: EXIT.usage, lines: [`error: ${message}`, 'hint: nothing was sent; fix the value and run again (longbridge-token --help)'] };
  }
  if (error instanceof ApiError) {
    const known = error.kind === 'unknown' ? 'unknown-api-error' : error.kind;
    const lines = [`error: ${error.message}`, `hint: ${error.hint}`];
    if (error.kind === 'signature-invalid' && context && !context.signed) {
      lines.push(
        'hint: this request was not signed: the live service signs every request; set LONGBRIDGE_APP_KEY and LONGBRIDGE_APP_SECRET (or the LONGPORT_ names)',
      );
    }
    if (error.retryAfterMs !== undefined) {
      lines.push(`retry-after: ${Math.ceil(error.retryAfterMs / 1000)} s (the server asks to wait that long)`);
    }
    if (error.kind === 'server-error') lines.push(`warning: ${MAY_HAVE_REFRESHED}`);
    return { exitCode: EXIT[known], lines };
  }
  if (error instanceof InvalidResponseError) {
    const lines = [`error: ${error.message}`];
    if (error.status >= 400 && error.status < 500) {
      lines.push(`hint: HTTP ${error.status} without the API's JSON envelope: check --base-url (a wrong host, a proxy or a captive portal?)`);
    } else {
      lines.push('hint: the server answered, but not with the documented JSON envelope; check --base-url, or try again later');
      lines.push(`warning: ${MAY_HAVE_REFRESHED}`);
    }
    return { exitCode: EXIT['invalid-response'], lines };
  }
  if (error instanceof TimeoutError) {
    return {
      exitCode: EXIT.timeout,
      lines: [
        `error: ${error.message}`, // says the request may have reached the server
        'hint: check the network and --base-url; raise --timeout-ms if the service is slow',
        `warning: ${DO_NOT_RERUN}`,
      ],
    };
  }
  if (error instanceof NetworkError) {
    const lines = [`error: ${error.message}`]; // says so when the request may have reached the server
    if (error.mayHaveReachedServer) {
      lines.push('hint: the connection failed during the request; check the network, proxy and --base-url');
      lines.push(`warning: ${DO_NOT_RERUN}`);
    } else {
      lines.push('hint: nothing reached the server (connection refused, host not found or TLS failure): check --base-url, DNS and proxy; it is safe to run again');
    }
    return { exitCode: EXIT.network, lines };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    exitCode: EXIT.internal,
    lines: [`error: unexpected failure: ${message}`, 'hint: this is a bug in longbridge-token: please report it (without your token)'],
  };
}



const LINE_LIMIT = 2_000;

/**
 * Makes one line safe to print: every secret replaced, control characters (a server's
 * message may carry terminal escapes or line breaks) escaped, and the length capped.
 */
export function redact(line: string, secrets: readonly string[]): string {
  let out = scrubOrWithhold(line, secrets, `${line.slice(0, line.indexOf(':') + 1)} [withheld: it contained a secret too short to scrub]`.trimStart());
  // eslint-disable-next-line no-control-regex
  out = out.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return out.length > LINE_LIMIT ? `${out.slice(0, LINE_LIMIT)}… (${out.length - LINE_LIMIT} more characters)` : out;
}
