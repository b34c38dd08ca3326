// README's usage example is the file the typecheck compiles, so it cannot rot.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
it.each(['refresh.ts', 'refresh-historical.ts', 'token-manager.ts', 'redis-fleet.ts'])('README shows examples/%s verbatim', (file) => {
  const example = readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8');
  expect(readme).toContain('```ts\n' + example + '```');
});

it('README starts with the install-and-run and the test commands', () => {
  const firstBlock = readme.split('```sh\n')[1]!.split('```')[0]!;
  expect(firstBlock).toMatch(/^npm install && npm start\b/m);
  expect(firstBlock).toMatch(/^npm test\b/m);
});

it("README's bench:fleet settings are the ones bench/fleet.ts reads", () => {
  const bench = readFileSync(new URL('../bench/fleet.ts', import.meta.url), 'utf8');
  const named = [...new Set(readme.match(/\bBENCH_FLEET_[A-Z]+\b/g))];
  expect(named).toEqual(expect.arrayContaining(['BENCH_FLEET_ROUNDS', 'BENCH_FLEET_SIZES', 'BENCH_FLEET_STORES']));
  for (const name of named) expect(bench).toContain(`process.env.${name} ??`);
});
