// The API docs as a reader sees them: `npm run docs` output opened in Debian's Chromium
// (driven by playwright-core) from the docs server on 127.0.0.1, with every other request
// refused. Asserts on rendered, visible text that the page shows each operation, header,
// body field, response field (nested), status, error code, code sample and note the seed
// and the spec define (test/docs/expectations.ts), and that it needs no network.
// Screenshots: artifacts/docs/*.png.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildDocs, SPEC_FILE } from '../scripts/build-docs.js';
import { startDocsServer, type DocsServer } from '../scripts/docs-server.js';
import { checksFromSpec, mergeChecks, SEED_CHECKS, type OperationChecks } from './docs/expectations.js';
import { readOperation, readOverview, watchNetwork, type NetworkLog, type RenderedOperation, type RenderedOverview } from './docs/rendered-docs.js';

/** Debian's package; CHROMIUM_PATH points elsewhere (e.g. another OS's Chromium). */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/docs/', import.meta.url));
const spec = parse(readFileSync(SPEC_FILE, 'utf8')) as Record<string, unknown>;
const checks = mergeChecks(SEED_CHECKS, checksFromSpec(spec));

const skipReason =
  !existsSync(CHROMIUM) && !process.env.CI
    ? `${CHROMIUM} is not installed (apt-get install chromium, or set CHROMIUM_PATH); CI installs it and runs these tests`
    : undefined;

interface Check {
  name: string;
  run(): void;
}

let overview: RenderedOverview;
let network: NetworkLog;
const operations: Record<string, RenderedOperation | undefined> = {};

function operationChecks(key: string, op: OperationChecks): Check[] {
  const rendered = () => {
    const found = operations[key];
    if (!found) throw new Error(`${key} is not in the sidebar of the rendered page`);
    return found;
  };
  return [
    {
      name: `${key}: method, path and summary`,
      run: () => {
        for (const text of [op.method, op.path, op.summary]) expect(rendered().text).toContain(text);
      },
    },
    ...op.fields.map((field) => ({
      name: `${key}: ${field.section} field ${field.label}${field.shows?.length ? ` (${field.shows.join(', ')})` : ''}`,
      run: () => {
        const shown = rendered().fields.find((f) => f.section === field.section && f.label === field.label);
        const seen = rendered().fields.filter((f) => f.section === field.section).map((f) => f.label);
        expect(shown, `no visible ${field.section} field labelled ${field.label}; seen: ${seen.join(', ')}`).toBeDefined();
        for (const text of field.shows ?? []) expect(shown!.row).toContain(text);
      },
    })),
    ...op.securityHeaders.map((header) => ({
      name: `${key}: header ${header} in the Security dialog`,
      run: () => expect(rendered().securityHeaders).toContain(header),
    })),
    ...op.statuses.map((status) => ({
      name: `${key}: response status ${status}`,
      run: () => expect(rendered().statuses).toContain(status),
    })),
    ...op.shows.map((text) => ({
      name: `${key}: shows "${text}"`,
      run: () => expect(rendered().text).toContain(text),
    })),
    ...op.samples.map((sample) => ({
      name: `${key}: request sample "${sample.label}"`,
      run: () => {
        const source = rendered().samples[sample.label];
        expect(source, `no request sample "${sample.label}" to choose`).toBeDefined();
        for (const text of sample.shows) expect(source).toContain(text);
      },
    })),
  ];
}

const pageChecks: Check[] = [
  ...checks.overview.map((text) => ({
    name: `introduction shows "${text}"`,
    run: () => expect(overview.text).toContain(text),
  })),
  ...checks.errorCodes.map(({ code, message }) => ({
    name: `error code ${code} (${message}) with its meaning`,
    run: () => {
      const row = overview.tableRows.find((cells) => cells.includes(String(code)) && cells.includes(message));
      expect(row, `no visible table row with ${code} and "${message}"`).toBeDefined();
      const meaning = row!.filter((cell) => cell !== String(code) && cell !== message && !/^\d{3}$/.test(cell));
      expect(meaning.join(' ').length, `the row of ${code} says nothing about what it means`).toBeGreaterThan(10);
    },
  })),
  ...Object.entries(checks.operations).flatMap(([key, op]) => operationChecks(key, op)),
];

async function openDocs(browser: Browser, docsFile: string): Promise<{ page: Page; server: DocsServer; log: NetworkLog }> {
  const server = await startDocsServer({ port: 0, docsFile, specFile: SPEC_FILE });
  const { page, log } = await openPage(browser, server.url);
  return { page, server, log };
}

/** A fresh tab on the docs, once Redoc has run. */
async function openPage(browser: Browser, url: string): Promise<{ page: Page; log: NetworkLog }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const log = await watchNetwork(page, url);
  await page.goto(`${url}/`, { waitUntil: 'load' });
  // Redoc's inlined script sets the colour-mode class on <html>: proof that it ran.
  await page.waitForFunction(() => document.documentElement.classList.length > 0, undefined, { timeout: 30_000 });
  return { page, log };
}

describe('API docs rendered in Chromium', () => {
  it('has Chromium to run in', (context) => {
    if (skipReason) {
      console.warn(`Skipped the docs browser tests: ${skipReason}`);
      context.skip(skipReason);
    }
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`).toBe(true);
  });

  describe.skipIf(skipReason !== undefined)('the built page', () => {
    let browser: Browser | undefined;
    let server: DocsServer | undefined;
    let work = '';

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'lb-docs-test-'));
      const built = await buildDocs({ outFile: join(work, 'index.html') });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      const opened = await openDocs(browser, built.file);
      server = opened.server;
      network = opened.log;
      mkdirSync(ARTIFACTS, { recursive: true });
      overview = await readOverview(opened.page);
      await opened.page.screenshot({ path: join(ARTIFACTS, 'overview.png') });
      await opened.page.close();
      // Each operation on a freshly loaded page, as a reader following a link to it. In one page,
      // Redoc 3 did not render the oneOf/anyOf switchers of the second operation's 200 response
      // (the same schemas as the first's), so its `msg` variant could not be reached.
      for (const [key, op] of Object.entries(checks.operations)) {
        const file = `${key.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}.png`;
        const fresh = await openPage(browser, server.url);
        try {
          operations[key] = await readOperation(fresh.page, op, op.samples.map((s) => s.label), join(ARTIFACTS, file));
        } finally {
          await fresh.page.close();
        }
        network.external.push(...fresh.log.external);
        network.cspViolations.push(...fresh.log.cspViolations);
        network.pageErrors.push(...fresh.log.pageErrors);
      }
    }, 240_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('renders with no network: nothing requested outside 127.0.0.1, no script errors', () => {
      expect(network.external, 'requests the page tried to make off 127.0.0.1').toEqual([]);
      // FlexSearch probes `Function(...)` to decide on a search worker; the page's policy
      // refuses eval, and search falls back to the main thread. Anything else is a failure.
      const violations = network.cspViolations.filter((v) => !(v.directive === 'script-src' && v.blocked === 'eval'));
      expect(violations, 'fetches refused by the page policy (e.g. web fonts, images, telemetry)').toEqual([]);
      expect(network.pageErrors).toEqual([]);
    });

    for (const check of pageChecks) it(check.name, () => check.run());

    it('notices a field dropped from the spec (a copy without member_id)', async () => {
      const dropped = structuredClone(spec) as { components: { schemas: { AccountInfo: { properties: Record<string, unknown>; required: string[] } } } };
      const accountInfo = dropped.components.schemas.AccountInfo;
      delete accountInfo.properties.member_id;
      accountInfo.required = accountInfo.required.filter((name) => name !== 'member_id');
      const specFile = join(work, 'dropped.json');
      writeFileSync(specFile, JSON.stringify(dropped));
      const built = await buildDocs({ specFile, outFile: join(work, 'dropped.html') });
      const opened = await openDocs(browser!, built.file);
      try {
        const op = SEED_CHECKS.operations['POST /v1/openapi/token/refresh']!;
        const rendered = await readOperation(opened.page, op, []);
        const labels = rendered?.fields.filter((f) => f.section === 'response 200').map((f) => f.label);
        expect(labels).toContain('data.account_info.aaid');
        expect(labels).not.toContain('data.account_info.member_id');
      } finally {
        await opened.page.close();
        await opened.server.close();
      }
    }, 120_000);
  });
});
