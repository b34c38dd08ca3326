// Reads, from the spec document, what the contract suite needs to know about one operation:
// its method and path, the headers it requires, its request body's media type and schema,
// and the responses it declares. Every rule keeps its JSON pointer into the spec so that a
// report can point at it.
import { nodeAt, pointerSegment, resolve, type Located, type SpecDocument } from './spec-pointer.js';

export type { Located };

/** A node of the spec and the JSON pointer it was found at (after following `$ref`s). */
export interface RequiredHeader {
  /** As the spec spells it, e.g. `Account-Channel`. */
  name: string;
  /** Where the requirement is written: the parameter or the security scheme. */
  pointer: string;
  /** The header's allowed values and where they are written, when the schema is an enum. */
  allowed?: { values: string[]; pointer: string };
}

export interface DeclaredResponse {
  status: string;
  pointer: string;
  /** Declared media types, as written (e.g. `application/json`). */
  mediaTypes: string[];
}

export interface ContractOperation {
  operationId: string;
  method: string;
  path: string;
  pointer: string;
  /** Headers every request must carry: required header parameters, then security headers. */
  parameters: RequiredHeader[];
  security: RequiredHeader[];
  request: {
    /** e.g. `application/json; charset=utf-8` */
    mediaType: string;
    /** `<operation>/requestBody/content` (or the shared request body's `content`) */
    contentPointer: string;
    schema: Located<Record<string, any>>;
  };
  responses: DeclaredResponse[];
}

/** Schemas of the envelope the suite validates replies against, by pointer. */
export const SUCCESS_SCHEMA = '#/components/schemas/RefreshTokenSuccess';
export const ERROR_SCHEMA = '#/components/schemas/ErrorEnvelope';
/** The success's account channel, which must be the `Account-Channel` the request sent. */
export const ACCOUNT_CHANNEL_FIELD = '#/components/schemas/AccountInfo/properties/account_channel';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Finds `operationId` in the spec; throws naming what is missing or unsupported. */
export function readOperation(spec: SpecDocument, operationId = 'refreshToken'): ContractOperation {
  for (const pointer of [SUCCESS_SCHEMA, ERROR_SCHEMA, ACCOUNT_CHANNEL_FIELD]) {
    if (nodeAt(spec, pointer) === undefined) throw new Error(`the spec has no ${pointer}`);
  }
  for (const [path, item] of Object.entries<any>(spec.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item?.[method];
      if (operation?.operationId !== operationId) continue;
      const pointer = `#/paths/${pointerSegment(path)}/${method}`;
      return {
        operationId,
        method: method.toUpperCase(),
        path,
        pointer,
        parameters: headerParameters(spec, [...(item.parameters ?? []), ...(operation.parameters ?? [])], pointer),
        security: securityHeaders(spec, operation.security ?? spec.security ?? []),
        request: requestBody(spec, operation.requestBody, pointer),
        responses: Object.entries<any>(operation.responses ?? {}).map(([status, response]) =>
          declaredResponse(status, resolve(spec, response, `${pointer}/responses/${pointerSegment(status)}`)),
        ),
      };
    }
  }
  throw new Error(`the spec has no operation with operationId "${operationId}"`);
}

function headerParameters(spec: SpecDocument, parameters: any[], operationPointer: string): RequiredHeader[] {
  return parameters
    .map((parameter, index) => resolve(spec, parameter, `${operationPointer}/parameters/${index}`))
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

function requestBody(spec: SpecDocument, body: any, operationPointer: string): ContractOperation['request'] {
  if (!body) throw new Error(`${operationPointer} has no requestBody`);
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

/** `application/json; charset=utf-8` → `application/json` */
export function mediaTypeEssence(value: string): string {
  return value.split(';')[0]!.trim().toLowerCase();
}
