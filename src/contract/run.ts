// Runs the conformance suite against a base URL: for each operation (the live form first)
// derives the probes from the spec, sends them one at a time (the malformed ones first, then
// the valid refreshes, since a refresh kills the token that authorised it), checks each
// reply, and returns a report with every secret already redacted.
//
// The token chain: the run starts from one token (the one in `tokenFile` when that file
// holds one, else `accessToken`); every reply that carries a token makes it the token of the
// following requests, and the last one is saved to `tokenFile` for the next run.
import { createSigner } from '../client/signing.js';
import { toEpochMs } from '../instant.js';
import { FileTokenStore } from '../lifecycle/file-token-store.js';
import { checkExchange, type CheckResult } from './checks.js';
import { lenientJson, send, type Exchange, type ReceivedResponse } from './exchange.js';
import { findingsOf, type Finding } from './findings.js';
import { deriveProbes, TIMESTAMP_SCHEME, type Probe } from './probes.js';
import { createRedactor, type PrintableExchange } from './redact.js';
import { readOperations, type ContractOperation } from './spec-operation.js';
import { createSpecValidator, defaultSpecPath, loadSpec, type SpecValidator } from './spec-validator.js';
import { wireRequest, type Signing } from './wire-request.js';

export interface ContractOptions {
  /** Where the server is, e.g. `https://staging.example.com` (each operation's path is appended). */
  baseUrl: string;
  /** The token to start from, sent raw in Authorization, unless `tokenFile` holds one. A valid refresh replaces it. */
  accessToken: string;
  /** Keeps the last token issued (a `FileTokenStore` file, mode 0600, written atomically); the run starts from it when it exists. */
  tokenFile?: string;
  /** operationIds (or methods) to check; default every operation of the spec. */
  operations?: string[];
  /** Account-Channel values, one valid refresh each; default `['lb']`. */
  channels?: string[];
  /** `aaid` of the valid refresh; default `20001`. */
  aaid?: string;
  /** openapi.yaml or openapi.json; default the package's own openapi.yaml. */
  specPath?: string;
  /** Per request; default 10 000. */
  timeoutMs?: number;
  /** Count warnings as failures. */
  strict?: boolean;
  /** How far the granted expired_at may be from the one asked for; default 5 minutes. */
  expiryToleranceMs?: number;
  /** Sign every request with this app key and secret, and check that bad signatures and replays are refused. */
  sign?: { appKey: string; appSecret: string };
  /** The clock, ms since the epoch: `expired_at` is 90 days after it; signing timestamps come from it. */
  now?: () => number;
  /** Waits `ms` (so that no two signed requests share an X-Timestamp); default a timer. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof globalThis.fetch;
}

export interface ProbeReport {
  /** `<operationId>/<probe>` */
  id: string;
  operationId: string;
  name: string;
  title: string;
  kind: Probe['kind'];
  breaks?: string;
  exchange: PrintableExchange;
  checks: CheckResult[];
}

export interface ContractReport {
  /** True when no check failed (and the server was reached, and the token was saved). */
  ok: boolean;
  strict: boolean;
  /** True when every request was signed (`--sign`). */
  signed: boolean;
  spec: string;
  baseUrl: string;
  operations: Array<{ operationId: string; method: string; path: string; liveForm: boolean }>;
  /** Set when the server could not be reached at all: the one-line cause. Nothing else was sent. */
  unreachable?: string;
  /** Where the first token came from, how many replies issued one, where the last was saved. Never a token. */
  token: { from: 'token-file' | 'access-token'; issued: number; savedTo?: string; saveError?: string };
  summary: { checks: number; passed: number; failed: number; warnings: number; skipped: number };
  /** Ids of the failed checks, e.g. `refreshToken/valid-refresh-lb/success-body`. */
  failed: string[];
  /** Ids of the checks that only warn. */
  warnings: string[];
  /** What to act on: one line each (see findings.ts). */
  findings: Finding[];
  probes: ProbeReport[];
}

export const DEFAULT_CHANNEL = 'lb';
export const DEFAULT_AAID = '20001';
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_EXPIRY_TOLERANCE_MS = 5 * 60_000;
const EXPIRES_IN_MS = 90 * 24 * 3600 * 1000;
const REPLAY = 'replayed-refresh';

/** Throws (before anything is sent) when the options or the spec are unusable. */
export async function runContractSuite(options: ContractOptions): Promise<ContractReport> {
  const specPath = options.specPath ?? defaultSpecPath();
  const spec = loadSpec(specPath);
  const operations = pick(readOperations(spec), options.operations);
  const validator = createSpecValidator(spec);
  const now = options.now ?? Date.now;
  const channels = options.channels?.length ? [...new Set(options.channels)] : [DEFAULT_CHANNEL];
  const values = { expired_at: new Date(now() + EXPIRES_IN_MS).toISOString(), aaid: options.aaid ?? DEFAULT_AAID };
  const baseUrl = checkBaseUrl(options.baseUrl);
  const rejects = (pointer: string, value: unknown) => !validator.validate(pointer, value).valid;
  const planned = operations.map((operation) => {
    checkValidRequest(operation, validator, values, channels);
    return { operation, probes: deriveProbes(operation, { baseUrl, channels, values, rejects, signing: Boolean(options.sign) }) };
  });

  const store = options.tokenFile === undefined ? undefined : new FileTokenStore(options.tokenFile);
  const stored = await store?.load().catch((error: Error) => {
    throw new Error(`--token-out: ${error.message}`);
  });
  let token = stored?.token ?? options.accessToken;
  const sent = new Set([token]);
  const signing = options.sign && signingWith(options.sign, now, options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))));

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const exchanges: Array<{ operation: ContractOperation; probe: Probe; exchange: Exchange }> = [];
  let lastIssued: { token: string; expiresAt: number } | undefined;
  let issued = 0;
  let unreachable: string | undefined;
  const sendProbe = async (operation: ContractOperation, probe: Probe, request?: Exchange['request']) => {
    const securityHeaders = operation.security.map((header) => header.name);
    const wire = request ?? (await wireRequest(probe.request, securityHeaders, token, signing));
    const exchange = await send(wire, { timeoutMs, fetch: options.fetch });
    exchanges.push({ operation, probe, exchange });
    if (exchanges.length === 1 && exchange.networkError) unreachable = `cannot reach ${new URL(wire.url).origin}: ${exchange.error}`;
    const fresh = issuedBy(exchange.response, values.expired_at);
    if (fresh) {
      issued++;
      lastIssued = fresh;
      token = fresh.token;
      sent.add(token);
    }
    return exchange;
  };

  run: for (const { operation, probes } of planned) {
    const ordered = [...probes.filter((p) => p.kind !== 'valid'), ...probes.filter((p) => p.kind === 'valid')];
    for (const probe of ordered) {
      const exchange = await sendProbe(operation, probe);
      if (unreachable) break run;
      if (signing && probe === ordered.find((p) => p.kind === 'valid')) {
        // The signed refresh again, byte for byte: same token, X-Timestamp and signature.
        const replay: Probe = {
          name: REPLAY,
          title: 'the signed valid refresh re-sent byte for byte (same X-Timestamp and signature)',
          kind: 'forbidden',
          breaks: TIMESTAMP_SCHEME,
          request: probe.request,
        };
        await sendProbe(operation, replay, exchange.request);
      }
    }
  }

  let saveError: string | undefined;
  if (store && lastIssued) await store.save(lastIssued).catch((error: Error) => void (saveError = error.message));

  const redactor = createRedactor({
    secretHeaders: [...new Set(operations.flatMap((operation) => operation.security.map((header) => header.name))), 'X-Api-Signature'],
    secrets: [...sent, options.sign?.appSecret],
    exchanges: exchanges.map((e) => e.exchange),
  });
  const errorCodePointers = new Map<number, string>(
    (Array.isArray(spec.info?.['x-error-codes']) ? (spec.info['x-error-codes'] as Array<{ code?: unknown }>) : []).map((entry, i) => [
      Number(entry?.code),
      `#/info/x-error-codes/${i}`,
    ]),
  );
  const strict = options.strict ?? false;
  // In the spec's order (valid refreshes first), each operation's replay after its probes.
  const byProbe = new Map(exchanges.map((e) => [e.probe, e]));
  const order = planned.flatMap(({ operation, probes }) => [
    ...probes.filter((probe) => byProbe.has(probe)).map((probe) => byProbe.get(probe)!),
    ...exchanges.filter((e) => e.operation === operation && e.probe.name === REPLAY),
  ]);
  const reports: ProbeReport[] = order.map(({ operation, probe, exchange }) => {
    const context = { operation, validator, strict, expiryToleranceMs: options.expiryToleranceMs ?? DEFAULT_EXPIRY_TOLERANCE_MS, errorCodePointers };
    const checks = checkExchange(probe, exchange, context).map((check) => ({
      ...check,
      detail: redactor.text(check.detail),
      rules: check.rules.map((rule) => ({ ...rule, message: redactor.text(rule.message) })),
    }));
    return {
      id: `${operation.operationId}/${probe.name}`,
      operationId: operation.operationId,
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
  const findings = unreachable
    ? [{ summary: redactor.text(unreachable), checks: failed }]
    : findingsOf(exchanges.map((e) => e.exchange), all).map((f) => ({ ...f, summary: redactor.text(f.summary) }));
  if (saveError) findings.push({ summary: `the last token issued was NOT saved to ${options.tokenFile}: ${redactor.text(saveError)}`, checks: [] });
  return {
    ok: failed.length === 0 && !unreachable && !saveError,
    strict,
    signed: Boolean(signing),
    spec: specPath,
    baseUrl: options.baseUrl,
    operations: operations.map(({ operationId, method, path, liveForm }) => ({ operationId, method, path, liveForm })),
    ...(unreachable ? { unreachable: redactor.text(unreachable) } : {}),
    token: {
      from: stored ? 'token-file' : 'access-token',
      issued,
      ...(store && lastIssued && !saveError ? { savedTo: store.path } : {}),
      ...(saveError ? { saveError: redactor.text(saveError) } : {}),
    },
    summary: { checks: all.length, passed: ids('pass').length, failed: failed.length, warnings: warnings.length, skipped: ids('skip').length },
    failed,
    warnings,
    findings,
    probes: reports,
  };
}

/** The operations asked for, by operationId or method (any case), in the spec's order (live form first). */
function pick(operations: ContractOperation[], wanted: string[] | undefined): ContractOperation[] {
  if (!wanted?.length) return operations;
  const names = operations.map((o) => `${o.operationId} (${o.method})`).join(', ');
  for (const name of wanted) {
    const matches = operations.filter((o) => o.operationId === name || o.method === name.toUpperCase());
    if (matches.length !== 1) throw new Error(`--operation ${JSON.stringify(name)} names no single operation of the spec: ${names}`);
  }
  return operations.filter((o) => wanted.some((name) => o.operationId === name || o.method === name.toUpperCase()));
}

/** A token a reply issued (`data.token`), and when it expires (the reply's, else the one asked for). */
function issuedBy(response: ReceivedResponse | undefined, requested: string): { token: string; expiresAt: number } | undefined {
  const data = (lenientJson(response) as { data?: { token?: unknown; expired_at?: unknown } } | null | undefined)?.data;
  if (typeof data?.token !== 'string' || data.token === '') return undefined;
  const said = toEpochMs(data.expired_at);
  return { token: data.token, expiresAt: Number.isNaN(said) ? toEpochMs(requested) : said };
}

/** Signs with the package's signer; X-Timestamp never repeats, and never runs ahead of the clock. */
function signingWith(keys: { appKey: string; appSecret: string }, now: () => number, sleep: (ms: number) => Promise<void>): Signing {
  let last = 0;
  return {
    signer: createSigner(keys.appKey, keys.appSecret),
    async nextTimestamp() {
      const next = Math.max(Math.floor(now() / 1000), last + 1);
      const wait = next * 1000 - now();
      if (wait > 0) await sleep(wait);
      return (last = next);
    },
  };
}

/** The valid request must be valid by the spec itself, or the suite would test nothing. */
function checkValidRequest(operation: ContractOperation, validator: SpecValidator, values: Record<string, string>, channels: string[]): void {
  if (operation.request) {
    const required: string[] = operation.request.schema.node.required ?? [];
    const body = Object.fromEntries(required.map((field) => [field, values[field]]));
    const { violations } = validator.validate(operation.request.schema.pointer, body);
    if (violations.length > 0) {
      throw new Error(`the valid request body breaks the spec: ${violations.map((v) => `${v.instancePath} ${v.message} (${v.location})`).join('; ')}`);
    }
  }
  const header = operation.parameters.find((p) => p.name.toLowerCase() === 'account-channel');
  for (const channel of header?.allowed ? channels : []) {
    if (!header!.allowed!.values.includes(channel)) {
      throw new Error(`channel must be one of ${header!.allowed!.values.join(', ')} (${header!.allowed!.pointer}), got ${JSON.stringify(channel)}`);
    }
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
