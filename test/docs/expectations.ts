// What the rendered API docs must show a reader. Two sources, merged:
// - SEED_CHECKS, written by hand from the seed page (refresh-token-api.md), the documented
//   error codes and the issue: if openapi.yaml ever drops one of these, the browser test fails.
// - checksFromSpec(), derived from openapi.yaml: every operation, header, query parameter,
//   body field, response field, status, security header, error code and code sample the spec
//   declares must be on the page too, so additions (e.g. signing headers) are checked as
//   they land.

export interface FieldCheck {
  /** `header`, `query`, `body` or `response <status>` */
  section: string;
  /** As Redoc labels it: nested fields with their parents, e.g. `data.account_info.aaid`. */
  label: string;
  /** Texts the field's rendered row must contain (type format, example, enum meanings). */
  shows?: string[];
}

export interface SampleCheck {
  /** The language label in the request-samples menu. */
  label: string;
  /** Texts the sample must show when chosen. */
  shows: string[];
}

export interface OperationChecks {
  method: string;
  path: string;
  /** The sidebar entry and heading. */
  summary: string;
  /** The sidebar group. */
  tag: string;
  fields: FieldCheck[];
  /** Header names the operation's Security dialog lists (apiKey schemes in a header). */
  securityHeaders: string[];
  /** Response status tabs. */
  statuses: string[];
  /** Texts anywhere in the operation's rendered section. */
  shows: string[];
  samples: SampleCheck[];
  /** By status: how many levels of oneOf/anyOf switchers its response body has (from the spec). */
  variantDepth?: Record<string, number>;
}

export interface ErrorCodeCheck {
  code: number;
  message: string;
}

export interface DocsChecks {
  /** Texts in the page's introduction (the spec's `info.description`). */
  overview: string[];
  /** Rows of the error-code table: code, message and a non-empty meaning. */
  errorCodes: ErrorCodeCheck[];
  /** By `METHOD /path`. */
  operations: Record<string, OperationChecks>;
}

const POST_REFRESH = 'POST /v1/openapi/token/refresh';
const SEED_RESPONSE_FIELDS = [
  'code',
  'message', // the seed's example and the live service
  'msg', // the seed's field table
  'data',
  'data.token',
  'data.expired_at',
  'data.issued_at',
  'data.account_info',
  'data.account_info.member_id',
  'data.account_info.aaid',
  'data.account_info.account_channel',
];

export const SEED_CHECKS: DocsChecks = {
  overview: [
    '刷新 token', // both languages
    'Refresh an OpenAPI access token',
    'Envelope discrepancy', // the seed's `msg` (table) versus `message` (example)
    '信封字段差异',
    'Request signing', // the signing rules
    'X-Api-Signature',
    'HMAC-SHA256',
  ],
  errorCodes: [
    { code: 401003, message: 'token expired' },
    { code: 401004, message: 'token invalid' },
    { code: 401102, message: 'token verification failed' },
    { code: 403201, message: 'signature invalid' },
    { code: 403202, message: 'duplicate request' },
    { code: 403203, message: 'apikey illegal' },
    { code: 403205, message: 'ip is not allowed' },
    { code: 429001, message: 'ip request ratelimit' },
    { code: 429002, message: 'api request is limited' },
    { code: 500000, message: 'internal error' },
  ],
  operations: {
    [POST_REFRESH]: {
      method: 'POST',
      path: '/v1/openapi/token/refresh',
      summary: 'Refresh token (create a new token) / 刷新 token（创建 token）',
      tag: 'Token',
      fields: [
        {
          section: 'header',
          label: 'Account-Channel',
          shows: ['lb', 'Longbridge', '长桥', 'pspl_sg', 'Phillip Securities Singapore', '新加坡辉立'],
        },
        { section: 'body', label: 'expired_at', shows: ['date-time', '2023-04-14T12:13:57.859Z'] },
        { section: 'body', label: 'aaid', shows: ['string'] },
        ...SEED_RESPONSE_FIELDS.map((label) => ({ section: 'response 200', label })),
      ],
      securityHeaders: ['Authorization'],
      statuses: ['200'],
      // Content-Type and its fixed value; permission "none".
      shows: ['Content-Type', 'application/json; charset=utf-8', '无'],
      samples: [
        {
          label: 'curl',
          shows: ['curl', '/v1/openapi/token/refresh', 'Authorization', 'Account-Channel', 'application/json; charset=utf-8'],
        },
        { label: 'TypeScript client', shows: ['createTokenClient', "from 'longbridge-token-api'", 'refreshToken'] },
      ],
    },
  },
};

// --- derived from the spec -------------------------------------------------------------

type Node = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export function checksFromSpec(spec: Node): DocsChecks {
  const resolve = resolver(spec);
  const info = asNode(spec.info);
  const operations: Record<string, OperationChecks> = {};
  for (const [path, item] of Object.entries(asNode(spec.paths))) {
    for (const method of METHODS) {
      const op = asNode(asNode(item)[method]);
      if (!Object.keys(op).length) continue;
      const fields: FieldCheck[] = [];
      for (const param of asArray(op.parameters).map(resolve)) {
        const where = String(param.in);
        if (where === 'header' || where === 'query') {
          fields.push({ section: where, label: String(param.name), shows: formatAndExample(param, resolve) });
        }
      }
      const body = asNode(resolve(op.requestBody).content);
      const mediaTypes = Object.keys(body);
      for (const media of Object.values(body)) {
        for (const field of fieldsOf(asNode(media).schema, resolve)) fields.push({ ...field, section: 'body' });
      }
      const responses = asNode(op.responses);
      const variantDepth: Record<string, number> = {};
      for (const [status, response] of Object.entries(responses)) {
        variantDepth[status] = Math.max(0, ...Object.values(asNode(resolve(response).content)).map((media) => depthOf(asNode(media).schema, resolve)));
        for (const media of Object.values(asNode(resolve(response).content))) {
          for (const field of fieldsOf(asNode(media).schema, resolve)) {
            fields.push({ ...field, section: `response ${status}` });
          }
        }
      }
      const samples = asArray(op['x-codeSamples']).map((sample) => {
        const { label, lang, source } = asNode(sample);
        const firstLine = String(source ?? '')
          .split('\n')
          .map((line) => line.trim())
          .find((line) => line && !line.startsWith('#') && !line.startsWith('//'));
        return { label: String(label ?? lang), shows: firstLine ? [firstLine] : [] };
      });
      operations[`${method.toUpperCase()} ${path}`] = {
        method: method.toUpperCase(),
        path,
        summary: String(op.summary ?? ''),
        tag: String(asArray(op.tags)[0] ?? ''),
        fields: dedupe(fields),
        securityHeaders: securityHeaders(spec, op),
        statuses: Object.keys(responses),
        shows: mediaTypes,
        samples,
        variantDepth,
      };
    }
  }
  return {
    overview: [String(info.title ?? '')],
    errorCodes: asArray(info['x-error-codes']).map((entry) => {
      const { code, message } = asNode(entry);
      return { code: Number(code), message: String(message) };
    }),
    operations,
  };
}

/** Both sources together; a check in both appears once. */
export function mergeChecks(a: DocsChecks, b: DocsChecks): DocsChecks {
  const operations: Record<string, OperationChecks> = { ...a.operations };
  for (const [key, op] of Object.entries(b.operations)) {
    const mine = operations[key];
    operations[key] = mine
      ? {
          ...mine,
          fields: dedupe([...mine.fields, ...op.fields]),
          securityHeaders: unique([...mine.securityHeaders, ...op.securityHeaders]),
          statuses: unique([...mine.statuses, ...op.statuses]),
          shows: unique([...mine.shows, ...op.shows]),
          samples: mergeSamples(mine.samples, op.samples),
          variantDepth: { ...op.variantDepth, ...mine.variantDepth },
        }
      : op;
  }
  const codes = new Map([...a.errorCodes, ...b.errorCodes].map((entry) => [entry.code, entry]));
  return { overview: unique([...a.overview, ...b.overview]), errorCodes: [...codes.values()], operations };
}

/** Every property of a schema as Redoc labels it, through $ref, allOf, anyOf and oneOf. */
function fieldsOf(schema: unknown, resolve: (node: unknown) => Node, prefix = '', seen: string[] = []): FieldCheck[] {
  const ref = asNode(schema).$ref;
  if (typeof ref === 'string' && (seen.includes(ref) || seen.length > 16)) return [];
  const node = resolve(schema);
  const trail = typeof ref === 'string' ? [...seen, ref] : seen;
  const fields: FieldCheck[] = [];
  for (const [name, property] of Object.entries(asNode(node.properties))) {
    fields.push({ section: '', label: `${prefix}${name}`, shows: formatAndExample(property, resolve) });
    fields.push(...fieldsOf(property, resolve, `${prefix}${name}.`, trail));
  }
  for (const keyword of ['allOf', 'anyOf', 'oneOf']) {
    for (const member of asArray(node[keyword])) fields.push(...fieldsOf(member, resolve, prefix, trail));
  }
  return fields;
}

/** Levels of nested oneOf/anyOf in a schema (through $ref, allOf and properties). */
function depthOf(schema: unknown, resolve: (node: unknown) => Node, seen: string[] = []): number {
  const ref = asNode(schema).$ref;
  if (typeof ref === 'string' && (seen.includes(ref) || seen.length > 16)) return 0;
  const node = resolve(schema);
  const trail = typeof ref === 'string' ? [...seen, ref] : seen;
  const inner = (members: unknown[]) => Math.max(0, ...members.map((member) => depthOf(member, resolve, trail)));
  const choice = [...asArray(node.oneOf), ...asArray(node.anyOf)];
  return Math.max(choice.length ? 1 + inner(choice) : 0, inner(asArray(node.allOf)), inner(Object.values(asNode(node.properties))));
}

function formatAndExample(node: unknown, resolve: (node: unknown) => Node): string[] {
  const resolved = resolve(node);
  const schema = resolve(resolved.schema ?? resolved);
  const shows: string[] = [];
  if (typeof schema.format === 'string') shows.push(schema.format);
  const example = resolved.example ?? schema.example;
  if (typeof example === 'string' || typeof example === 'number') shows.push(String(example));
  return shows;
}

function securityHeaders(spec: Node, op: Node): string[] {
  const schemes = asNode(asNode(spec.components).securitySchemes);
  const requirements = asArray(op.security ?? spec.security);
  const names = requirements.flatMap((requirement) => Object.keys(asNode(requirement)));
  return unique(
    names
      .map((name) => asNode(schemes[name]))
      .filter((scheme) => scheme.type === 'apiKey' && scheme.in === 'header')
      .map((scheme) => String(scheme.name)),
  );
}

function resolver(spec: Node): (node: unknown) => Node {
  const resolve = (node: unknown, depth = 0): Node => {
    const ref = asNode(node).$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#/') || depth > 32) return asNode(node);
    let target: unknown = spec;
    for (const part of ref.slice(2).split('/')) target = asNode(target)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    return resolve(target, depth + 1);
  };
  return (node) => resolve(node);
}

function dedupe(fields: FieldCheck[]): FieldCheck[] {
  const byKey = new Map<string, FieldCheck>();
  for (const field of fields) {
    const key = `${field.section}|${field.label}`;
    const known = byKey.get(key);
    byKey.set(key, { ...field, shows: unique([...(known?.shows ?? []), ...(field.shows ?? [])]) });
  }
  return [...byKey.values()];
}

function mergeSamples(a: SampleCheck[], b: SampleCheck[]): SampleCheck[] {
  const byLabel = new Map<string, SampleCheck>();
  for (const sample of [...a, ...b]) {
    byLabel.set(sample.label, { label: sample.label, shows: unique([...(byLabel.get(sample.label)?.shows ?? []), ...sample.shows]) });
  }
  return [...byLabel.values()];
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function asNode(value: unknown): Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Node) : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
