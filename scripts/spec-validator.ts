// JSON Schema validation fed straight from openapi.yaml (no hand-written copy of any
// schema): Ajv compiles the spec document itself and each check points into it.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { parse } from 'yaml';
import { SPEC_PATH } from './prism-mock.js';

// ajv-formats is CommonJS: its default export arrives wrapped under NodeNext.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

export type SpecDocument = Record<string, any>;

export function loadSpec(path = SPEC_PATH): SpecDocument {
  return parse(readFileSync(path, 'utf8')) as SpecDocument;
}

export interface SpecValidator {
  /** Validates `value` against the schema at `pointer` (a JSON pointer into the spec, e.g. `#/components/schemas/AccountInfo`). */
  validate(pointer: string, value: unknown): { valid: boolean; errors: ErrorObject[] };
}

export function createSpecValidator(spec: SpecDocument = loadSpec()): SpecValidator {
  // OpenAPI 3.0 schema objects are JSON Schema draft-04/07 plus `nullable`, which Ajv knows.
  const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(spec, 'openapi.yaml');
  const compiled = new Map<string, ValidateFunction>();
  return {
    validate(pointer, value) {
      let check = compiled.get(pointer);
      if (!check) {
        check = ajv.compile({ $ref: `openapi.yaml${pointer}` });
        compiled.set(pointer, check);
      }
      const valid = check(value) as boolean;
      return { valid, errors: valid ? [] : [...(check.errors ?? [])] };
    },
  };
}

/** Escapes one path segment for a JSON pointer. */
export function pointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
