// Entry point of the contract suite (`npm run contract`, bin `longbridge-token-contract`).
import { writeFileSync } from 'node:fs';
import { parseCliArgs, USAGE } from './cli-options.js';
import { renderJson, renderText } from './report.js';
import { runContractSuite } from './run.js';

/** As the token CLI exits for a network error (src/cli/exit-codes.ts). */
export const EXIT_UNREACHABLE = 13;

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let report;
  try {
    report = await runContractSuite(options.suite);
  } catch (error) {
    process.stderr.write(`contract suite not run: ${(error as Error).message}\n`);
    return 2;
  }
  if (options.jsonFile) writeFileSync(options.jsonFile, renderJson(report));
  if (report.unreachable) {
    if (options.json) process.stdout.write(renderJson(report));
    process.stderr.write(`contract suite not run: ${report.unreachable}\n`);
    return EXIT_UNREACHABLE;
  }
  process.stdout.write(options.json ? renderJson(report) : renderText(report));
  if (report.token.saveError) process.stderr.write(`warning: the last token issued was not saved: ${report.token.saveError}\n`);
  return report.ok ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
