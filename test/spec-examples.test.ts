// Every example in openapi.yaml is valid against the schema it illustrates, so the docs,
// the Prism mock (which serves these examples) and the contract all agree.
import { describe, expect, it } from 'vitest';
import { DEFAULT_BASE_URL } from '../src/index.js';
import { createSpecValidator, loadSpec, pointerSegment } from '../src/contract/spec-validator.js';

const spec = loadSpec();
const validator = createSpecValidator(spec);

interface Example {
  where: string;
  schemaPointer: string;
  value: unknown;
}

/** Walks the spec for media-type examples and schema/parameter `example`s. */
function collectExamples(node: unknown, pointer: string, out: Example[]): Example[] {
  if (typeof node !== 'object' || node === null) return out;
  const record = node as Record<string, any>;
  if (record.schema && record.examples && typeof record.examples === 'object') {
    for (const [name, example] of Object.entries<any>(record.examples)) {
      out.push({ where: `${pointer}/examples/${name}`, schemaPointer: `${pointer}/schema`, value: example.value });
    }
  }
  if ('example' in record && (record.type || record.schema || record.$ref)) {
    const schemaPointer = record.schema ? `${pointer}/schema` : pointer;
    out.push({ where: `${pointer}/example`, schemaPointer, value: record.example });
  }
  for (const [key, child] of Object.entries(record)) {
    if (key === 'examples' || key === 'example') continue;
    collectExamples(child, `${pointer}/${pointerSegment(key)}`, out);
  }
  return out;
}

const examples = collectExamples(spec, '#', []);

describe('the examples in openapi.yaml', () => {
  it('cover every response and the request body', () => {
    const where = examples.map((e) => e.where).join('\n');
    for (const part of ['requestBody', 'responses/200', 'BadRequest', 'Unauthorized', 'Forbidden', 'TooManyRequests', 'InternalError']) {
      expect(where).toContain(part);
    }
    // One example per documented error code.
    const codes = examples.map((e) => (e.value as { code?: number })?.code).filter((c) => typeof c === 'number' && c !== 0);
    expect(codes.sort()).toEqual([400000, 401003, 401004, 401102, 403201, 403202, 403203, 403205, 429001, 429002, 500000]);
  });

  it.each(examples.map((e) => [e.where, e] as const))('%s is valid against its schema', (_where, example) => {
    expect(validator.validate(example.schemaPointer, example.value).errors).toEqual([]);
  });

  it('the validator is not vacuous: a broken example fails', () => {
    const success = examples.find((e) => e.where.endsWith('responses/200/content/application~1json/examples/success'))!;
    const broken = structuredClone(success.value) as { data: { account_info: Record<string, unknown> } };
    delete broken.data.account_info.member_id;
    expect(validator.validate(success.schemaPointer, broken).valid).toBe(false);
  });
});

describe('the spec and the client agree', () => {
  it('the client’s default base URL is the spec’s first server', () => {
    expect(spec.servers[0].url).toBe(DEFAULT_BASE_URL);
  });
});

describe('the error codes table (info.x-error-codes) that the client’s kinds and hints come from', () => {
  const table = spec.info['x-error-codes'] as Array<{ code: number; status: number; message: string }>;

  it.each(table.map((row) => [row.code, row] as const))('%s has an example under its HTTP status, and a row in the docs table', (_code, row) => {
    const responses = spec.paths['/v1/openapi/token/refresh'].post.responses;
    const response = responses[String(row.status)];
    const resolved = response.$ref ? spec.components.responses[response.$ref.split('/').pop()] : response;
    const values = Object.values<any>(resolved.content['application/json'].examples).map((e) => e.value);
    expect(values).toContainEqual({ code: row.code, message: row.message, data: null });
    expect(spec.info.description).toContain(`| ${row.status} | ${row.code} | ${row.message} |`);
  });
});
