// Reads what a reader sees on the Redoc page in a real browser: rendered, visible text only
// (innerText and visibility checks, never the HTML source). It clicks what a reader would
// click to see everything: the sidebar entry, every response status, every oneOf/anyOf
// variant, the Security dialog and each request-sample language.
import type { Locator, Page } from 'playwright-core';

export interface RenderedField {
  /** `header`, `query`, `body` or `response <status>` */
  section: string;
  /** As shown, e.g. `data.account_info.aaid`. */
  label: string;
  /** The field's rendered row: type, format, description, example. */
  row: string;
}

export interface RenderedOperation {
  /** All text of the operation's section seen while clicking through it. */
  text: string;
  fields: RenderedField[];
  /** Header names listed in the Security dialog. */
  securityHeaders: string[];
  /** Response status tabs. */
  statuses: string[];
  /** Request sample text by language label, for the labels asked for and offered. */
  samples: Record<string, string>;
}

export interface RenderedOverview {
  text: string;
  /** Cell texts of every visible table row. */
  tableRows: string[][];
}

export interface NetworkLog {
  /** Requests the page tried to make outside the allowed origin (all were refused). */
  external: string[];
  /** Content-Security-Policy violations the page reported. */
  cspViolations: { directive: string; blocked: string }[];
  pageErrors: string[];
}

/** A bound on clicks through variants, so an odd page cannot loop the test forever. */
const MAX_VARIANT_VISITS = 200;

/** Refuses (and records) every request not to `allowedOrigin`; records CSP violations and script errors. */
export async function watchNetwork(page: Page, allowedOrigin: string): Promise<NetworkLog> {
  const log: NetworkLog = { external: [], cspViolations: [], pageErrors: [] };
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${allowedOrigin}/`) || url.startsWith('data:')) return route.continue();
    log.external.push(url);
    return route.abort('blockedbyclient');
  });
  await page.exposeFunction('__reportCspViolation', (directive: string, blocked: string) => {
    log.cspViolations.push({ directive, blocked });
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __reportCspViolation: (d: string, b: string) => void }).__reportCspViolation;
      void report(event.effectiveDirective, event.blockedURI);
    });
  });
  page.on('pageerror', (error) => log.pageErrors.push(error.message));
  return log;
}

export async function readOverview(page: Page): Promise<RenderedOverview> {
  return page.evaluate(() => {
    const clean = (text: string) => text.replace(/\u200b/g, '');
    const rows = Array.from(document.querySelectorAll('tr')).filter((row) => row.checkVisibility());
    return {
      text: clean(document.body.innerText),
      tableRows: rows.map((row) => Array.from(row.cells).map((cell) => clean(cell.innerText).trim())),
    };
  });
}

/**
 * Opens an operation from the sidebar and reads everything it shows; undefined when the
 * sidebar has no such operation. `sampleLabels` are the request-sample languages to read.
 */
export async function readOperation(
  page: Page,
  where: { tag: string; summary: string; variantDepth?: Record<string, number> },
  sampleLabels: string[],
  screenshotPath?: string,
): Promise<RenderedOperation | undefined> {
  const root = await openFromSidebar(page, where);
  if (!root) return undefined;
  const id = (await root.getAttribute('id')) ?? '';
  const rendered: RenderedOperation = { text: '', fields: [], securityHeaders: [], statuses: [], samples: {} };
  const texts = new Set<string>();
  const fields = new Map<string, RenderedField>();
  const harvest = async () => {
    await revealLazyParts(root);
    const seen = await readSection(root, id);
    texts.add(seen.text);
    for (const field of seen.fields) fields.set(`${field.section}|${field.label}`, field);
  };

  await harvest();
  rendered.securityHeaders = await readSecurityHeaders(page, root);
  rendered.samples = await readSamples(page, root, sampleLabels);

  const statusTabs = root.locator('[data-response-codes-tablist] [role="tab"]');
  rendered.statuses = (await statusTabs.allInnerTexts()).map((text) => text.trim());
  let visits = 0;
  const visit = async () => {
    if (++visits > MAX_VARIANT_VISITS) throw new Error(`more than ${MAX_VARIANT_VISITS} schema variants in ${id}`);
    await harvest();
  };
  for (let i = 0; i < rendered.statuses.length; i++) {
    await select(statusTabs.nth(i), root);
    await everyVariant(root, visit, where.variantDepth?.[rendered.statuses[i]!] ?? 0);
  }
  if (rendered.statuses.length) await select(statusTabs.first());

  if (screenshotPath) {
    // Back to the first variant of each choice, as a reader first sees it.
    const lists = root.locator('[data-section-id="switcher"] [role="tablist"]:visible');
    for (let level = 0; level < (await lists.count()); level++) await select(lists.nth(level).locator('[role="tab"]').first());
    await revealLazyParts(root);
    await root.screenshot({ path: screenshotPath });
  }
  rendered.text = [...texts].join('\n');
  rendered.fields = [...fields.values()];
  return rendered;
}

async function openFromSidebar(page: Page, { tag, summary }: { tag: string; summary: string }): Promise<Locator | undefined> {
  const link = page.locator('.menu-item-type-operation a').filter({ hasText: summary }).first();
  if (!(await link.isVisible())) {
    const group = page.locator('.menu-item-type-group a').filter({ hasText: new RegExp(`^\\s*${escapeRegExp(tag)}\\s*$`) });
    if (await group.count()) await group.first().click();
    await link.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => undefined);
  }
  if (!(await link.isVisible())) return undefined;
  const href = (await link.getAttribute('href')) ?? '';
  await link.click();
  const root = page.locator(`[id="${href.replace(/^#\//, '').replace(/"/g, '\\"')}"]`);
  await root.waitFor({ state: 'visible', timeout: 15_000 });
  return root;
}

/**
 * Clicks every combination of the oneOf/anyOf switchers in `root`, calling `visit` for each.
 * `depth` is how many levels of switchers the spec says the response has: Redoc renders a
 * switcher a moment after the fields of its first variant (about 60 ms, more under load), so
 * each expected level is waited for before the switchers are counted; otherwise its other
 * variants (`msg` beside `message`) would go unvisited.
 */
async function everyVariant(root: Locator, visit: () => Promise<void>, depth: number, level = 0): Promise<void> {
  const lists = root.locator('[data-section-id="switcher"] [role="tablist"]:visible');
  if (level < depth) {
    await lists.nth(level).waitFor({ state: 'visible', timeout: 15_000 }).catch(() => undefined); // counted below either way
  }
  if (level >= (await lists.count())) return visit();
  const tabCount = await lists.nth(level).locator('[role="tab"]').count();
  for (let tab = 0; tab < tabCount; tab++) {
    await select(lists.nth(level).locator('[role="tab"]').nth(tab), root);
    await everyVariant(root, visit, depth, level + 1);
  }
}

/**
 * Clicks a tab and waits until it is selected and, when it was not selected before, until the
 * fields shown under `root` have changed: Redoc may mark the tab selected a few frames before it
 * renders the variant (seen under load: the "with msg" tab selected, `message` still shown).
 */
async function select(tab: Locator, root?: Locator): Promise<void> {
  const wasSelected = (await tab.getAttribute('aria-selected')) === 'true';
  const before = root && !wasSelected ? await root.evaluate(shownFields) : undefined;
  await tab.click();
  await tab.page().waitForFunction((element) => element?.getAttribute('aria-selected') === 'true', await tab.elementHandle(), {
    timeout: 5_000,
  });
  if (root && before !== undefined) {
    await root.evaluate(
      (element: HTMLElement, previous: string) =>
        new Promise<void>((resolve) => {
          const check = () => {
            const now = Array.from(element.querySelectorAll<HTMLElement>('.schema-property-item'))
              .filter((item) => item.checkVisibility())
              .map((item) => `${item.id}=${item.querySelector('.schema-name')?.textContent ?? ''}`)
              .join('|');
            if (now !== previous) return resolve();
            requestAnimationFrame(check);
          };
          check();
          setTimeout(resolve, 10_000); // a variant that shows the same fields: go on
        }),
      before,
    );
  }
  await painted(tab.page());
}

/** The visible schema fields under `element`, as one string (their ids and names); the same inline in select(). */
function shownFields(element: HTMLElement): string {
  return Array.from(element.querySelectorAll<HTMLElement>('.schema-property-item'))
    .filter((item) => item.checkVisibility())
    .map((item) => `${item.id}=${item.querySelector('.schema-name')?.textContent ?? ''}`)
    .join('|');
}

function painted(page: Page): Promise<unknown> {
  return page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

/** Redoc renders deep schema levels only when scrolled into view: scroll each placeholder in. */
async function revealLazyParts(root: Locator): Promise<void> {
  const pending = await root.evaluate(async (element: HTMLElement) => {
    const placeholders = () =>
      Array.from(element.querySelectorAll<HTMLElement>('div[aria-hidden="true"][style*="min-height"]')).filter(
        (node) => node.childElementCount === 0 && node.checkVisibility(),
      );
    for (let round = 0; round < 40; round++) {
      const waiting = placeholders();
      if (!waiting.length) return 0;
      for (const node of waiting) node.scrollIntoView({ block: 'center' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return placeholders().length;
  });
  if (pending) throw new Error(`${pending} lazily rendered parts of the page never rendered`);
}

function readSection(root: Locator, id: string): Promise<{ text: string; fields: RenderedField[] }> {
  return root.evaluate((element: HTMLElement, prefix: string) => {
    const clean = (text: string) => text.replace(/\u200b/g, '');
    const fields = Array.from(element.querySelectorAll<HTMLElement>('.schema-property-item'))
      .filter((item) => item.checkVisibility())
      .map((item) => {
        const name = item.querySelector<HTMLElement>('.schema-name');
        // e.g. `t=response&c=200&path=&oneof=0/data/token` or `t=request&in=headers&path=account-channel`
        const where = new URLSearchParams(item.id.slice(prefix.length + 1).split('/')[0]);
        const section =
          where.get('t') === 'response'
            ? `response ${where.get('c')}`
            : where.get('in') === 'headers'
              ? 'header'
              : (where.get('in') ?? 'body');
        return { section, label: clean(name?.parentElement?.innerText ?? '').trim(), row: clean(item.innerText) };
      });
    return { text: clean(element.innerText), fields };
  }, id);
}

async function readSecurityHeaders(page: Page, root: Locator): Promise<string[]> {
  const button = root.getByRole('button', { name: 'View security details' });
  if (!(await button.count())) return [];
  await button.first().click();
  // The dialog has no ARIA role; its rows read "Header parameter name: <name>", and a tab
  // list offers each security alternative (e.g. the token alone, or token + signature).
  const rows = page.getByText('Header parameter name').filter({ visible: true });
  await rows.first().waitFor({ state: 'visible', timeout: 5_000 });
  const dialog = page.locator('div').filter({ has: rows.first() }).filter({ has: page.getByRole('tablist') }).last();
  const alternatives = dialog.getByRole('tab');
  const count = Math.max(1, await alternatives.count());
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    if (await alternatives.count()) await select(alternatives.nth(i));
    const text = await page.evaluate(() => document.body.innerText);
    for (const match of text.matchAll(/Header parameter name:\s*(\S+)/g)) names.add(match[1]!);
  }
  await page.keyboard.press('Escape');
  await rows.first().waitFor({ state: 'hidden', timeout: 5_000 });
  return [...names];
}

async function readSamples(page: Page, root: Locator, labels: string[]): Promise<Record<string, string>> {
  const samples: Record<string, string> = {};
  if (!labels.length) return samples;
  const chooser = root
    .locator('[data-testid="right-panel"] button[aria-haspopup="menu"]')
    .filter({ hasText: new RegExp(`^\\s*(${labels.map(escapeRegExp).join('|')})\\s*$`) })
    .first();
  if (!(await chooser.count())) return samples;
  const code = root.locator('[data-testid="right-panel"] [data-component-name="CodeBlock/CodeBlock"]').first();
  for (const label of labels) {
    await chooser.click();
    const item = page.getByRole('menuitem', { name: label, exact: true }).filter({ visible: true });
    if (!(await item.count())) {
      await page.keyboard.press('Escape');
      continue;
    }
    await item.first().click();
    await painted(page);
    samples[label] = (await code.innerText()).replace(/\u200b/g, '');
  }
  return samples;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
