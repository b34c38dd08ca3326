// Redoc 3.0.1 (the version @redocly/cli 2.77 renders with) shows a schema whose `allOf`
// has an `anyOf`/`oneOf` member as that member's variants only: the other members'
// properties vanish from the page. The envelopes in openapi.yaml are written that way
// (`allOf: [{code, data}, MessageKey]`, MessageKey being `anyOf: [WithMessage, WithMsg]`),
// so the rendered docs would lose `code` and `data` with everything nested in it.
//
// A ∧ (B ∨ C) means exactly (A ∧ B) ∨ (A ∧ C). This module rewrites a copy of the spec in
// the second form, which Redoc renders in full: one variant per choice, each listing every
// field. Only the docs build uses it; openapi.yaml itself is not changed.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const CHOICES = ['anyOf', 'oneOf'] as const;

/** Returns a copy of `spec` in which no `allOf` has an `anyOf`/`oneOf` member. */
export function distributeAllOf<T>(spec: T): T {
  const root = structuredClone(spec) as Json;
  // `$ref`s are resolved only to look at a member, never walked into, so this ends.
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    const schema = rewrite(node, root) ?? node;
    return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, walk(value)]));
  };
  return walk(root) as T;
}

/** `{allOf: [A, {anyOf: [B, C]}, D], ...rest}` → `{anyOf: [{allOf: [A, B, D]}, {allOf: [A, C, D]}], ...rest}`. */
function rewrite(schema: JsonObject, root: Json): JsonObject | undefined {
  const allOf = schema.allOf;
  if (!Array.isArray(allOf)) return undefined;
  for (const [index, member] of allOf.entries()) {
    const resolved = resolve(member, root);
    const keyword = CHOICES.find((k) => Array.isArray(resolved[k]));
    if (!keyword || keyword in schema) continue;
    const { [keyword]: variants, ...memberRest } = resolved;
    const before = allOf.slice(0, index);
    const after = allOf.slice(index + 1);
    const kept = Object.keys(memberRest).some((k) => k !== 'description' && k !== 'title') ? [memberRest] : [];
    const { allOf: _allOf, ...schemaRest } = schema;
    return {
      ...schemaRest,
      [keyword]: (variants as Json[]).map((variant) => ({ allOf: [...before, ...kept, variant, ...after] })),
    };
  }
  return undefined;
}

/** Follows local `$ref`s (`#/components/schemas/Name`); anything else is returned as is. */
function resolve(node: Json, root: Json, depth = 0): JsonObject {
  if (!isObject(node)) return {};
  const ref = node.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/') || depth > 32) return node;
  let target: Json | undefined = root;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    target = isObject(target) ? target[key] : undefined;
  }
  return target === undefined ? node : resolve(target, root, depth + 1);
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
