// Removes secrets from exchanges before anything is printed or written: the access token
// (the security headers are always replaced, and the token is scrubbed wherever a server
// echoes it) and every token a server issued (`data.token`, and that value anywhere else).
import type { Exchange } from './exchange.js';

import { REDACTED, scrubOrWithhold } from '../redact.js';

export { REDACTED };

/** Longest body kept in a report, in characters. */
export const MAX_REPORTED_BODY = 16_384;


export interface PrintableRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface PrintableResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** True when the body was cut (by the transport limit or MAX_REPORTED_BODY). */
  truncated: boolean;
}

export interface PrintableExchange {
  request: PrintableRequest;
  response?: PrintableResponse;
  error?: string;
}

export interface Redactor {
  exchange(exchange: Exchange): PrintableExchange;
  text(value: string): string;
}

/**
 * `secretHeaders`: request headers whose value is never shown (e.g. Authorization).
 * `secrets`: values scrubbed from all text (the access token); issued tokens found in the
 * exchanges are added to them.
 */
export function createRedactor(options: { secretHeaders: string[]; secrets: string[]; exchanges: Exchange[] }): Redactor {
  const hidden = new Set(options.secretHeaders.map((name) => name.toLowerCase()));
  const secrets = [...options.secrets, ...options.exchanges.flatMap((e) => issuedToken(e.response?.json))];
  const text = (value: string) => scrubOrWithhold(value, secrets, `<withheld: ${value.length} characters holding a secret too short to scrub>`);
  const headers = (values: Record<string, string>, alwaysHidden: Set<string>) =>
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, alwaysHidden.has(name.toLowerCase()) ? REDACTED : text(value)]));

  return {
    text,
    exchange({ request, response, error }) {
      const printable: PrintableExchange = {
        request: { method: request.method, url: text(request.url), headers: headers(request.headers, hidden), body: text(request.body) },
      };
      if (error !== undefined) printable.error = text(error);
      if (response) {
        const body = text(bodyWithoutToken(response.json, response.body));
        printable.response = {
          status: response.status,
          headers: headers(response.headers, new Set(['set-cookie'])),
          body: body.slice(0, MAX_REPORTED_BODY),
          truncated: response.truncated || body.length > MAX_REPORTED_BODY,
        };
      }
      return printable;
    },
  };
}

function issuedToken(json: unknown): string[] {
  const token = (json as { data?: { token?: unknown } } | null | undefined)?.data?.token;
  return typeof token === 'string' ? [token] : [];
}

/** The body as sent, or, when it carries `data.token`, re-serialized with the token replaced. */
function bodyWithoutToken(json: unknown, raw: string): string {
  const data = (json as { data?: unknown } | null | undefined)?.data;
  if (typeof data !== 'object' || data === null || !('token' in data)) return raw;
  const token = (data as { token: unknown }).token;
  const shown = typeof token === 'string' ? `<redacted token, ${token.length} chars>` : token;
  return JSON.stringify({ ...(json as object), data: { ...data, token: shown } });
}
