// The requests the suite sends, derived from each operation the spec declares: the valid
// refresh (one per channel when the operation takes `Account-Channel`), and one malformed
// request for each rule of the request the spec writes down: each required security header
// (missing, and empty), each required header (missing, an undeclared value, a declared value
// in another case), each required query parameter or body field (missing), each date-time
// (several values the spec's validator rejects, see invalid-dates.ts), each non-empty field
// (empty), each string field (sent as a number), `additionalProperties: false`, the body's
// media type and the body being JSON at all. With signing on: the valid request unsigned,
// and with a wrong signature (the replay of a signed refresh is sent by run.ts).
import { invalidDates } from './invalid-dates.js';
import type { ContractOperation } from './spec-operation.js';
import { pointerSegment } from './spec-pointer.js';

/** A request before the token and signature are known (they are filled in when it is sent). */
export interface ProbeRequest {
  method: string;
  /** The full URL, with the query string as sent. */
  url: string;
  /** Every header but the security headers and the signature. */
  headers: Record<string, string>;
  body?: string;
  /** What each security header (Authorization) carries: the current token, nothing, or ''. */
  credentials: 'token' | 'none' | 'empty';
  /** When the run signs: a valid signature, none, or a wrong one. */
  signature: 'valid' | 'none' | 'bad';
}

export interface Probe {
  /** Stable name used in check ids, e.g. `missing-authorization`. */
  name: string;
  /** What the request is, in words. */
  title: string;
  /** `valid`: must be answered with a token; `forbidden`: must be refused, without a token. */
  kind: 'valid' | 'forbidden';
  /** The spec rule the request breaks (a JSON pointer), for forbidden probes. */
  breaks?: string;
  /**
   * Why a reply that is not the error envelope is only a warning for this probe (see
   * `checks.ts`); absent when the envelope is required.
   */
  envelopeAdvisory?: string;
  request: ProbeRequest;
}

export interface ProbeOptions {
  baseUrl: string;
  /** Account-Channel values: one valid refresh each; the malformed requests use the first. */
  channels: string[];
  /** Values of the valid request's query parameters and body fields, by name. */
  values: Record<string, string>;
  /** True when the spec's schema at `pointer` rejects `value` (the suite's Ajv). */
  rejects: (pointer: string, value: unknown) => boolean;
  /** Add the signature probes. */
  signing: boolean;
}

/** Values no sane spec allows, used to break one rule at a time. */
const UNKNOWN_VALUE = 'not_a_declared_value';
const EXTRA_FIELD = 'unexpected_field';
const CHANNEL_HEADER = 'account-channel';

export const BODY_NOT_JSON_ADVISORY =
  "a server's framework may refuse a body it cannot parse before the application sees it " +
  '(Prism answers its own {"error":{"code":"invalid_json",...}}); a 4xx without a token is still required, ' +
  'and --strict makes this a failure';

/** Where the signature rule is written: the security alternative with the signing headers. */
export const SIGNED_SECURITY = '#/security/1';
export const SIGNATURE_SCHEME = '#/components/securitySchemes/Signature';
export const TIMESTAMP_SCHEME = '#/components/securitySchemes/Timestamp';

/** The valid refreshes first in the list; the suite sends them after the malformed ones (see `run.ts`). */
export function deriveProbes(operation: ContractOperation, options: ProbeOptions): Probe[] {
  const base = `${options.baseUrl.replace(/\/+$/, '')}${operation.path}`;
  const value = (name: string) => {
    const found = options.values[name];
    if (found === undefined) throw new Error(`the spec requires ${name} (${operation.operationId}); the suite has no value for it`);
    return found;
  };
  const channelHeader = operation.parameters.find((p) => p.name.toLowerCase() === CHANNEL_HEADER);
  const headers: Record<string, string> = {};
  for (const header of operation.parameters) {
    if (header !== channelHeader) throw new Error(`the spec requires the header ${header.name}; the suite has no value for it`);
    headers[header.name] = options.channels[0]!;
  }
  const query: Record<string, string> = {};
  for (const parameter of operation.query) if (parameter.required) query[parameter.name] = value(parameter.name);
  const schema = operation.request?.schema;
  const properties = (schema?.node.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required: string[] = Array.isArray(schema?.node.required) ? schema!.node.required : [];
  const body: Record<string, unknown> = Object.fromEntries(required.map((field) => [field, value(field)]));
  if (operation.request) headers['Content-Type'] = operation.request.mediaType;

  const request = (
    change: { without?: string; headers?: Record<string, string>; query?: Record<string, string>; body?: string } & Partial<
      Pick<ProbeRequest, 'credentials' | 'signature'>
    > = {},
  ): ProbeRequest => {
    const probeHeaders = { ...headers, ...change.headers };
    if (change.without) delete probeHeaders[change.without];
    const search = new URLSearchParams(change.query ?? query).toString();
    return {
      method: operation.method,
      url: search ? `${base}?${search}` : base,
      headers: probeHeaders,
      ...(operation.request ? { body: change.body ?? JSON.stringify(body) } : {}),
      credentials: change.credentials ?? 'token',
      signature: change.signature ?? 'valid',
    };
  };
  const withBody = (value: Record<string, unknown>) => request({ body: JSON.stringify(value) });
  const without = (record: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));

  const shown = [...Object.entries(query).map(([k, v]) => `${k}=${v}`), ...(operation.request ? [JSON.stringify(body)] : [])].join(' ');
  const probes: Probe[] = channelHeader
    ? options.channels.map((channel) => ({
        name: `valid-refresh-${channel}`,
        title: `a valid refresh, ${channelHeader.name}: ${channel}: ${shown}`,
        kind: 'valid' as const,
        request: request({ headers: { [channelHeader.name]: channel } }),
      }))
    : [{ name: 'valid-refresh', title: `a valid refresh: ${shown}`, kind: 'valid', request: request() }];
  const forbidden = (name: string, title: string, breaks: string, probe: ProbeRequest) =>
    probes.push({ name, title, kind: 'forbidden', breaks, request: probe });

  for (const header of operation.security) {
    forbidden(`missing-${slug(header.name)}`, `no ${header.name} header`, header.pointer, request({ credentials: 'none' }));
    forbidden(`empty-${slug(header.name)}`, `${header.name} present but empty`, header.pointer, request({ credentials: 'empty' }));
  }
  for (const header of operation.parameters) {
    forbidden(`missing-${slug(header.name)}`, `no ${header.name} header`, header.pointer, request({ without: header.name }));
    if (!header.allowed) continue;
    if (!header.allowed.values.includes(UNKNOWN_VALUE)) {
      forbidden(
        `unknown-${slug(header.name)}`,
        `${header.name}: ${UNKNOWN_VALUE} (allowed: ${header.allowed.values.join(', ')})`,
        header.allowed.pointer,
        request({ headers: { [header.name]: UNKNOWN_VALUE } }),
      );
    }
    // Enum values match exactly: the first declared value in another case must be refused.
    const recased = header.allowed.values.map(otherCase).find((v) => v !== undefined && !header.allowed!.values.includes(v));
    if (recased) {
      forbidden(
        `uppercase-${slug(header.name)}`,
        `${header.name}: ${recased} (declared values match exactly: ${header.allowed.values.join(', ')})`,
        header.allowed.pointer,
        request({ headers: { [header.name]: recased } }),
      );
    }
  }

  for (const parameter of operation.query) {
    if (parameter.required) {
      forbidden(`missing-${parameter.name}`, `no ${parameter.name} in the query`, `${parameter.pointer}/required`, request({ query: without(query, parameter.name) as Record<string, string> }));
    }
    if (parameter.schema.node.format === 'date-time') {
      for (const date of invalidDates(value(parameter.name), (v) => options.rejects(parameter.schema.pointer, v))) {
        forbidden(`${date.label}-${parameter.name}`, `${parameter.name}=${date.value} (${date.why})`, `${parameter.schema.pointer}/format`, request({ query: { ...query, [parameter.name]: date.value } }));
      }
    }
  }

  if (schema && operation.request) {
    for (const [field, property] of Object.entries(properties)) {
      const at = `${schema.pointer}/properties/${pointerSegment(field)}`;
      if (required.includes(field)) forbidden(`missing-${field}`, `body without ${field}`, `${schema.pointer}/required`, withBody(without(body, field)));
      if (property.format === 'date-time' && typeof body[field] === 'string') {
        for (const date of invalidDates(body[field] as string, (v) => options.rejects(at, v))) {
          forbidden(`${date.label}-${field}`, `${field}: ${JSON.stringify(date.value)} (${date.why})`, `${at}/format`, withBody({ ...body, [field]: date.value }));
        }
      }
      if (typeof property.minLength === 'number' && property.minLength > 0) {
        forbidden(`empty-${field}`, `${field}: ""`, `${at}/minLength`, withBody({ ...body, [field]: '' }));
      }
      if (property.type === 'string' && property.format === undefined && property.enum === undefined && typeof body[field] === 'string') {
        const number = Number.isFinite(Number(body[field])) && body[field] !== '' ? Number(body[field]) : 1;
        if (options.rejects(at, number)) {
          forbidden(`number-${field}`, `${field}: ${number} (a number, not a string)`, `${at}/type`, withBody({ ...body, [field]: number }));
        }
      }
    }
    if (schema.node.additionalProperties === false && !(EXTRA_FIELD in properties)) {
      forbidden('extra-field', `body with an undeclared field ${EXTRA_FIELD}`, `${schema.pointer}/additionalProperties`, withBody({ ...body, [EXTRA_FIELD]: '1' }));
    }
    const content = operation.request.contentPointer;
    forbidden('wrong-content-type', `Content-Type: text/plain (declared: ${operation.request.mediaType})`, content, request({ headers: { 'Content-Type': 'text/plain' } }));
    probes.push({
      name: 'body-not-json',
      title: 'a body that is not JSON',
      kind: 'forbidden',
      breaks: content,
      envelopeAdvisory: BODY_NOT_JSON_ADVISORY,
      request: request({ body: JSON.stringify(body).slice(0, -5) }),
    });
  }

  if (options.signing) {
    forbidden('unsigned', 'the valid request without X-Api-Key, X-Timestamp, X-Api-Signature (--sign: the server must require them)', SIGNED_SECURITY, request({ signature: 'none' }));
    forbidden('bad-signature', 'the valid request with a wrong X-Api-Signature', SIGNATURE_SCHEME, request({ signature: 'bad' }));
  }
  return probes;
}

/** `lb` → `LB`; undefined when the value has no case. */
function otherCase(value: string): string | undefined {
  const upper = value.toUpperCase();
  if (upper !== value) return upper;
  const lower = value.toLowerCase();
  return lower !== value ? lower : undefined;
}

/** `Account-Channel` → `account-channel` */
function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}
