// `npm run generate`: everything in generated/ comes from openapi.yaml.
//   generated/openapi.ts     openapi-typescript (types, plus runtime enum values)
//   generated/error-codes.ts the spec's `info.x-error-codes` (error kinds and hints; status and
//                            message per code, and the 400 example, for the emulator's replies)
//   generated/servers.ts     the spec's `servers` that name a region (`x-region`): the client's hosts
// `npm run check:generated` writes the same into a temp dir and compares.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const SPEC = join(root, 'openapi.yaml');
const FILES = ['openapi.ts', 'error-codes.ts', 'servers.ts'];

interface ErrorCode {
  code: number;
  status: number;
  message: string;
  kind: string;
  hint: string;
}

export function generate(outDir: string): void {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/openapi-typescript/bin/cli.js'), SPEC, '--enum-values', '-o', join(outDir, 'openapi.ts')],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const spec = parse(readFileSync(SPEC, 'utf8')) as {
    servers: Array<{ url: string; 'x-region'?: string }>;
    info: { 'x-error-codes': ErrorCode[] };
    components: { responses: { BadRequest: { content: Record<string, { examples: Record<string, { value: { code: number; message: string } }> }> } } };
  };
  const codes = spec.info['x-error-codes'];
  const badRequest = Object.values(Object.values(spec.components.responses.BadRequest.content)[0]!.examples)[0]!.value;
  const replies = codes
    .map((c) => `  ${c.code}: { status: ${c.status}, message: ${JSON.stringify(c.message)} },`)
    .join('\n');
  const kinds = [...new Set(codes.map((c) => c.kind))];
  const entries = codes
    .map((c) => `  ${c.code}: { kind: ${JSON.stringify(c.kind)}, hint: ${JSON.stringify(c.hint)} },`)
    .join('\n');
  writeFileSync(
    join(outDir, 'error-codes.ts'),
    `/**
 * This file was auto-generated from openapi.yaml (info.x-error-codes) by scripts/generate.ts.
 * Do not make direct changes to the file.
 */

/** The kinds of documented API error codes. */
export type DocumentedErrorKind = ${kinds.map((k) => JSON.stringify(k)).join(' | ')};

/** Each documented \`code\`: its kind and what to do (status and message are in the spec and the docs). */
export const errorCodes: Readonly<Record<number, { kind: DocumentedErrorKind; hint: string }>> = {
${entries}
};

/** Each documented \`code\`: the HTTP status and the message a server answers it with (the emulator's replies). */
export const errorReplies = {
${replies}
} as const satisfies Readonly<Record<number, { status: number; message: string }>>;

/** A documented error \`code\`. */
export type DocumentedErrorCode = keyof typeof errorReplies;

/** The spec's example reply to a request that breaks the contract (components.responses.BadRequest; its code is illustrative). */
export const badRequestReply = { status: 400, code: ${badRequest.code}, message: ${JSON.stringify(badRequest.message)} } as const;
`,
  );
  const regions = spec.servers.filter((server) => server['x-region'] !== undefined);
  writeFileSync(
    join(outDir, 'servers.ts'),
    `/**
 * This file was auto-generated from openapi.yaml (servers, by x-region) by scripts/generate.ts.
 * Do not make direct changes to the file.
 */

/** The base URL of each region's host; the first is the default. */
export const regionBaseUrls = {
${regions.map((server) => `  ${JSON.stringify(server['x-region'])}: ${JSON.stringify(server.url)},`).join('\n')}
} as const;
`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  const outDir = check ? mkdtempSync(join(tmpdir(), 'lb-generated-')) : join(root, 'generated');
  try {
    generate(outDir);
    if (check) {
      const stale = FILES.filter((f) => readFileSync(join(outDir, f), 'utf8') !== readFileSync(join(root, 'generated', f), 'utf8'));
      if (stale.length) {
        console.error(`generated/ is stale (${stale.join(', ')}): run \`npm run generate\` and commit the result.`);
        process.exit(1);
      }
      console.log('generated/ is in step with openapi.yaml');
    }
  } finally {
    if (check) rmSync(outDir, { recursive: true, force: true });
  }
}
