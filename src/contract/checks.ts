// Judges one exchange against the spec. Each check has a stable name; a failure carries the
// spec rules it broke, as absolute JSON pointers into openapi.yaml (schema violations come
// from Ajv compiling the spec itself, see spec-validator.ts; the semantic checks are the
// operation's `x-semantics`, see semantics.ts).
import { errorCodes } from '../../generated/error-codes.js';
import { MAX_BODY_BYTES, type Exchange, type ReceivedResponse } from './exchange.js';
import type { Probe } from './probes.js';
import { judge } from './semantics.js';
import {
  ERROR_SCHEMA,
  mediaTypeEssence,
  SUCCESS_SCHEMA,
  type ContractOperation,
  type DeclaredResponse,
} from './spec-operation.js';
import type { SpecValidator } from './spec-validator.js';

const MAX_BODY_MIB = MAX_BODY_BYTES / (1024 * 1024);

export type Outcome = 'pass' | 'fail' | 'warn' | 'skip';

/** The fixed checks; a valid refresh also gets one check per `x-semantics` rule, named by it. */
export type CheckName =
  | 'responded'
  | 'declared-status'
  | 'content-type'
  | 'success-status'
  | 'success-body'
  | 'refused'
  | 'no-token'
  | 'error-envelope';

/** What each check asks, for reports and the README. */
export const CHECK_QUESTIONS: Record<CheckName, string> = {
  responded: 'a complete HTTP response arrived in time',
  'declared-status': 'the status is one the operation declares',
  'content-type': 'the Content-Type is a media type declared for that status',
  'success-status': 'a valid refresh is answered with a declared 2xx status and code 0',
  'success-body': 'the body is valid against the success schema',
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
  /** `<operationId>/<probe>/<check>`, e.g. `refreshToken/valid-refresh-lb/success-body`. */
  id: string;
  probe: string;
  check: string;
  outcome: Outcome;
  detail: string;
  rules: BrokenRule[];
}

export interface CheckContext {
  operation: ContractOperation;
  validator: SpecValidator;
  /** Count advisory findings as failures. */
  strict: boolean;
  /** How far the granted expiry may be from the one asked for, in ms. */
  expiryToleranceMs: number;
  /** Where each documented error code is written in the spec (`#/info/x-error-codes/N`), by code. */
  errorCodePointers: Map<number, string>;
}

export function checkExchange(probe: Probe, exchange: Exchange, context: CheckContext): CheckResult[] {
  const result = (check: string, outcome: Outcome, detail: string, rules: BrokenRule[] = []): CheckResult => ({
    id: `${context.operation.operationId}/${probe.name}/${check}`,
    probe: probe.name,
    check,
    outcome,
    detail,
    rules: outcome === 'pass' || outcome === 'skip' ? [] : rules,
  });
  const semantics = context.operation.semantics;
  const later: string[] =
    probe.kind === 'valid'
      ? ['declared-status', 'content-type', 'success-status', 'success-body', ...semantics.map((rule) => rule.check)]
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
    const refusal = refusalOf(validator, response, context);
    if (refusal) {
      // Refused: name the code, its kind and what to do, once; the body is an error, not a broken success.
      results.push(result('success-status', 'fail', refusal.detail, refusal.rules));
      results.push(result('success-body', 'skip', 'the refresh was refused (see success-status)'));
      for (const rule of semantics) results.push(result(rule.check, 'skip', 'the refresh was refused (see success-status)'));
      return results;
    }
    results.push(successStatus(operation, response, result));
    const body = schemaCheck(validator, SUCCESS_SCHEMA, response);
    results.push(result('success-body', body.rules.length ? 'fail' : 'pass', body.detail, body.rules));
    for (const rule of semantics) {
      if (!('json' in response)) {
        results.push(result(rule.check, 'skip', 'no JSON body to check (see success-body)'));
        continue;
      }
      const verdict = judge(rule, response.json, exchange.request, { toleranceMs: context.expiryToleranceMs, strict: context.strict });
      results.push(result(rule.check, verdict.outcome, verdict.detail, [{ location: rule.pointer, instancePath: rule.reply, message: verdict.message }]));
    }
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

/**
 * When a valid refresh got the error envelope: `refused with 403201 (signature-invalid): <hint>`,
 * pointing at the code's entry in `info.x-error-codes`.
 */
function refusalOf(validator: SpecValidator, response: ReceivedResponse, context: CheckContext): { detail: string; rules: BrokenRule[] } | undefined {
  if (!('json' in response) || !validator.validate(ERROR_SCHEMA, response.json).valid) return undefined;
  const { code, message, msg } = response.json as { code: number; message?: unknown; msg?: unknown };
  const said = typeof message === 'string' ? message : typeof msg === 'string' ? msg : '';
  const known = errorCodes[code];
  const detail = known
    ? `a valid refresh was refused with ${code} (${known.kind}), HTTP ${response.status}: ${known.hint}`
    : `a valid refresh was refused with ${code}, HTTP ${response.status}${said ? `: ${JSON.stringify(said.slice(0, 200))}` : ''} (a code the spec does not document)`;
  const location = context.errorCodePointers.get(code) ?? '#/info/x-error-codes';
  return { detail, rules: [{ location, message: `code ${code}${said ? ` "${said.slice(0, 200)}"` : ''}: a valid refresh must be answered with code 0 and a token` }] };
}

type Result = (check: string, outcome: Outcome, detail: string, rules?: BrokenRule[]) => CheckResult;

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
    const what = unparsedBody(response);
    return { detail: `${what}; expected ${name}`, rules: [{ location: pointer, message: what }] };
  }
  const { violations } = validator.validate(pointer, response.json);
  if (violations.length === 0) return { detail: `valid against ${name}`, rules: [] };
  return {
    detail: `not valid against ${name} (${violations.length} violation${violations.length === 1 ? '' : 's'})`,
    rules: violations.map(({ location, instancePath, message }) => ({ location, instancePath, message })),
  };
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

/** Why a body did not parse, in words a developer can act on. */
export function unparsedBody(response: ReceivedResponse): string {
  if (response.truncated) return `the body is too large: over ${MAX_BODY_MIB} MiB (the suite reads at most ${MAX_BODY_MIB} MiB)`;
  if (response.body.trim() === '') return 'the body is empty';
  if (response.bom) return 'the body starts with a UTF-8 byte order mark (EF BB BF), which JSON sent over a network must not have';
  return 'the body is not JSON';
}
