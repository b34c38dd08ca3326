// `npm run docs`: renders openapi.yaml into docs/index.html with `@redocly/cli build-docs`.
// One self-contained file that renders with no network: Redoc's script is inlined
// (--inlineBundle), telemetry is off, the one image Redoc would fetch (the Redocly logo on
// its CDN) is replaced by an inline one, and the page template's Content-Security-Policy
// forbids every other fetch. `npm start` calls buildDocs() when the page is missing or older
// than its sources.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SPEC_FILE = join(ROOT, 'openapi.yaml');
export const DOCS_FILE = join(ROOT, 'docs/index.html');
const TEMPLATE_FILE = join(ROOT, 'docs-src/template.hbs');
const REDOCLY_CLI = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');

/** Redoc options: every schema level open, and the languages of the x-codeSamples to show. */
const REDOC_OPTIONS_FILE = join(ROOT, 'docs-src/redoc-options.json');

/** Redoc 3 loads its "API docs by Redocly" logo from this CDN; an inline wordmark replaces it. */
const CDN_LOGOS = ['https://cdn.redoc.ly/redoc/logo-mini-full.svg', 'https://cdn.redoc.ly/redoc/logo-mini.svg'];
const INLINE_LOGO = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="14" viewBox="0 0 48 14">' +
    '<text x="0" y="11" font-family="system-ui,sans-serif" font-size="11" font-weight="600" fill="#3b3c45">Redocly</text></svg>',
)}`;

export interface BuiltDocs {
  file: string;
  bytes: number;
}

/** Builds the docs page from `specFile` into `outFile` (written atomically). */
export async function buildDocs(options: { specFile?: string; outFile?: string } = {}): Promise<BuiltDocs> {
  const specFile = options.specFile ?? SPEC_FILE;
  const outFile = options.outFile ?? DOCS_FILE;
  const work = mkdtempSync(join(tmpdir(), 'lb-docs-'));
  try {
    const rendered = join(work, 'index.html');
    await promisify(execFile)(
      process.execPath,
      [REDOCLY_CLI, 'build-docs', specFile, '--inlineBundle', '--template', TEMPLATE_FILE, '--openapi', REDOC_OPTIONS_FILE, '-o', rendered],
      {
        cwd: ROOT,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 120_000,
      },
    ).catch((error: Error & { stderr?: string }) => {
      throw new Error(`redocly build-docs failed: ${error.message}\n${error.stderr ?? ''}`);
    });
    const html = offline(readFileSync(rendered, 'utf8'));
    mkdirSync(dirname(outFile), { recursive: true });
    const partial = `${outFile}.${process.pid}.partial`;
    writeFileSync(partial, html);
    renameSync(partial, outFile);
    return { file: outFile, bytes: Buffer.byteLength(html) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The build's own sources, beside the spec: a change to any of them makes the page stale. */
const BUILD_SOURCES = [TEMPLATE_FILE, REDOC_OPTIONS_FILE, fileURLToPath(import.meta.url)];

/** True when the page is missing or older than the spec or anything the build uses. */
export function docsAreStale(outFile = DOCS_FILE, specFile = SPEC_FILE): boolean {
  if (!existsSync(outFile)) return true;
  const built = statSync(outFile).mtimeMs;
  return [specFile, ...BUILD_SOURCES].some((source) => existsSync(source) && statSync(source).mtimeMs > built);
}

/** Swaps the CDN logo for the inline one and checks nothing else is loaded from a CDN. */
function offline(html: string): string {
  let result = html;
  for (const logo of CDN_LOGOS) result = result.split(logo).join(INLINE_LOGO);
  if (/\bfrom\s*["']https?:\/\//.test(result) || /<script[^>]+src=["']https?:/i.test(result)) {
    throw new Error('the built page still loads Redoc from a CDN: is --inlineBundle still supported?');
  }
  if (!result.includes('"disableTelemetry":true')) {
    throw new Error('the built page has Redoc telemetry switched on: REDOCLY_TELEMETRY=off was not honoured');
  }
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { file, bytes } = await buildDocs();
  console.log(`Built ${relative(process.cwd(), file)} (${Math.round(bytes / 1024)} KiB) from openapi.yaml`);
}
