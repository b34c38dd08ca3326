// `npm run bench` (not part of `npm test`): per-call cost of the client against bare fetch and
// openapi-fetch used plainly, on the reply shapes real servers send (Content-Length, chunked,
// gzip), unsigned and signed, measured side by side in one run against one loopback server in
// a separate process (bench/server.mjs), interleaved in short blocks in random order. For each
// round it takes each variant's median call (CPU of this process, and wall time) and its mean
// CPU per call; it prints their medians over the rounds with the interquartile range, and the
// per-round ratios to bare fetch on the same reply shape; asserts nothing.
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import createClient from 'openapi-fetch';
import type { paths } from '../generated/openapi.js';
import { clientRefresh, createTokenClient, TokenManager } from '../src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const CALLS = Number(process.env.BENCH_CALLS ?? 200); // per variant per round
// Consecutive calls of one variant per turn. 1 alternates variants call by call: each variant's
// own code (signing is only the signed variant's) then runs with the caches its four rivals
// left behind, while undici's fetch, shared by all five, stays warm; that is no user's process.
const BLOCK = Number(process.env.BENCH_BLOCK ?? 20);
if (!Number.isInteger(BLOCK) || BLOCK < 1 || CALLS % BLOCK !== 0) throw new Error(`BENCH_BLOCK must be a whole number that divides BENCH_CALLS (${CALLS}), got ${process.env.BENCH_BLOCK}`);
const root = fileURLToPath(new URL('..', import.meta.url));
execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'ignore' }); // the cold-import rows import dist/

const server = fork(fileURLToPath(new URL('./server.mjs', import.meta.url)), { stdio: 'inherit' });
const { port } = await new Promise<{ port: number }>((resolve) => server.once('message', resolve as never));
const origin = `http://127.0.0.1:${port}`;
const expiredAt = '2099-04-14T12:13:57.859Z';
const bodyText = JSON.stringify({ aaid: '20001', expired_at: expiredAt });
const contentType = 'application/json; charset=utf-8';
const headers = { Authorization: 'ACCESSTOKEN', 'Content-Type': contentType, 'Account-Channel': 'lb' };
const keys = { appKey: 'APPKEY', appSecret: 'APPSECRET' };

const SHAPES = { 'Content-Length': 'cl', chunked: 'chunked', gzip: 'gzip' } as const;
type Shape = keyof typeof SHAPES;
/** The targets on the median CPU ratio to bare fetch (issue 12). */
const TARGETS: Record<string, number> = { 'client.refreshToken unsigned': 1.05, 'client.refreshToken signed': 1.15 };

function variantsFor(baseUrl: string): Record<string, () => Promise<unknown>> {
  const url = `${baseUrl}/v1/openapi/token/refresh`;
  const plain = createClient<paths>({ baseUrl, headers: { Authorization: 'ACCESSTOKEN', 'Content-Type': contentType } });
  const unsigned = createTokenClient({ accessToken: 'ACCESSTOKEN', accountChannel: 'lb', baseUrl });
  const signed = createTokenClient({ accessToken: 'ACCESSTOKEN', accountChannel: 'lb', baseUrl, ...keys });
  const withMiddleware = createTokenClient({ accessToken: 'ACCESSTOKEN', accountChannel: 'lb', baseUrl });
  withMiddleware.api.use({ onRequest: () => undefined }); // a no-op middleware
  const params = { header: { 'Account-Channel': 'lb' as const } };
  return {
    'bare fetch (same bytes)': async () => JSON.parse(await (await fetch(url, { method: 'POST', headers, body: bodyText })).text()),
    'openapi-fetch used plainly': () => plain.POST('/v1/openapi/token/refresh', { params, body: { aaid: '20001', expired_at: expiredAt } }),
    'client.refreshToken unsigned': () => unsigned.refreshToken({ aaid: '20001', expiredAt }),
    'client.refreshToken signed': () => signed.refreshToken({ aaid: '20001', expiredAt }),
    'client.api + no-op middleware': () => withMiddleware.api.POST('/v1/openapi/token/refresh', { params, body: { aaid: '20001', expired_at: expiredAt } }),
  };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  return s[Math.floor(at)]! + (s[Math.ceil(at)]! - s[Math.floor(at)]!) * (at - Math.floor(at));
};
const median = (xs: number[]) => quantile(xs, 0.5);
const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;

const runs = new Map<string, { shape: Shape; variant: string; run: () => Promise<unknown>; wall: number[]; cpu: number[]; cpuMean: number[] }>();
for (const [shape, segment] of Object.entries(SHAPES) as Array<[Shape, string]>) {
  for (const [variant, run] of Object.entries(variantsFor(`${origin}/${segment}`))) {
    runs.set(`${shape}\t${variant}`, { shape, variant, run, wall: [], cpu: [], cpuMean: [] });
  }
}
for (const { run } of runs.values()) for (let i = 0; i < 50; i++) await run(); // warm up
// Interleaved in blocks: within a round, each shape's variants take turns, BLOCK calls each
// (about 15 ms), in a fresh random order per turn (a fixed rotation would always put the same
// variant after the same one). Drift in the machine's speed (load, frequency) so falls on every
// variant alike, and each variant runs as in a process that makes that call: its own code warm.
// Each call's CPU and wall time is read around it. Per round and variant two figures: the
// median call (the typical call's own work; a block's first, colder call does not move it) and
// the mean (everything, GC and background threads included, which land on whichever call is
// running: heavy-tailed, so it needs far more rounds to settle).
let seed = 0x2545f491;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const shuffled = <T>(items: T[]) => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
};
const shapes = Object.keys(SHAPES) as Shape[];
for (let round = 0; round < ROUNDS; round++) {
  for (const shape of shuffled([...shapes])) {
    const entries = [...runs.values()].filter((entry) => entry.shape === shape);
    const calls = entries.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
    for (let turn = 0; turn < CALLS / BLOCK; turn++) {
      for (const at of shuffled(entries.map((_, k) => k))) for (let i = 0; i < BLOCK; i++) {
        const cpu0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await entries[at]!.run();
        const t1 = process.hrtime.bigint();
        const cpu = process.cpuUsage(cpu0);
        calls[at]!.wall.push(Number(t1 - t0) / 1e3);
        calls[at]!.cpu.push(cpu.user + cpu.system);
      }
    }
    entries.forEach((entry, at) => {
      entry.cpu.push(median(calls[at]!.cpu));
      entry.cpuMean.push(mean(calls[at]!.cpu));
      entry.wall.push(median(calls[at]!.wall));
    });
  }
}

const spread = (xs: number[], digits: number) => `${quantile(xs, 0.25).toFixed(digits)}–${quantile(xs, 0.75).toFixed(digits)}`;
const cell = (xs: number[], digits: number, width: number) => `${median(xs).toFixed(digits)} (${spread(xs, digits)})`.padStart(width);

console.log(`per call (µs), client-process CPU and wall: median (interquartile range) over ${ROUNDS} rounds of ${CALLS} calls per variant,`);
console.log(`interleaved in random order, ${BLOCK === 1 ? 'call by call' : `${BLOCK} calls of a variant at a time`}. cpu: the median call of a round; cpu mean: all CPU of the round per call.`);
console.log('ratios: per round, to bare fetch on the same reply shape. Target (issue 12) on the median over rounds of the cpu ratio.');
for (const shape of Object.keys(SHAPES) as Shape[]) {
  const base = runs.get(`${shape}\tbare fetch (same bytes)`)!;
  console.log(`\nreply: ${shape}`);
  console.log(
    `${'variant'.padEnd(32)} ${'cpu'.padStart(20)} ${'cpu ratio'.padStart(17)} ${'cpu mean ratio'.padStart(17)} ${'wall ratio'.padStart(17)}  target`,
  );
  for (const entry of runs.values()) {
    if (entry.shape !== shape) continue;
    const ratio = (xs: number[], of: number[]) => xs.map((x, i) => x / of[i]!);
    const cpuRatio = ratio(entry.cpu, base.cpu);
    const target = TARGETS[entry.variant];
    const verdict = target === undefined ? '' : `≤ ${target.toFixed(2)} ${median(cpuRatio) <= target ? 'met' : 'NOT met'}`;
    console.log(
      `${entry.variant.padEnd(32)} ${cell(entry.cpu, 1, 20)} ${cell(cpuRatio, 2, 17)} ${cell(ratio(entry.cpuMean, base.cpuMean), 2, 17)} ${cell(ratio(entry.wall, base.wall), 2, 17)}  ${verdict}`,
    );
  }
}

// TokenManager.getToken() with a cached token: the hot path, in ns per call.
const cachedManager = new TokenManager({ refresh: async () => ({ token: 'never', expiresAt: '2099-01-01T00:00:00Z' }), initial: { token: 'T', expiresAt: Date.now() + 30 * 24 * 3600 * 1000 } });
await cachedManager.getToken(); // loads the store once
const hot = { call: [] as number[], awaited: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  const n = 200_000;
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) void cachedManager.getToken();
  hot.call.push(Number(process.hrtime.bigint() - t0) / n);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await cachedManager.getToken();
  hot.awaited.push(Number(process.hrtime.bigint() - t0) / n);
}
console.log(`\nTokenManager.getToken() with a cached token (ns per call, median of ${ROUNDS} rounds × 200 000)`);
console.log(`${'getToken() (returns the cached promise)'.padEnd(44)} ${median(hot.call).toFixed(1).padStart(8)}`);
console.log(`${'await getToken()'.padEnd(44)} ${median(hot.awaited).toFixed(1).padStart(8)}`);

// Fan-in: 10 000 concurrent getToken() on a token inside the refresh window → one request.
const requestsSoFar = () =>
  new Promise<number>((resolve) => {
    server.once('message', (m: { requests: number }) => resolve(m.requests));
    server.send('count');
  });
const FAN_IN = 10_000;
console.log(`\nfan-in: ${FAN_IN} concurrent getToken() on an expiring token vs one caller (median of ${ROUNDS} rounds)`);
for (const [label, refreshBase] of [['loopback, immediate reply', `${origin}/cl`], ['reply after 20 ms (a real network)', `${origin}/slow`]] as const) {
  const fanIn = { single: [] as number[], fan: [] as number[], requests: [] as number[] };
  const expiringManager = () =>
    new TokenManager({ refresh: clientRefresh({ accountChannel: 'lb', baseUrl: refreshBase }), initial: { token: 'EXPIRING', expiresAt: Date.now() + 60_000 } });
  for (let round = 0; round < ROUNDS; round++) {
    const one = expiringManager();
    let t0 = process.hrtime.bigint();
    await one.getToken();
    fanIn.single.push(Number(process.hrtime.bigint() - t0) / 1e3);
    const many = expiringManager();
    const before = await requestsSoFar();
    t0 = process.hrtime.bigint();
    const tokens = await Promise.all(Array.from({ length: FAN_IN }, () => many.getToken()));
    fanIn.fan.push(Number(process.hrtime.bigint() - t0) / 1e3);
    fanIn.requests.push((await requestsSoFar()) - before);
    if (new Set(tokens).size !== 1) throw new Error('callers got different tokens');
  }
  const [single, fan] = [median(fanIn.single), median(fanIn.fan)];
  console.log(
    `${label.padEnd(36)} requests per round: ${[...new Set(fanIn.requests)].join(', ')}; one caller ${single.toFixed(0)} µs, ${FAN_IN} callers ${fan.toFixed(0)} µs, ratio ${(fan / single).toFixed(2)}`,
  );
}

server.send('stop');

// Cold import: a fresh Node process imports the built package, or openapi-fetch alone, by
// name as a consumer does (resolution included; the package resolves itself through its
// `exports`); interleaved, the time of the import() itself, median of IMPORTS runs each.
const IMPORTS = Number(process.env.BENCH_IMPORTS ?? 21);
// Also by path: the built entry, and a one-line module that only imports openapi-fetch — the
// fixed cost of a second module that resolves and loads openapi-fetch, without our code.
mkdirSync(`${root}.tmp`, { recursive: true });
writeFileSync(`${root}.tmp/imports-openapi-fetch.mjs`, "import 'openapi-fetch';\n");
const targets = {
  'longbridge-token-api': 'longbridge-token-api',
  'openapi-fetch alone': 'openapi-fetch',
  'dist/index.js (by path)': `${root}dist/index.js`,
  'a module that only imports openapi-fetch': `${root}.tmp/imports-openapi-fetch.mjs`,
};
const importTimes = new Map<string, number[]>(Object.keys(targets).map((k) => [k, []]));
for (let i = 0; i < IMPORTS; i++) {
  for (const [name, file] of Object.entries(targets)) {
    const script = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
    importTimes.get(name)!.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: root })));
  }
}
const importBase = median(importTimes.get('openapi-fetch alone')!);
console.log(`\ncold import, median of ${IMPORTS} fresh processes each (ms); ratio to openapi-fetch alone`);
for (const [name, times] of importTimes) console.log(`${name.padEnd(44)} ${median(times).toFixed(2).padStart(7)} ${(median(times) / importBase).toFixed(2).padStart(6)}`);
