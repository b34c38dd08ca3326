// Renders a contract report: readable text (each check, pass or fail; for a failure or a
// warning the exact request, the response and the spec rules broken) or JSON. Reports are
// built from already-redacted exchanges (see redact.ts).
import type { PrintableExchange } from './redact.js';
import type { ContractReport } from './run.js';

const LABEL = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP' } as const;

export function renderText(report: ContractReport): string {
  const lines: string[] = [
    `Contract suite: ${report.operation.operationId} (${report.operation.method} ${report.operation.path})`,
    `  spec:   ${report.spec}`,
    `  server: ${report.baseUrl}`,
    '',
  ];
  const width = Math.max(...report.probes.flatMap((probe) => probe.checks.map((check) => check.id.length)));
  for (const probe of report.probes) {
    lines.push(`${probe.name}: ${probe.title}${probe.breaks ? `  [breaks ${probe.breaks}]` : ''}`);
    for (const check of probe.checks) {
      lines.push(`  ${LABEL[check.outcome]}  ${check.id.padEnd(width)}  ${check.detail}`);
      for (const rule of check.rules) {
        lines.push(`          spec rule ${rule.location}${rule.instancePath ? ` at ${rule.instancePath || '/'}` : ''}: ${rule.message}`);
      }
    }
    if (probe.checks.some((check) => check.outcome === 'fail' || check.outcome === 'warn')) {
      lines.push(...indent(exchangeLines(probe.exchange), '  '));
    }
    lines.push('');
  }
  const { summary } = report;
  lines.push(
    `${report.ok ? 'PASSED' : 'FAILED'}: ${summary.checks} checks, ${summary.passed} passed, ${summary.failed} failed, ` +
      `${summary.warnings} warning${summary.warnings === 1 ? '' : 's'}, ${summary.skipped} skipped${report.strict ? ' (strict)' : ''}`,
  );
  if (report.failed.length) lines.push(`Failed: ${report.failed.join(', ')}`);
  if (report.warnings.length) lines.push(`Warnings: ${report.warnings.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: ContractReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The exact request and the response, as HTTP-like text. */
export function exchangeLines(exchange: PrintableExchange): string[] {
  const { request, response, error } = exchange;
  const lines = [
    'request:',
    `  ${request.method} ${request.url}`,
    ...Object.entries(request.headers).map(([name, value]) => `  ${name}: ${value}`),
    '',
    `  ${request.body}`,
  ];
  if (error !== undefined) return [...lines, `response: none (${error})`];
  if (!response) return lines;
  return [
    ...lines,
    'response:',
    `  HTTP ${response.status}`,
    ...Object.entries(response.headers).map(([name, value]) => `  ${name}: ${value}`),
    '',
    ...indent(response.body === '' ? ['(empty body)'] : response.body.split('\n'), '  '),
    ...(response.truncated ? ['  … (body truncated)'] : []),
  ];
}

function indent(lines: string[], prefix: string): string[] {
  return lines.map((line) => (line === '' ? line : `${prefix}${line}`));
}
