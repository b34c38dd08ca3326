// The spec's `x-semantics` rules, judged on a successful refresh: what the reply must say
// beyond its schema (the aaid and channel asked for echoed, a token other than the one
// sent, issued no later than it expires, expiring when asked). `near` (the expiry) is a
// warning unless strict, since a server may round or cap the lifetime it grants.
import { toEpochMs } from '../instant.js';
import type { SentRequest } from './exchange.js';
import type { SemanticRule, SemanticSource } from './spec-operation.js';
import { nodeAt } from './spec-pointer.js';

export interface SemanticVerdict {
  outcome: 'pass' | 'fail' | 'warn' | 'skip';
  detail: string;
  /** What the rule expects, for the report's `spec rule` line. */
  message: string;
}

export interface SemanticContext {
  /** How far `near` may be, in ms. */
  toleranceMs: number;
  strict: boolean;
}

/** Judges `rule` on `reply` (the parsed body) against the request that was sent. */
export function judge(rule: SemanticRule, reply: unknown, request: SentRequest, context: SemanticContext): SemanticVerdict {
  const got = nodeAt(reply as Record<string, unknown>, rule.reply);
  const other = sourceValue(rule.other, reply, request);
  const sourceName = describeSource(rule.other);
  const expects = {
    equals: `${rule.reply} must be ${sourceName}`,
    differs: `${rule.reply} must differ from ${sourceName}`,
    notAfter: `${rule.reply} must not be later than ${sourceName}`,
    near: `${rule.reply} must be within ${formatMs(context.toleranceMs)} of ${sourceName}`,
  }[rule.relation];
  const verdict = (outcome: SemanticVerdict['outcome'], detail: string): SemanticVerdict => ({ outcome, detail, message: expects });
  if (got === undefined) return verdict('skip', `the reply has no ${rule.reply} (see success-body)`);
  if (other === undefined) return verdict('skip', `the request sent no ${sourceName}`);
  // Never quote the values of a token rule: they are the tokens.
  const secret = /token/i.test(rule.reply);
  const show = (value: unknown) => (secret ? 'the token' : JSON.stringify(value));

  switch (rule.relation) {
    case 'equals':
      return got === other ? verdict('pass', `${rule.reply} ${show(got)} as sent`) : verdict('fail', `sent ${show(other)}, got ${rule.reply} ${show(got)}`);
    case 'differs':
      return got !== other
        ? verdict('pass', `${rule.reply} differs from ${sourceName}`)
        : verdict('fail', `${rule.reply} is ${secret ? 'the very token sent in' : 'the same as'} ${sourceName}: nothing was refreshed`);
    case 'notAfter':
    case 'near': {
      const [a, b] = [toEpochMs(got), toEpochMs(other)];
      if (Number.isNaN(a) || Number.isNaN(b)) return verdict('skip', `not both date-times: ${show(got)}, ${show(other)} (see success-body)`);
      if (rule.relation === 'notAfter') {
        return a <= b ? verdict('pass', `${show(got)} <= ${show(other)}`) : verdict('fail', `${rule.reply} ${show(got)} is after ${sourceName} ${show(other)}`);
      }
      const off = Math.abs(a - b);
      if (off <= context.toleranceMs) return verdict('pass', `${show(got)}, within ${formatMs(context.toleranceMs)} of the ${show(other)} asked for`);
      const detail = `${rule.reply} ${show(got)} is ${formatMs(off)} ${a < b ? 'before' : 'after'} the ${show(other)} asked for (tolerance ${formatMs(context.toleranceMs)})`;
      return context.strict ? verdict('fail', detail) : verdict('warn', `${detail}; only a warning without --strict`);
    }
  }
}

function sourceValue(source: SemanticSource, reply: unknown, request: SentRequest): unknown {
  if ('reply' in source) return nodeAt(reply as Record<string, unknown>, source.reply);
  if ('header' in source) {
    return Object.entries(request.headers).find(([name]) => name.toLowerCase() === source.header.toLowerCase())?.[1];
  }
  if ('query' in source) return new URL(request.url).searchParams.get(source.query) ?? undefined;
  if (!request.body) return undefined;
  try {
    return nodeAt(JSON.parse(new TextDecoder().decode(request.body)), source.body);
  } catch {
    return undefined;
  }
}

function describeSource(source: SemanticSource): string {
  if ('reply' in source) return source.reply;
  if ('header' in source) return `the ${source.header} sent`;
  if ('query' in source) return `the query's ${source.query}`;
  return `the body's ${source.body}`;
}

/** 300000 → `5 min`, 93784000 → `1 d 2 h 3 min 4 s`. */
export function formatMs(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['min', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.length ? parts.join(' ') : `${ms} ms`;
}
