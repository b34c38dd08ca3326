// Judges one exchange against the spec. Each check has a stable name; a failure carries the
// spec rules it broke, as absolute JSON pointers into openapi.yaml (schema violations come
// from Ajv compiling the spec itself, see spec-validator.ts).
import type { Exchange, ReceivedResponse } from './exchange.js';
import type { Probe } from './probes.js';
import {
  ACCOUNT_CHANNEL_FIELD,
  ERROR_SCHEMA,
  mediaTypeEssence,
  SUCCESS_SCHEMA,
  type ContractOperation,
  type DeclaredResponse,
} from './spec-operation.js';
import type { SpecValidator } from './spec-validator.js';

export type Outcome = 'pass' | 'fail' | 'warn' | 'skip';

export type CheckName =
  | 'responded'
  | 'declared-status'
  | 'content-type'
  | 'success-status'
  | 'success-body'
  | 'account-channel'
  | 'refused'
  | 'no-token'
  | 'error-envelope';

/** What each check asks, for reports and the README. */
export const CHECK_QUESTIONS: Record<CheckName, string> = {
  responded: 'a complete HTTP response arrived in time',
  'declared-status': 'the status is one the operation declares',
  'content-type': 'the Content-Type is a media type declared for that status',
  'success-status': 'a valid refresh is answered with a declared 2xx status',
  'success-body': 'the body is valid against the success schema',
  'account-channel': 'data.account_info.account_channel is the Account-Channel sent',
  refused: 'the request is refused: a 4xx, or a non-zero code in the error envelope',
  'no-token': 'the reply carries no token and no code 0',
  'error-envelope': 'the body is valid against the error envelope',
};

/** A spec rule behind a failure: where it is written, and what the reply did. */
export interface BrokenRule {
  location: string;
  message: string;
  /** Where in the body, for schema violations. */
  instancePath?: string;
}

export interface CheckResult {
  /** `<probe>/<check>`, e.g. `valid-refresh/success-body`. */
  id: string;
  probe: string;
  check: CheckName;
  outcome: Outcome;
  detail: string;
  rules: BrokenRule[];
}

export interface CheckContext {
  operation: ContractOperation;
  validator: SpecValidator;
  /** Count advisory findings as failures. */
  strict: boolean;
}

export function checkExchange(probe: Probe, exchange: Exchange, context: CheckContext): CheckResult[] {
  const result = (check: CheckName, outcome: Outcome, detail: string, rules: BrokenRule[] = []): CheckResult => ({
    id: `${probe.name}/${check}`,
    probe: probe.name,
    check,
    outcome,
    detail,
    rules: outcome === 'pass' || outcome === 'skip' ? [] : rules,
  });
  const later: CheckName[] =
    probe.kind === 'valid'
      ? ['declared-status', 'content-type', 'success-status', 'success-body', 'account-channel']
      : ['declared-status', 'content-type', 'refused', 'no-token', 'error-envelope'];
  const response = exchange.response;
  if (!response) {
    return [
      result('responded', 'fail', exchange.error ?? 'no response'),
      ...later.map((check) => result(check, 'skip', 'no response to check')),
    ];
  }
  const { operation, validator } = context;
  const declared = declaredFor(operation, response.status);
  const results = [
    result('responded', 'pass', `HTTP ${response.status}`),
    declaredStatus(operation, declared, response, result),
    contentType(operation, declared, response, result),
  ];
  if (probe.kind === 'valid') {
    results.push(successStatus(operation, response, result));
    const body = schemaCheck(validator, SUCCESS_SCHEMA, response);
    results.push(result('success-body', body.rules.length ? 'fail' : 'pass', body.detail, body.rules));
    results.push(accountChannel(probe, response, result));
  } else {
    const envelope = schemaCheck(validator, ERROR_SCHEMA, response);
    const token = tokenIn(response.json);
    results.push(refused(probe, response, envelope.rules.length === 0, result));
    results.push(
      token
        ? result('no-token', 'fail', `answered with ${token} to a request that breaks the spec`, [brokenRequest(probe)])
        : result('no-token', 'pass', 'no token, no code 0'),
    );
    if (envelope.rules.length === 0) results.push(result('error-envelope', 'pass', envelope.detail));
    else {
      const advisory = probe.envelopeAdvisory && !context.strict && isClientError(response.status) && !token;
      const detail = advisory ? `${envelope.detail}; only a warning: ${probe.envelopeAdvisory}` : envelope.detail;
      results.push(result('error-envelope', advisory ? 'warn' : 'fail', detail, envelope.rules));
    }
  }
  return results;
}

type Result = (check: CheckName, outcome: Outcome, detail: string, rules?: BrokenRule[]) => CheckResult;

/** The declared response for `status`: exact, then `4XX`-style ranges, then `default`. */
function declaredFor(operation: ContractOperation, status: number): DeclaredResponse | undefined {
  const range = `${String(status)[0]}XX`;
  return (
    operation.responses.find((r) => r.status === String(status)) ??
    operation.responses.find((r) => r.status.toUpperCase() === range) ??
    operation.responses.find((r) => r.status === 'default')
  );
}

function declaredStatus(operation: ContractOperation, declared: DeclaredResponse | undefined, response: ReceivedResponse, result: Result) {
  const statuses = operation.responses.map((r) => r.status).join(', ');
  return declared
    ? result('declared-status', 'pass', `HTTP ${response.status} is declared (${declared.pointer})`)
    : result('declared-status', 'fail', `HTTP ${response.status} is not a declared response (declared: ${statuses})`, [
        { location: `${operation.pointer}/responses`, message: `declares ${statuses}, not ${response.status}` },
      ]);
}

function contentType(operation: ContractOperation, declared: DeclaredResponse | undefined, response: ReceivedResponse, result: Result) {
  const allowed = declared ? declared.mediaTypes : [...new Set(operation.responses.flatMap((r) => r.mediaTypes))];
  const location = declared ? `${declared.pointer}/content` : `${operation.pointer}/responses`;
  const sent = response.headers['content-type'];
  if (allowed.length === 0) return result('content-type', 'pass', 'the response declares no content');
  if (sent !== undefined && allowed.map(mediaTypeEssence).includes(mediaTypeEssence(sent))) {
    return result('content-type', 'pass', `Content-Type ${sent}`);
  }
  const got = sent === undefined ? 'no Content-Type' : `Content-Type ${sent}`;
  return result('content-type', 'fail', `${got}; declared: ${allowed.join(', ')}`, [
    { location, message: `declares ${allowed.join(', ')}, the reply has ${got}` },
  ]);
}

function successStatus(operation: ContractOperation, response: ReceivedResponse, result: Result) {
  const success = operation.responses.filter((r) => /^2/.test(r.status));
  const statuses = success.map((r) => r.status).join(', ');
  if (success.some((r) => r.status === String(response.status) || r.status.toUpperCase() === '2XX')) {
    return result('success-status', 'pass', `HTTP ${response.status}`);
  }
  return result('success-status', 'fail', `a valid refresh was answered with HTTP ${response.status}, not ${statuses}`, [
    ...success.map((r) => ({ location: r.pointer, message: `a success is HTTP ${r.status}` })),
  ]);
}

function schemaCheck(validator: SpecValidator, pointer: string, response: ReceivedResponse): { detail: string; rules: BrokenRule[] } {
  const name = pointer.split('/').pop();
  if (!('json' in response)) {
    const what = response.body.trim() === '' ? 'the body is empty' : 'the body is not JSON';
    return { detail: `${what}; expected ${name}`, rules: [{ location: pointer, message: `${what}` }] };
  }
  const { violations } = validator.validate(pointer, response.json);
  if (violations.length === 0) return { detail: `valid against ${name}`, rules: [] };
  return {
    detail: `not valid against ${name} (${violations.length} violation${violations.length === 1 ? '' : 's'})`,
    rules: violations.map(({ location, instancePath, message }) => ({ location, instancePath, message })),
  };
}

function accountChannel(probe: Probe, response: ReceivedResponse, result: Result) {
  const sent = Object.entries(probe.request.headers).find(([name]) => name.toLowerCase() === 'account-channel')?.[1];
  const got = (response.json as { data?: { account_info?: { account_channel?: unknown } } } | undefined)?.data?.account_info
    ?.account_channel;
  if (sent === undefined) return result('account-channel', 'skip', 'the request sent no Account-Channel');
  if (typeof got !== 'string') return result('account-channel', 'skip', 'no data.account_info.account_channel to compare (see success-body)');
  if (got === sent) return result('account-channel', 'pass', `account_channel ${JSON.stringify(got)} as requested`);
  return result('account-channel', 'fail', `requested Account-Channel ${JSON.stringify(sent)}, got account_channel ${JSON.stringify(got)}`, [
    { location: ACCOUNT_CHANNEL_FIELD, instancePath: '/data/account_info/account_channel', message: `must be the requested ${JSON.stringify(sent)}` },
  ]);
}

function refused(probe: Probe, response: ReceivedResponse, isEnvelope: boolean, result: Result) {
  if (isClientError(response.status)) return result('refused', 'pass', `HTTP ${response.status}`);
  if (isEnvelope) {
    const code = (response.json as { code?: unknown }).code;
    return result('refused', 'pass', `HTTP ${response.status} with error code ${String(code)}`);
  }
  return result('refused', 'fail', `HTTP ${response.status} and no error envelope: the request was not refused`, [brokenRequest(probe)]);
}

function brokenRequest(probe: Probe): BrokenRule {
  return { location: probe.breaks ?? '#', message: `the request breaks this rule (${probe.title})` };
}

/** Describes the token (or success code) a reply carries, or '' when it carries none. */
function tokenIn(json: unknown): string {
  if (typeof json !== 'object' || json === null) return '';
  const { code, data } = json as { code?: unknown; data?: { token?: unknown } | null };
  const token = typeof data === 'object' && data !== null ? data.token : undefined;
  if (token !== undefined && token !== null) return 'a token (data.token)';
  return code === 0 || code === '0' ? 'code 0 (success)' : '';
}

function isClientError(status: number): boolean {
  return status >= 400 && status <= 499;
}
