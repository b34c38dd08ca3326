// Reads, from the spec document, what the contract suite needs to know about each operation:
// its method and path, the headers and query parameters it requires, its request body's
// media type and schema (if any), the responses it declares and the semantic rules it
// writes in `x-semantics`. Every rule keeps its JSON pointer into the spec so that a report
// can point at it.
import { nodeAt, pointerSegment, resolve, type Located, type SpecDocument } from './spec-pointer.js';

export type { Located };

export interface RequiredHeader {
  /** As the spec spells it, e.g. `Account-Channel`. */
  name: string;
  /** Where the requirement is written: the parameter or the security scheme. */
  pointer: string;
  /** The header's allowed values and where they are written, when the schema is an enum. */
  allowed?: { values: string[]; pointer: string };
}

export interface QueryParameter {
  name: string;
  required: boolean;
  /** The parameter object, e.g. `#/paths/~1v1~1token~1refresh/get/parameters/0`. */
  pointer: string;
  schema: Located<Record<string, any>>;
}

export interface DeclaredResponse {
  status: string;
  pointer: string;
  /** Declared media types, as written (e.g. `application/json`). */
  mediaTypes: string[];
}

/**
 * One rule of `x-semantics`: the reply's value at `reply` (a JSON pointer into the body)
 * must equal / differ from / be no later than / be near the value at the other side.
 */
export interface SemanticRule {
  check: string;
  pointer: string;
  reply: string;
  relation: 'equals' | 'differs' | 'notAfter' | 'near';
  other: SemanticSource;
}

export type SemanticSource = { body: string } | { header: string } | { query: string } | { reply: string };

export interface ContractOperation {
  operationId: string;
  method: string;
  path: string;
  pointer: string;
  /** Marked `x-live-form`: what the live service calls today (run first). */
  liveForm: boolean;
  /** Required header parameters (e.g. Account-Channel). */
  parameters: RequiredHeader[];
  /** Headers every security alternative requires (Authorization). */
  security: RequiredHeader[];
  query: QueryParameter[];
  /** The request body, when the operation has one. */
  request?: {
    /** e.g. `application/json; charset=utf-8` */
    mediaType: string;
    /** `<operation>/requestBody/content` (or the shared request body's `content`) */
    contentPointer: string;
    schema: Located<Record<string, any>>;
  };
  responses: DeclaredResponse[];
  semantics: SemanticRule[];
}

/** Schemas of the envelope the suite validates replies against, by pointer. */
export const SUCCESS_SCHEMA = '#/components/schemas/RefreshTokenSuccess';
export const ERROR_SCHEMA = '#/components/schemas/ErrorEnvelope';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const RELATIONS = ['equals', 'differs', 'notAfter', 'near'] as const;

/** Every operation of the spec, the live form first. Throws naming what is missing or unsupported. */
export function readOperations(spec: SpecDocument): ContractOperation[] {
  for (const pointer of [SUCCESS_SCHEMA, ERROR_SCHEMA]) {
    if (nodeAt(spec, pointer) === undefined) throw new Error(`the spec has no ${pointer}`);
  }
  const operations: ContractOperation[] = [];
  for (const [path, item] of Object.entries<any>(spec.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item?.[method];
      if (!operation) continue;
      const pointer = `#/paths/${pointerSegment(path)}/${method}`;
      const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])].map((parameter, index) =>
        resolve(spec, parameter, `${pointer}/parameters/${index}`),
      );
      operations.push({
        operationId: String(operation.operationId ?? `${method} ${path}`),
        method: method.toUpperCase(),
        path,
        pointer,
        liveForm: operation['x-live-form'] === true,
        parameters: headerParameters(spec, parameters),
        security: securityHeaders(spec, operation.security ?? spec.security ?? []),
        query: queryParameters(spec, parameters),
        ...(operation.requestBody ? { request: requestBody(spec, operation.requestBody, pointer) } : {}),
        responses: Object.entries<any>(operation.responses ?? {}).map(([status, response]) =>
          declaredResponse(status, resolve(spec, response, `${pointer}/responses/${pointerSegment(status)}`)),
        ),
        semantics: semanticRules(operation['x-semantics'], `${pointer}/x-semantics`),
      });
    }
  }
  if (operations.length === 0) throw new Error('the spec declares no operation');
  return operations.sort((a, b) => Number(b.liveForm) - Number(a.liveForm));
}

function headerParameters(spec: SpecDocument, parameters: Located[]): RequiredHeader[] {
  return parameters
    .filter(({ node }) => node.in === 'header' && node.required === true)
    .map(({ node, pointer }) => {
      const schema = node.schema ? resolve(spec, node.schema, `${pointer}/schema`) : undefined;
      const values = schema?.node.enum;
      return {
        name: node.name,
        pointer: `${pointer}/required`,
        ...(Array.isArray(values) ? { allowed: { values: values.map(String), pointer: `${schema!.pointer}/enum` } } : {}),
      };
    });
}

function queryParameters(spec: SpecDocument, parameters: Located[]): QueryParameter[] {
  return parameters
    .filter(({ node }) => node.in === 'query')
    .map(({ node, pointer }) => ({
      name: String(node.name),
      required: node.required === true,
      pointer,
      schema: node.schema ? resolve(spec, node.schema, `${pointer}/schema`) : { node: {}, pointer: `${pointer}/schema` },
    }));
}

/** Headers of `apiKey` schemes that every security alternative requires (e.g. Authorization). */
function securityHeaders(spec: SpecDocument, alternatives: Record<string, unknown>[]): RequiredHeader[] {
  if (alternatives.length === 0) return [];
  const [first, ...rest] = alternatives.map((alternative) => Object.keys(alternative));
  const common = first!.filter((scheme) => rest.every((names) => names.includes(scheme)));
  return common.flatMap((scheme) => {
    const pointer = `#/components/securitySchemes/${pointerSegment(scheme)}`;
    const { node } = resolve(spec, nodeAt(spec, pointer), pointer);
    return node?.type === 'apiKey' && node.in === 'header' ? [{ name: String(node.name), pointer }] : [];
  });
}

function requestBody(spec: SpecDocument, body: any, operationPointer: string): NonNullable<ContractOperation['request']> {
  const located = resolve(spec, body, `${operationPointer}/requestBody`);
  const [mediaType, content] = Object.entries<any>(located.node.content ?? {})[0] ?? [];
  if (!mediaType || !content?.schema) throw new Error(`${located.pointer} declares no media type with a schema`);
  const contentPointer = `${located.pointer}/content`;
  const schema = resolve(spec, content.schema, `${contentPointer}/${pointerSegment(mediaType)}/schema`);
  if (schema.node.type !== 'object' || typeof schema.node.properties !== 'object') {
    throw new Error(`${schema.pointer}: the suite derives its probes from an object schema with properties`);
  }
  return { mediaType, contentPointer, schema };
}

function declaredResponse(status: string, response: Located): DeclaredResponse {
  return { status, pointer: response.pointer, mediaTypes: Object.keys(response.node.content ?? {}) };
}

/** `x-semantics`: a list of `{check, reply, <relation>: <source>}`; throws on a rule the suite cannot run. */
function semanticRules(value: unknown, pointer: string): SemanticRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${pointer} must be a list of rules`);
  return value.map((rule: any, index) => {
    const at = `${pointer}/${index}`;
    const relations = RELATIONS.filter((relation) => rule?.[relation] !== undefined);
    const source = relations.length === 1 ? rule[relations[0]!] : undefined;
    const kinds = source && typeof source === 'object' ? Object.keys(source) : [];
    if (typeof rule?.check !== 'string' || typeof rule.reply !== 'string' || relations.length !== 1 || kinds.length !== 1 ||
      !['body', 'header', 'query', 'reply'].includes(kinds[0]!) || typeof source[kinds[0]!] !== 'string') {
      throw new Error(`${at} must be {check, reply, one of ${RELATIONS.join(' / ')}: {body | header | query | reply: string}}`);
    }
    return { check: rule.check, pointer: at, reply: rule.reply, relation: relations[0]!, other: source as SemanticSource };
  });
}

/** `application/json; charset=utf-8` → `application/json` */
export function mediaTypeEssence(value: string): string {
  return value.split(';')[0]!.trim().toLowerCase();
}
