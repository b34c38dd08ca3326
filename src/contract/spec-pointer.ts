// JSON pointers into the spec document: building them, reading what they point at, and
// following local `$ref`s. The contract suite names every rule by such a pointer.

export type SpecDocument = Record<string, any>;

/** A node of the spec and the pointer where it is. */
export interface Located<T = any> {
  node: T;
  pointer: string;
}

/** Escapes one path segment for a JSON pointer. */
export function pointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The node at a local pointer (`#/a/b`), or undefined. */
export function nodeAt(spec: SpecDocument, pointer: string): any {
  return pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => (node === undefined || node === null ? undefined : node[key]), spec);
}

/** Follows `$ref`s (local ones only) from `node`, found at `pointer`. */
export function resolve(spec: SpecDocument, node: any, pointer: string): Located {
  for (let hops = 0; node && typeof node.$ref === 'string'; hops++) {
    if (hops > 32 || !node.$ref.startsWith('#/')) throw new Error(`cannot follow $ref "${node.$ref}" at ${pointer}`);
    pointer = node.$ref;
    node = nodeAt(spec, pointer);
    if (node === undefined) throw new Error(`$ref "${pointer}" points at nothing`);
  }
  return { node, pointer };
}
