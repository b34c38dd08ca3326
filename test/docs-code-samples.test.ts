// The request samples the docs show (x-codeSamples in openapi.yaml) work: each TypeScript
// one compiles against this package's real types, and each curl one, run in bash as a user
// pastes it (pointed at the test run's Prism mock), gets a new token and asks for now + 90 days.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { reply, startLoopbackServer, successEnvelope, type LoopbackServer, type RecordedRequest } from './helpers/loopback-server.js';

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

/** Runs a curl sample as a user would paste it into bash, with the local mock's URL pointed at `baseUrl`. */
function runInShell(source: string, baseUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = source.replaceAll('http://127.0.0.1:4010', baseUrl);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The expiry a request asked for: `expired_at` in the query, else in the JSON body. */
function requestedExpiry(request: RecordedRequest): string | null {
  const query = new URL(request.url, 'http://x').searchParams.get('expired_at');
  if (query !== null) return query;
  return request.body.length ? ((JSON.parse(request.body.toString()) as { expired_at?: string }).expired_at ?? null) : null;
}

const NINETY_DAYS_MS = 90 * 86_400_000;

describe('request samples in the docs', () => {
  let recorder: LoopbackServer;
  beforeAll(async () => {
    recorder = await startLoopbackServer(reply(200, successEnvelope));
  });
  afterAll(() => recorder.close());

  it('has a TypeScript and a curl sample for both operations, the live form first', () => {
    expect(Object.keys(spec.paths)[0]).toBe('/v1/token/refresh');
    for (const where of ['GET /v1/token/refresh', 'POST /v1/openapi/token/refresh']) {
      expect(typescriptSamples.map((s) => s.where)).toContain(where);
      expect(curlSamples.map((s) => s.where)).toContain(where);
    }
  });

  it('the live form’s TypeScript sample signs: it sets both the app key and the app secret', () => {
    const sample = typescriptSamples.find((s) => s.where === 'GET /v1/token/refresh')!;
    expect(sample.source).toMatch(/appKey: process\.env\.LONGBRIDGE_APP_KEY/);
    expect(sample.source).toMatch(/appSecret: process\.env\.LONGBRIDGE_APP_SECRET/);
    expect(sample.source).toContain('refreshAccessToken(');
  });

  for (const sample of typescriptSamples) {
    it(`${sample.where}: the TypeScript sample compiles against the package's types`, () => {
      expect(sample.source).toContain("from 'longbridge-token-api'");
      expect(sample.source).toContain('Date.now() + 90 * 24 * 60 * 60 * 1000'); // now + 90 days, never a fixed date
      expect(typeErrors(sample.source)).toEqual([]);
    }, 60_000);
  }

  it('notices a TypeScript sample that does not compile', () => {
    const broken = typescriptSamples[0]!.source.replace(/\.(refreshAccessToken|refreshToken)\(/, '.refreshTokn(');
    expect(broken).not.toBe(typescriptSamples[0]!.source);
    expect(typeErrors(broken).join('\n')).toMatch(/refreshTokn/);
  }, 60_000);

  for (const sample of curlSamples) {
    it(`${sample.where}: the curl sample, run in bash against the mock, gets a new token`, async () => {
      const result = await runInShell(sample.source, inject('prismUrl'));
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const envelope = JSON.parse(result.stdout) as { code: number; data: { token: string } };
      expect(envelope.code).toBe(0);
      expect(envelope.data.token.length).toBeGreaterThan(0);
    });

    it(`${sample.where}: the curl sample asks for now + 90 days, computed when it runs`, async () => {
      const before = Date.now();
      const result = await runInShell(sample.source, recorder.url);
      const after = Date.now();
      expect(result.code, result.stderr).toBe(0);
      const request = recorder.requests.at(-1)!;
      expect(`${request.method} ${new URL(request.url, 'http://x').pathname}`).toBe(sample.where);
      const asked = Date.parse(requestedExpiry(request) ?? '');
      expect(asked).toBeGreaterThanOrEqual(before + NINETY_DAYS_MS - 1_000);
      expect(asked).toBeLessThanOrEqual(after + NINETY_DAYS_MS + 1_000);
    });
  }
});
