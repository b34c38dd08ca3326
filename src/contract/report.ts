// Renders a contract report: readable text (each check, pass or fail; for a failure or a
// warning the exact request, the response and the spec rules broken; at the end what to act
// on) or JSON. Reports are built from already-redacted exchanges (see redact.ts).
import type { PrintableExchange } from './redact.js';
import type { ContractReport, ProbeReport } from './run.js';

const LABEL = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP' } as const;

export function renderText(report: ContractReport): string {
  const lines: string[] = [
    `Contract suite: ${report.operations.map((o) => `${o.operationId} (${o.method} ${o.path})`).join(', ')}`,
    `  spec:   ${report.spec}`,
    `  server: ${report.baseUrl}`,
    `  signed: ${report.signed ? 'yes (X-Api-Key, X-Timestamp, X-Api-Signature)' : 'no'}`,
    `  token:  ${tokenLine(report.token)}`,
    '',
  ];
  if (report.unreachable) return `${[...lines, `NOT RUN: ${report.unreachable}`].join('\n')}\n`;
  const uniform = report.findings.find((finding) => finding.uniform);
  if (uniform) {
    // One outcome for every request: say it once, with one request and its reply.
    const sample = report.probes[0]!;
    lines.push('Every request got the same reply, so this is one finding, not one per request:', `  FAIL  ${uniform.summary}`);
    lines.push(...indent(exchangeLines(sample.exchange), '  '), '');
  } else {
    const width = Math.max(...report.probes.flatMap((probe) => probe.checks.map((check) => check.id.length)));
    let operation = '';
    for (const probe of report.probes) {
      if (probe.operationId !== operation) {
        operation = probe.operationId;
        const o = report.operations.find((op) => op.operationId === operation)!;
        lines.push(`== ${o.operationId}: ${o.method} ${o.path}${o.liveForm ? ' (the live form)' : ''}`, '');
      }
      lines.push(...probeLines(probe, width), '');
    }
  }
  const { summary } = report;
  lines.push(
    `${report.ok ? 'PASSED' : 'FAILED'}: ${summary.checks} checks, ${summary.passed} passed, ${summary.failed} failed, ` +
      `${summary.warnings} warning${summary.warnings === 1 ? '' : 's'}, ${summary.skipped} skipped${report.strict ? ' (strict)' : ''}`,
  );
  if (report.failed.length && !uniform) lines.push(`Failed: ${report.failed.join(', ')}`);
  if (report.warnings.length) lines.push(`Warnings: ${report.warnings.join(', ')}`);
  if (report.findings.length && !uniform) lines.push('Findings:', ...report.findings.map((finding) => `  - ${finding.summary}`));
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: ContractReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function tokenLine(token: ContractReport['token']): string {
  const from = token.from === 'token-file' ? 'read from the --token-out file' : 'from --access-token or LONGBRIDGE_ACCESS_TOKEN';
  const saved = token.savedTo ? `, the last saved to ${token.savedTo}` : token.saveError ? `, the last NOT saved: ${token.saveError}` : '';
  return `${from}; ${token.issued} issued by the server${saved} (tokens are never shown)`;
}

function probeLines(probe: ProbeReport, width: number): string[] {
  const lines = [`${probe.name}: ${probe.title}${probe.breaks ? `  [breaks ${probe.breaks}]` : ''}`];
  for (const check of probe.checks) {
    lines.push(`  ${LABEL[check.outcome]}  ${check.id.padEnd(width)}  ${check.detail}`);
    for (const rule of check.rules) {
      lines.push(`          spec rule ${rule.location}${rule.instancePath ? ` at ${rule.instancePath}` : ''}: ${rule.message}`);
    }
  }
  if (probe.checks.some((check) => check.outcome === 'fail' || check.outcome === 'warn')) {
    lines.push(...indent(exchangeLines(probe.exchange), '  '));
  }
  return lines;
}

/** The exact request and the response, as HTTP-like text. */
export function exchangeLines(exchange: PrintableExchange): string[] {
  const { request, response, error } = exchange;
  const lines = [
    'request:',
    `  ${request.method} ${request.url}`,
    ...Object.entries(request.headers).map(([name, value]) => `  ${name}: ${value}`),
    ...(request.body === undefined ? [] : ['', `  ${request.body}`]),
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
    ...(response.truncated && response.shown ? ['  … (body truncated)'] : []),
  ];
}

function indent(lines: string[], prefix: string): string[] {
  return lines.map((line) => (line === '' ? line : `${prefix}${line}`));
}
