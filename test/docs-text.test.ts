// What users read, checked as text: no internal vocabulary ("seed") anywhere they see it, the
// Chinese saying what the English says (each error code's "what to do", the whole signing
// section), server descriptions that render as plain text, and a mock whose answers expire far
// in the future.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SPEC_TEXT = readFileSync(join(ROOT, 'openapi.yaml'), 'utf8');
const spec = parse(SPEC_TEXT) as {
  info: { description: string; 'x-error-codes': { code: number }[] };
  servers: { url: string; description: string }[];
  paths: Record<string, Record<string, { description?: string; responses: Record<string, unknown> }>>;
};
const CJK = /[\u4e00-\u9fff]/;

/** Every .ts file under `dir`. */
function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** A markdown text cut into what a reader takes in one go: paragraphs, list items, table rows (headings and rules left out). */
function blocks(markdown: string): string[] {
  const out: string[] = [];
  for (const paragraph of markdown.split(/\n\s*\n/)) {
    const lines = paragraph.split('\n');
    if (lines.every((line) => line.startsWith('|'))) {
      out.push(...lines.slice(1).filter((line) => !/^\|[-| ]+\|$/.test(line))); // rows after the header
      continue;
    }
    let current = '';
    for (const line of lines) {
      if (/^#+ /.test(line)) continue;
      if (/^\s*(?:-|\d+\.) /.test(line) && current) {
        out.push(current);
        current = '';
      }
      current += `${line}\n`;
    }
    if (current.trim()) out.push(current);
  }
  return out.map((block) => block.trim()).filter(Boolean);
}

/** The part of info.description under the heading that starts with `title`. */
function section(title: string): string {
  const text = spec.info.description;
  const start = text.indexOf(`## ${title}`);
  const end = text.indexOf('\n## ', start + 1);
  expect(start, `no section "${title}"`).toBeGreaterThanOrEqual(0);
  return text.slice(start, end < 0 ? undefined : end);
}

describe('no internal vocabulary where users look', () => {
  const places = [
    'README.md',
    'openapi.yaml',
    'openapi.json',
    ...readdirSync(join(ROOT, 'docs-src')).map((name) => `docs-src/${name}`),
    ...tsFiles('src').map((file) => file.slice(ROOT.length)),
    ...tsFiles('generated').map((file) => file.slice(ROOT.length)),
  ];

  it.each(places)('%s never says "seed" or 种子', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const hits = text.split('\n').filter((line) => /\bseed\b|种子/i.test(line));
    expect(hits).toEqual([]);
  });

  it('the spec names the 2022-04-21 page in x-source-page and x-page-last-updated', () => {
    expect(SPEC_TEXT).not.toMatch(/x-seed/);
    expect(SPEC_TEXT).toContain('x-source-page:');
    expect(SPEC_TEXT).toContain("x-page-last-updated: '2022-04-21'");
  });

  it('server descriptions are plain text (Redoc shows them verbatim: no markdown)', () => {
    for (const server of spec.servers) expect(server.description).not.toMatch(/[`*_[\]]/);
  });
});

describe('the Chinese says what the English says', () => {
  it('every error code has a row with its "what to do" in English and in Chinese', () => {
    const rows = section('Error codes')
      .split('\n')
      .filter((line) => /^\| \d{3} \| \d{6} \|/.test(line))
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    expect(rows.map((cells) => Number(cells[1]))).toEqual(spec.info['x-error-codes'].map((entry) => entry.code));
    for (const [, code, , english, chinese] of rows) {
      expect(english, `${code}: English "what to do"`).toMatch(/^[^\u4e00-\u9fff]+: [^\u4e00-\u9fff]{10,}$/);
      expect(chinese, `${code}: Chinese "what to do"`).toMatch(/^.*[\u4e00-\u9fff].*：.*[\u4e00-\u9fff]{4,}.*$/);
    }
  });

  it.each(['Two forms of the endpoint', 'Response envelope', 'Error codes', 'Request signing'])(
    'section "%s": every paragraph, list item and table row has its Chinese',
    (title) => {
      for (const block of blocks(section(title))) expect(block, 'a block without Chinese').toMatch(CJK);
    },
  );

  it('the introduction and each operation description: every paragraph and list item has its Chinese', () => {
    const intro = spec.info.description.slice(0, spec.info.description.indexOf('\n## '));
    const operations = Object.values(spec.paths).flatMap((item) => Object.values(item).map((op) => op.description ?? ''));
    for (const text of [intro, ...operations]) {
      for (const block of blocks(text)) expect(block, 'a block without Chinese').toMatch(CJK);
    }
  });

  it('notices a block without Chinese', () => {
    expect(blocks('English only.\n\n- 中文 and English\n- English only')).toEqual(['English only.', '- 中文 and English', '- English only']);
  });
});

describe('the sandbox answers with dates a user would trust', () => {
  const farFuture = Date.parse('2090-01-01T00:00:00Z');

  it('every response example that carries a token expires after 2090', () => {
    const expiries: string[] = [];
    const walk = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      const data = (node as { data?: { token?: unknown; expired_at?: unknown } }).data;
      if (typeof data?.token === 'string' && typeof data.expired_at === 'string') expiries.push(data.expired_at);
      for (const child of Object.values(node)) walk(child);
    };
    walk(spec.paths);
    expect(expiries.length).toBeGreaterThanOrEqual(3);
    for (const expiry of expiries) expect(Date.parse(expiry), expiry).toBeGreaterThan(farFuture);
  });

  it.each([
    ['GET', '/v1/token/refresh?expired_at=2099-01-01T00%3A00%3A00Z', undefined],
    ['POST', '/v1/openapi/token/refresh', '{"expired_at":"2099-01-01T00:00:00Z","aaid":"20001"}'],
  ])('the mock answers %s %s with a token that expires after 2090', async (method, path, body) => {
    const response = await fetch(`${inject('prismUrl')}${path}`, {
      method,
      headers: { Authorization: 'made-up-token', 'Content-Type': 'application/json; charset=utf-8', 'Account-Channel': 'lb' },
      ...(body ? { body } : {}),
    });
    expect(response.status).toBe(200);
    const envelope = (await response.json()) as { data: { expired_at: string } };
    expect(Date.parse(envelope.data.expired_at)).toBeGreaterThan(farFuture);
  });
});
