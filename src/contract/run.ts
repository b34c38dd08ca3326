// Runs the conformance suite against a base URL: derives the probes from the spec, sends
// them one at a time (the malformed ones first, the valid refresh last, since a successful
// refresh invalidates the token the others carry), checks each reply, and returns a report
// with every secret already redacted.
import { checkExchange, type CheckResult } from './checks.js';
import { send, type Exchange } from './exchange.js';
import { deriveProbes, type Probe, type RefreshTokenRequest } from './probes.js';
import { createRedactor, type PrintableExchange } from './redact.js';
import { readOperation } from './spec-operation.js';
import { createSpecValidator, defaultSpecPath, loadSpec } from './spec-validator.js';

export interface ContractOptions {
  /** Where the server is, e.g. `https://staging.example.com` (the operation's path is appended). */
  baseUrl: string;
  /** Sent raw in Authorization. The valid refresh, if the server honours it, replaces this token. */
  accessToken: string;
  /** Account-Channel of the valid refresh; default `lb`. */
  channel?: string;
  /** `aaid` of the valid refresh; default `20001`. */
  aaid?: string;
  /** openapi.yaml or openapi.json; default the package's own openapi.yaml. */
  specPath?: string;
  /** Per request; default 10 000. */
  timeoutMs?: number;
  /** Count advisory findings as failures. */
  strict?: boolean;
  /** The clock, ms since the epoch; `expired_at` is 90 days after it. */
  now?: () => number;
  fetch?: typeof globalThis.fetch;
}

export interface ProbeReport {
  name: string;
  title: string;
  kind: Probe['kind'];
  breaks?: string;
  exchange: PrintableExchange;
  checks: CheckResult[];
}

export interface ContractReport {
  /** True when no check failed. */
  ok: boolean;
  strict: boolean;
  spec: string;
  operation: { operationId: string; method: string; path: string };
  baseUrl: string;
  summary: { checks: number; passed: number; failed: number; warnings: number; skipped: number };
  /** Ids of the failed checks, e.g. `valid-refresh/success-body`. */
  failed: string[];
  /** Ids of the checks that only warn. */
  warnings: string[];
  probes: ProbeReport[];
}

export const DEFAULT_CHANNEL = 'lb';
export const DEFAULT_AAID = '20001';
export const DEFAULT_TIMEOUT_MS = 10_000;
const EXPIRES_IN_MS = 90 * 24 * 3600 * 1000;

/** Throws (before anything is sent) when the options or the spec are unusable. */
export async function runContractSuite(options: ContractOptions): Promise<ContractReport> {
  const specPath = options.specPath ?? defaultSpecPath();
  const spec = loadSpec(specPath);
  const operation = readOperation(spec);
  const validator = createSpecValidator(spec);
  const channel = options.channel ?? DEFAULT_CHANNEL;
  const body: RefreshTokenRequest = {
    expired_at: new Date((options.now ?? Date.now)() + EXPIRES_IN_MS).toISOString(),
    aaid: options.aaid ?? DEFAULT_AAID,
  };
  checkValidRequest(operation, validator, body, channel);
  const probes = deriveProbes(operation, {
    baseUrl: checkBaseUrl(options.baseUrl),
    accessToken: options.accessToken,
    headerValues: { 'Account-Channel': channel },
    body,
  });

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const exchanges = new Map<Probe, Exchange>();
  for (const probe of [...probes.filter((p) => p.kind !== 'valid'), ...probes.filter((p) => p.kind === 'valid')]) {
    exchanges.set(probe, await send(probe.request, { timeoutMs, fetch: options.fetch }));
  }

  const redactor = createRedactor({
    secretHeaders: operation.security.map((header) => header.name),
    secrets: [options.accessToken],
    exchanges: [...exchanges.values()],
  });
  const context = { operation, validator, strict: options.strict ?? false };
  const reports: ProbeReport[] = probes.map((probe) => {
    const exchange = exchanges.get(probe)!;
    const checks = checkExchange(probe, exchange, context).map((check) => ({
      ...check,
      detail: redactor.text(check.detail),
      rules: check.rules.map((rule) => ({ ...rule, message: redactor.text(rule.message) })),
    }));
    return {
      name: probe.name,
      title: redactor.text(probe.title),
      kind: probe.kind,
      ...(probe.breaks ? { breaks: probe.breaks } : {}),
      exchange: redactor.exchange(exchange),
      checks,
    };
  });

  const all = reports.flatMap((probe) => probe.checks);
  const ids = (outcome: CheckResult['outcome']) => all.filter((check) => check.outcome === outcome).map((check) => check.id);
  const failed = ids('fail');
  const warnings = ids('warn');
  return {
    ok: failed.length === 0,
    strict: context.strict,
    spec: specPath,
    operation: { operationId: operation.operationId, method: operation.method, path: operation.path },
    baseUrl: options.baseUrl,
    summary: { checks: all.length, passed: ids('pass').length, failed: failed.length, warnings: warnings.length, skipped: ids('skip').length },
    failed,
    warnings,
    probes: reports,
  };
}

/** The valid refresh must be valid by the spec itself, or the suite would test nothing. */
function checkValidRequest(
  operation: ReturnType<typeof readOperation>,
  validator: ReturnType<typeof createSpecValidator>,
  body: RefreshTokenRequest,
  channel: string,
): void {
  const { violations } = validator.validate(operation.request.schema.pointer, body);
  if (violations.length > 0) {
    throw new Error(`the valid request body breaks the spec: ${violations.map((v) => `${v.instancePath} ${v.message} (${v.location})`).join('; ')}`);
  }
  const header = operation.parameters.find((p) => p.name.toLowerCase() === 'account-channel');
  if (header?.allowed && !header.allowed.values.includes(channel)) {
    throw new Error(`channel must be one of ${header.allowed.values.join(', ')} (${header.allowed.pointer}), got ${JSON.stringify(channel)}`);
  }
}

function checkBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('base URL must be an absolute http(s) URL, such as https://staging.example.com');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`base URL must use http or https, got ${url.protocol}`);
  // Credentials in the URL would be printed in every request of the report.
  if (url.username || url.password) throw new Error('base URL must not contain credentials (user:password@)');
  if (url.search || url.hash) throw new Error('base URL must not have a query or a fragment');
  return url.href;
}
