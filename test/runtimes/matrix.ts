// `npm run test:runtimes`: the runtime-neutral suite (test/runtimes/suite.mjs) over the built
// dist/, in every runtime the package claims: Node 20 (this machine's), Node 22 and 24, Bun,
// Deno, and headless Chromium. The runtimes come from the npm registry, installed on demand
// into .cache/runtimes/ (not devDependencies); the mock runs here, in Node. Prints each case,
// then the compatibility table, and fails when a case fails or README's table differs.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { startMock } from './mock-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cache = join(root, '.cache/runtimes');
const entry = join(root, 'test/runtimes/main.mjs');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Report {
  passed: number;
  failed: number;
  results: Array<{ name: string; ok: boolean; detail?: string }>;
  facts: { crypto?: string; refusedMayHaveReachedServer?: boolean };
}
interface Runtime {
  name: string;
  /** The npm package that holds the binary (the platform package the wrapper installs), pinned. */
  npm?: { spec: string; bin: string };
  command: (bin: string) => string[];
}

// The `node`, `bun` and `deno` packages fetch or link their binary in an install script, which
// npm here does not run; their binaries ship in these platform packages, installed directly.
const platform = `${process.platform}-${process.arch}`;
const RUNTIMES: Runtime[] = [
  { name: `Node ${process.versions.node.split('.')[0]}`, command: () => [process.execPath, entry] },
  { name: 'Node 22', npm: { spec: `node-${platform}@22.23.3`, bin: `node_modules/node-${platform}/bin/node` }, command: (bin) => [bin, entry] },
  { name: 'Node 24', npm: { spec: `node-${platform}@24.21.0`, bin: `node_modules/node-${platform}/bin/node` }, command: (bin) => [bin, entry] },
  {
    name: 'Bun',
    npm: { spec: `@oven/bun-${platform.replace('arm64', 'aarch64')}@1.4.5`, bin: `node_modules/@oven/bun-${platform.replace('arm64', 'aarch64')}/bin/bun` },
    command: (bin) => [bin, entry],
  },
  {
    name: 'Deno',
    npm: { spec: `@deno/${platform}-glibc@2.9.6`, bin: `node_modules/@deno/${platform}-glibc/deno` },
    // The repo's node_modules as they are (openapi-fetch), network to the loopback mock only.
    command: (bin) => [bin, 'run', '--node-modules-dir=manual', '--no-prompt', '--allow-net=127.0.0.1', entry],
  },
];

execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const page = await startPageServer();
const mock = await startMock({ allowOrigin: page.origin });
const rows: Array<{ runtime: string; version: string; report: Report }> = [];
try {
  for (const runtime of RUNTIMES) {
    const bin = runtime.npm ? install(runtime.npm) : process.execPath;
    const [command, ...args] = runtime.command(bin);
    const version = execFileSync(command!, ['--version'], { encoding: 'utf8' }).trim().split(/\s/).find((word) => /^v?\d+\.\d+\.\d+$/.test(word))!.replace(/^v/, '');
    console.log(`\n== ${runtime.name} (${version})`);
    rows.push({ runtime: runtime.name, version, report: await runProcess(command!, [...args, mock.url]) });
  }
  const version = chromiumVersion();
  console.log(`\n== headless Chromium (${CHROMIUM}, ${version})`);
  rows.push({ runtime: 'Chromium (headless)', version, report: await runBrowser(page.origin, mock.url) });
} finally {
  await mock.close();
  await page.close();
}

const table = compatibilityTable(rows);
console.log(`\n${table}`);
const failed = rows.filter((r) => r.report.failed > 0 || r.report.passed === 0).map((r) => r.runtime);
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const readmeMatches = readme.includes(table);
if (!readmeMatches) console.log("\nREADME.md's Compatibility table differs from this output: paste the table above into it.");
const total = rows.reduce((n, r) => n + r.report.passed, 0);
const totalFailed = rows.reduce((n, r) => n + r.report.failed, 0);
console.log(`\nruntimes: ${rows.length - failed.length} of ${rows.length} passed${failed.length ? ` (failed: ${failed.join(', ')})` : ''}`);
console.log(`${total} passed, ${totalFailed + (readmeMatches ? 0 : 1)} failed`);
process.exit(failed.length === 0 && readmeMatches ? 0 : 1);

/** The runtime's binary, from the npm registry into .cache/runtimes/ on first use. */
function install({ spec, bin }: { spec: string; bin: string }): string {
  const folder = join(cache, spec.replace(/[/@]/g, '_'));
  const path = join(folder, bin);
  if (existsSync(path)) return path;
  console.log(`installing ${spec} into ${folder}`);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), '{ "private": true }\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--ignore-scripts', spec], { cwd: folder, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!existsSync(path)) throw new Error(`${spec} installed no ${bin}`);
  return path;
}

async function runProcess(command: string, args: string[]): Promise<Report> {
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    output += chunk;
    process.stdout.write(chunk.replace(/^RESULT .*\n?/m, ''));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const line = /^RESULT (.*)$/m.exec(output)?.[1];
  if (line) return JSON.parse(line) as Report;
  return { passed: 0, failed: 1, results: [{ name: 'suite', ok: false, detail: `exited ${code} without a report` }], facts: {} };
}

/** The suite bundled into a page (esbuild, browser conditions: Web Crypto), served on its own origin. */
async function startPageServer() {
  const bundle = await build({
    entryPoints: [join(root, 'test/runtimes/page.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    tsconfigRaw: {}, // resolve `#crypto` as a consumer's bundler does, through package.json "imports"
    logLevel: 'error',
  });
  const script = bundle.outputFiles[0]!.text;
  const server = createServer((request, response) => {
    if (request.url === '/suite.js') return void response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><script type="module" src="/suite.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Opens the page in headless Chromium with a fresh profile; the page runs the suite against the mock. */
async function runBrowser(origin: string, mockUrl: string): Promise<Report> {
  const profile = mkdtempSync(join(tmpdir(), 'lb-runtimes-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const tab = context.pages()[0] ?? (await context.newPage());
    tab.on('console', (message) => message.type() === 'log' && console.log(message.text()));
    tab.on('pageerror', (error) => console.log(`page error: ${error.message}`));
    await tab.goto(`${origin}/?mock=${encodeURIComponent(mockUrl)}`);
    const report = await tab.waitForFunction(() => (globalThis as { suiteReport?: unknown }).suiteReport, undefined, { timeout: 120_000 });
    return (await report.jsonValue()) as Report;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function chromiumVersion(): string {
  return execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().replace(/^Chromium /, '');
}

/** The table README's Compatibility section holds, verbatim (Chromium's version stays out: Debian updates it). */
function compatibilityTable(rows: Array<{ runtime: string; version: string; report: Report }>): string {
  const lines = [
    '| runtime | version | signing crypto | suite | connection refused: `mayHaveReachedServer` |',
    '|---|---|---|---|---|',
  ];
  for (const { runtime, version, report } of rows) {
    const refused = report.facts.refusedMayHaveReachedServer;
    lines.push(
      `| ${runtime} | ${runtime.startsWith('Chromium') ? 'Debian `chromium`' : runtime.startsWith('Node 20') ? '20.x (this machine)' : version} | ` +
        `${report.facts.crypto ?? '?'} | ${report.failed === 0 ? `${report.passed} passed` : `**${report.failed} failed**`} | ` +
        `${refused === undefined ? '?' : refused ? '`true` (the runtime hides why)' : '`false`'} |`,
    );
  }
  return lines.join('\n');
}
