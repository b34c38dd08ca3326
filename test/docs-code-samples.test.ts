// The request samples the docs show (x-codeSamples in openapi.yaml) work: the TypeScript
// one compiles against this package's real types, and the curl one, pointed at the test
// run's Prism mock, gets a new token.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const spec = parse(readFileSync(join(ROOT, 'openapi.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, { 'x-codeSamples'?: { lang: string; label?: string; source: string }[] }>>;
};
const samples = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.entries(item).flatMap(([method, op]) =>
    (op['x-codeSamples'] ?? []).map((sample) => ({ ...sample, where: `${method.toUpperCase()} ${path}` })),
  ),
);
const typescriptSamples = samples.filter((s) => s.lang === 'TypeScript');
const curlSamples = samples.filter((s) => /^\s*curl /m.test(s.source));

/** Type-checks `source` as if it were a file at the repository root, with the repo's tsconfig. */
function typeErrors(source: string): string[] {
  const configFile = join(ROOT, 'tsconfig.json');
  const { config } = ts.readConfigFile(configFile, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  const file = join(ROOT, '__docs_sample__.ts');
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest);
  const program = ts.createProgram({ rootNames: [file], options: { ...options, noEmit: true }, host });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? `${d.file.fileName}:` : ''} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

/** The sample's single curl command as a fetch call: URL, -H headers, --data body. */
function asFetch(source: string, baseUrl: string): { url: string; init: RequestInit } {
  const command = source.replace(/\\\n/g, ' ');
  const url = /curl\b[^\n]*?'(https?:\/\/[^']+)'/.exec(command)?.[1];
  const method = /-X\s+([A-Z]+)/.exec(command)?.[1] ?? 'GET';
  const headers = [...command.matchAll(/-H\s+'([^:']+):\s*([^']*)'/g)].map((m) => [m[1]!, m[2]!] as [string, string]);
  const body = /--data(?:-raw)?\s+'([^']*)'/.exec(command)?.[1];
  if (!url) throw new Error(`no URL in the curl sample:\n${source}`);
  const { pathname, search } = new URL(url);
  return { url: `${baseUrl}${pathname}${search}`, init: { method, headers, ...(body === undefined ? {} : { body }) } };
}

describe('request samples in the docs', () => {
  it('has a TypeScript and a curl sample for the seed operation', () => {
    expect(typescriptSamples.map((s) => s.where)).toContain('POST /v1/openapi/token/refresh');
    expect(curlSamples.map((s) => s.where)).toContain('POST /v1/openapi/token/refresh');
  });

  for (const sample of typescriptSamples) {
    it(`${sample.where}: the TypeScript sample compiles against the package's types`, () => {
      expect(sample.source).toContain("from 'longbridge-token-api'");
      expect(typeErrors(sample.source)).toEqual([]);
    }, 60_000);
  }

  it('notices a TypeScript sample that does not compile', () => {
    const broken = typescriptSamples[0]!.source.replace("accountChannel: 'lb'", "accountChannel: 'nope'");
    expect(typeErrors(broken).join('\n')).toMatch(/nope/);
  }, 60_000);

  for (const sample of curlSamples) {
    it(`${sample.where}: the curl sample, sent to the mock, gets a new token`, async () => {
      const { url, init } = asFetch(sample.source, inject('prismUrl'));
      const response = await fetch(url, init);
      expect(response.status).toBe(200);
      const envelope = (await response.json()) as { code: number; data: { token: string } };
      expect(envelope.code).toBe(0);
      expect(envelope.data.token.length).toBeGreaterThan(0);
    });
  }
});
