// The requests the suite sends, derived from the operation the spec declares: the valid
// refresh, and one malformed request for each rule of the request the spec writes down
// (each required header, each header enum, each required / dated / non-empty body field,
// `additionalProperties: false`, the body's media type, the body being JSON at all).
import type { components } from '../../generated/openapi.js';
import type { ContractOperation } from './spec-operation.js';
import { pointerSegment } from './spec-validator.js';

export interface ProbeRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
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
  /** Sent in every security header the spec requires (Authorization). */
  accessToken: string;
  /** A value for each required header parameter, by name (any case), e.g. `{ 'Account-Channel': 'lb' }`. */
  headerValues: Record<string, string>;
  /** The valid request body. */
  body: RefreshTokenRequest;
}

export type RefreshTokenRequest = components['schemas']['RefreshTokenRequest'];

/** Values no sane spec allows, used to break one rule at a time. */
const UNKNOWN_VALUE = 'not_a_declared_value';
const NOT_A_DATE = 'next tuesday';
const EXTRA_FIELD = 'unexpected_field';

export const BODY_NOT_JSON_ADVISORY =
  "a server's framework may refuse a body it cannot parse before the application sees it " +
  '(Prism answers its own {"error":{"code":"invalid_json",...}}); a 4xx without a token is still required, ' +
  'and --strict makes this a failure';

/** The valid refresh first in the list; the suite sends it last (see `run.ts`). */
export function deriveProbes(operation: ContractOperation, options: ProbeOptions): Probe[] {
  const url = `${options.baseUrl.replace(/\/+$/, '')}${operation.path}`;
  const validBody = options.body;
  const headers: Record<string, string> = {};
  for (const { name } of operation.security) headers[name] = options.accessToken;
  for (const { name } of operation.parameters) headers[name] = headerValue(options.headerValues, name);
  headers['Content-Type'] = operation.request.mediaType;

  const request = (change: { without?: string; headers?: Record<string, string>; body?: string } = {}): ProbeRequest => {
    const probeHeaders = { ...headers, ...change.headers };
    if (change.without) delete probeHeaders[change.without];
    return { method: operation.method, url, headers: probeHeaders, body: change.body ?? JSON.stringify(validBody) };
  };
  const withBody = (body: Record<string, unknown>) => request({ body: JSON.stringify(body) });

  const probes: Probe[] = [
    {
      name: 'valid-refresh',
      title: `a valid refresh: ${JSON.stringify(validBody)}`,
      kind: 'valid',
      request: request(),
    },
  ];
  const forbidden = (name: string, title: string, breaks: string, probe: ProbeRequest) =>
    probes.push({ name, title, kind: 'forbidden', breaks, request: probe });

  for (const header of operation.security) {
    forbidden(`missing-${slug(header.name)}`, `no ${header.name} header`, header.pointer, request({ without: header.name }));
  }
  for (const header of operation.parameters) {
    forbidden(`missing-${slug(header.name)}`, `no ${header.name} header`, header.pointer, request({ without: header.name }));
    if (header.allowed && !header.allowed.values.includes(UNKNOWN_VALUE)) {
      forbidden(
        `unknown-${slug(header.name)}`,
        `${header.name}: ${UNKNOWN_VALUE} (allowed: ${header.allowed.values.join(', ')})`,
        header.allowed.pointer,
        request({ headers: { [header.name]: UNKNOWN_VALUE } }),
      );
    }
  }

  const schema = operation.request.schema;
  const properties = schema.node.properties as Record<string, Record<string, unknown>>;
  const required: string[] = Array.isArray(schema.node.required) ? schema.node.required : [];
  for (const [field, property] of Object.entries(properties)) {
    const at = `${schema.pointer}/properties/${pointerSegment(field)}`;
    if (required.includes(field)) {
      const { [field]: _dropped, ...rest } = validBody as Record<string, unknown>;
      forbidden(`missing-${field}`, `body without ${field}`, `${schema.pointer}/required`, withBody(rest));
    }
    if (property.format === 'date-time') {
      forbidden(`non-date-${field}`, `${field}: ${JSON.stringify(NOT_A_DATE)}`, `${at}/format`, withBody({ ...validBody, [field]: NOT_A_DATE }));
    }
    if (typeof property.minLength === 'number' && property.minLength > 0) {
      forbidden(`empty-${field}`, `${field}: ""`, `${at}/minLength`, withBody({ ...validBody, [field]: '' }));
    }
  }
  if (schema.node.additionalProperties === false && !(EXTRA_FIELD in properties)) {
    forbidden('extra-field', `body with an undeclared field ${EXTRA_FIELD}`, `${schema.pointer}/additionalProperties`, withBody({ ...validBody, [EXTRA_FIELD]: '1' }));
  }

  const content = operation.request.contentPointer;
  forbidden('wrong-content-type', `Content-Type: text/plain (declared: ${operation.request.mediaType})`, content, request({ headers: { 'Content-Type': 'text/plain' } }));
  probes.push({
    name: 'body-not-json',
    title: 'a body that is not JSON',
    kind: 'forbidden',
    breaks: content,
    envelopeAdvisory: BODY_NOT_JSON_ADVISORY,
    request: request({ body: JSON.stringify(validBody).slice(0, -5) }),
  });
  return probes;
}

function headerValue(values: Record<string, string>, name: string): string {
  const found = Object.entries(values).find(([key]) => key.toLowerCase() === name.toLowerCase());
  if (!found) throw new Error(`the spec requires the header ${name}; the suite was given no value for it`);
  return found[1];
}

/** `Account-Channel` → `account-channel` */
function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}
