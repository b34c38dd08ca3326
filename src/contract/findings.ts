// What a developer should act on, from the checks: when every probe got the same outcome
// (every reply a redirect, an HTML page, the same error code, no reply at all), that is one
// finding, not one per probe; otherwise the failed checks, those with the same complaint
// about the same thing grouped into one.
import { errorCodes } from '../../generated/error-codes.js';
import { unparsedBody, type CheckResult } from './checks.js';
import type { Exchange } from './exchange.js';
import { mediaTypeEssence } from './spec-operation.js';

export interface Finding {
  /** One line, e.g. `every reply (31 of 31) was a redirect (HTTP 301 to https://…)`. */
  summary: string;
  /** The failed checks it explains. */
  checks: string[];
  /** True when it stands for every probe's outcome. */
  uniform?: boolean;
}

/** `exchanges` in the order sent; `checks` all checks of the run. */
export function findingsOf(exchanges: Exchange[], checks: CheckResult[]): Finding[] {
  const failed = checks.filter((check) => check.outcome === 'fail');
  if (failed.length === 0) return [];
  const outcomes = exchanges.map(outcomeOf);
  if (outcomes.length >= 2 && outcomes.every((o) => o.key === outcomes[0]!.key)) {
    return [{ summary: `every reply (${outcomes.length} of ${outcomes.length}) was ${outcomes[0]!.description}`, checks: failed.map((c) => c.id), uniform: true }];
  }
  const groups = new Map<string, Finding>();
  for (const check of failed) {
    const key = `${check.check}\n${check.detail}`;
    const group = groups.get(key);
    if (group) group.checks.push(check.id);
    else groups.set(key, { summary: check.detail, checks: [check.id] });
  }
  return [...groups.values()].map((group) =>
    group.checks.length === 1 ? { ...group, summary: `${group.checks[0]}: ${group.summary}` } : { ...group, summary: `${group.checks.length} requests: ${group.summary} (${group.checks.join(', ')})` },
  );
}

/** What one exchange came to, as a key equal for equal outcomes and words for the report. */
function outcomeOf(exchange: Exchange): { key: string; description: string } {
  const response = exchange.response;
  if (!response) return { key: `error ${exchange.error}`, description: `no reply: ${exchange.error}` };
  const { status } = response;
  const type = response.headers['content-type'];
  if (status >= 300 && status < 400) {
    const location = response.headers.location;
    return {
      key: `redirect ${status}`,
      description: `a redirect (HTTP ${status}${location ? ` to ${location}` : ''}): the suite does not follow redirects; give the final URL as --base-url`,
    };
  }
  if (type !== undefined && mediaTypeEssence(type) === 'text/html') {
    return { key: `html ${status}`, description: `an HTML page (HTTP ${status}, ${type}), not the API: check --base-url, or a proxy in front of the server` };
  }
  if (!('json' in response)) return { key: `unparsed ${status} ${unparsedBody(response)}`, description: `HTTP ${status}, and ${unparsedBody(response)}` };
  const code = (response.json as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && code !== 0) {
    const known = errorCodes[code];
    return {
      key: `code ${status} ${code}`,
      description: `refused with ${code}${known ? ` (${known.kind}): ${known.hint}` : ''} (HTTP ${status})`,
    };
  }
  if (code === 0) return { key: `success ${status}`, description: `a success (code 0, HTTP ${status}) whatever the request: the server checks nothing the spec asks for` };
  return { key: `status ${status} ${type}`, description: `HTTP ${status} (${type ?? 'no Content-Type'})` };
}
