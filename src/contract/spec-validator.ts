// JSON Schema validation fed straight from openapi.yaml (no hand-written copy of any
// schema): Ajv compiles the spec document itself and each check points into it. Every
// violation names its rule by an absolute JSON pointer into the spec, e.g.
// `#/components/schemas/AccountInfo/required`.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { parse } from 'yaml';
import { nodeAt, pointerSegment, resolve, type SpecDocument } from './spec-pointer.js';

export { pointerSegment, type SpecDocument };

// ajv-formats is CommonJS: its default export arrives wrapped under NodeNext.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

/**
 * Where openapi.yaml sits relative to this module: the package root is two levels up from
 * `src/contract/*.ts` and from a bundled `dist/contract/cli.js`, one level up from a file
 * bundled straight into `dist/`. The first candidate that exists wins.
 */
const SPEC_CANDIDATES = ['../../openapi.yaml', '../openapi.yaml'];

/** The package's own openapi.yaml. Throws, naming the places tried, when it is not found. */
export function defaultSpecPath(): string {
  const tried = SPEC_CANDIDATES.map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = tried.find((path) => existsSync(path));
  if (!found) throw new Error(`openapi.yaml not found (tried ${tried.join(', ')}); pass the spec's path explicitly`);
  return found;
}

/** Reads the spec from `path`: JSON when the file name ends in `.json`, YAML otherwise. */
export function loadSpec(path = defaultSpecPath()): SpecDocument {
  const text = readFileSync(path, 'utf8');
  return (path.endsWith('.json') ? JSON.parse(text) : parse(text)) as SpecDocument;
}

/** One broken rule: where in the spec (absolute pointer to the keyword) and where in the value. */
export interface SpecViolation {
  /** e.g. `#/components/schemas/AccountInfo/required` */
  location: string;
  keyword: string;
  /** JSON pointer into the validated value, '' for the value itself. */
  instancePath: string;
  message: string;
}

export interface SpecValidator {
  /** Validates `value` against the schema at `pointer` (a JSON pointer into the spec, e.g. `#/components/schemas/AccountInfo`). */
  validate(pointer: string, value: unknown): { valid: boolean; errors: ErrorObject[]; violations: SpecViolation[] };
}

export function createSpecValidator(spec: SpecDocument = loadSpec()): SpecValidator {
  // OpenAPI 3.0 schema objects are JSON Schema draft-04/07 plus `nullable`, which Ajv knows.
  // `verbose` gives each error its `parentSchema`: the very object in `spec`, found in `where`.
  const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true, verbose: true });
  addFormats(ajv);
  ajv.addSchema(spec, 'openapi.yaml');
  const where = pointersOf(spec);
  const compiled = new Map<string, ValidateFunction>();
  const check = (pointer: string, value: unknown) => {
    let fn = compiled.get(pointer);
    if (!fn) {
      fn = ajv.compile({ $ref: `openapi.yaml${pointer}` });
      compiled.set(pointer, fn);
    }
    const valid = fn(value) as boolean;
    return { valid, errors: valid ? [] : [...(fn.errors ?? [])] };
  };

  /**
   * The violations worth reading. When the schema is a choice (`anyOf`/`oneOf`) the value
   * matches none of, Ajv reports every variant's failures; the variant with the fewest is
   * the one the value was meant to be, so only its violations are kept. Several variants
   * equally close (e.g. no message key at all) are all reported, with the choice itself.
   */
  const violationsOf = (pointer: string, value: unknown, errors: ErrorObject[]): SpecViolation[] => {
    const all = unique(errors.map((error) => violationOf(error, where, pointer)));
    const target = resolve(spec, nodeAt(spec, pointer), pointer);
    const keyword = (['anyOf', 'oneOf'] as const).find((k) => Array.isArray(target.node?.[k]));
    if (!keyword) return all;
    const variants = (target.node[keyword] as unknown[]).map((_, i) => {
      const variant = `${target.pointer}/${keyword}/${i}`;
      const result = check(variant, value);
      return result.valid ? [] : violationsOf(resolve(spec, nodeAt(spec, variant), variant).pointer, value, result.errors);
    });
    const fewest = Math.min(...variants.map((v) => v.length));
    if (fewest === 0) return all; // matched more than one `oneOf` variant: Ajv's own report says so
    const closest = variants.filter((v) => v.length === fewest);
    if (closest.length === 1) return closest[0]!;
    return unique([...closest.flat(), ...all.filter((v) => v.keyword === keyword && v.instancePath === '')]);
  };

  return {
    validate(pointer, value) {
      const { valid, errors } = check(pointer, value);
      return { valid, errors, violations: valid ? [] : violationsOf(pointer, value, errors) };
    },
  };
}

function unique(violations: SpecViolation[]): SpecViolation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    const key = `${v.location} ${v.instancePath} ${v.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function violationOf(error: ErrorObject, where: Map<object, string>, root: string): SpecViolation {
  const parent = error.parentSchema;
  const base = parent && typeof parent === 'object' ? where.get(parent) : undefined;
  return {
    location: base ? `${base}/${pointerSegment(error.keyword)}` : `${root} ${error.schemaPath}`,
    keyword: error.keyword,
    instancePath: error.instancePath,
    message: error.message ?? error.keyword,
  };
}

/** Every object and array of the spec, mapped to its JSON pointer (the first path that reaches it). */
function pointersOf(spec: SpecDocument): Map<object, string> {
  const where = new Map<object, string>();
  const walk = (node: unknown, pointer: string) => {
    if (typeof node !== 'object' || node === null || where.has(node)) return;
    where.set(node, pointer);
    for (const [key, child] of Object.entries(node)) walk(child, `${pointer}/${pointerSegment(key)}`);
  };
  walk(spec, '#');
  return where;
}
