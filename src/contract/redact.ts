// Makes exchanges safe to print or write, through the one redaction module (../redact.ts):
// the security and signature headers are always replaced; every token the suite sent, every
// token a reply carried and the app secret are scrubbed wherever they appear; a parsed body
// is printed with every token value replaced; a body that does not parse is never printed,
// only its size, Content-Type and a SHA-256 prefix (it may hold a token the suite cannot
// find in it: a byte order mark in front, cut at 1 MiB, ...).
import { isTokenKey, REDACTED, scrubJson, scrubOrWithhold } from '../redact.js';
import { unparsedBody } from './checks.js';
import { lenientJson, type Exchange, type ReceivedResponse } from './exchange.js';

export { REDACTED };

/** Longest body kept in a report, in characters. */
export const MAX_REPORTED_BODY = 16_384;
/** Hex digits of a body's SHA-256 shown in place of a body that does not parse. */
const SHA256_SHOWN = 16;

export interface PrintableRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface PrintableResponse {
  status: number;
  headers: Record<string, string>;
  /** The parsed body with its tokens redacted, or a description of a body that does not parse. */
  body: string;
  /** False when `body` describes a body that is not shown. */
  shown: boolean;
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
 * `secretHeaders`: request headers whose value is never shown (Authorization, X-Api-Signature).
 * `secrets`: values scrubbed from all text (every token sent, the app secret); tokens found
 * in the exchanges' replies are added to them.
 */
export function createRedactor(options: { secretHeaders: string[]; secrets: Array<string | undefined>; exchanges: Exchange[] }): Redactor {
  const hidden = new Set(options.secretHeaders.map((name) => name.toLowerCase()));
  const secrets = [
    ...options.secrets,
    ...options.exchanges.flatMap((e) => Object.entries(e.request.headers).filter(([name]) => hidden.has(name.toLowerCase())).map(([, v]) => v)),
    ...options.exchanges.flatMap((e) => tokensIn(e.response)),
  ];
  const text = (value: string) => scrubOrWithhold(value, secrets, `<withheld: ${value.length} characters holding a secret too short to scrub>`);
  const headers = (values: Record<string, string>, alwaysHidden: Set<string>) =>
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, alwaysHidden.has(name.toLowerCase()) ? REDACTED : text(value)]));

  const responseBody = (response: ReceivedResponse): { body: string; shown: boolean } => {
    if (response.bytes === 0) return { body: '', shown: true };
    if (!('json' in response)) {
      const type = response.headers['content-type'] ?? 'none';
      return {
        body: `<body not shown: ${response.bytes} bytes${response.truncated ? ' or more' : ''}, Content-Type ${text(type)}, sha256 ${response.sha256.slice(0, SHA256_SHOWN)}…; ${unparsedBody(response)}>`,
        shown: false,
      };
    }
    const safe = scrubJson(response.json, secrets);
    return safe === undefined
      ? { body: `<body withheld: ${response.bytes} bytes holding a secret too short to scrub>`, shown: false }
      : { body: JSON.stringify(safe), shown: true };
  };

  return {
    text,
    exchange({ request, response, error }) {
      const printable: PrintableExchange = {
        request: {
          method: request.method,
          url: text(request.url),
          headers: headers(request.headers, hidden),
          ...(request.body ? { body: text(new TextDecoder().decode(request.body)) } : {}),
        },
      };
      if (error !== undefined) printable.error = text(error);
      if (response) {
        const { body, shown } = responseBody(response);
        printable.response = {
          status: response.status,
          headers: headers(response.headers, new Set(['set-cookie'])),
          body: body.slice(0, MAX_REPORTED_BODY),
          shown,
          truncated: response.truncated || body.length > MAX_REPORTED_BODY,
        };
      }
      return printable;
    },
  };
}

/** Every string under a key naming a token in a reply, also in a body that only parses without its BOM. */
function tokensIn(response: ReceivedResponse | undefined): string[] {
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        if (isTokenKey(key) && typeof child === 'string') found.push(child);
        else walk(child);
      }
    }
  };
  walk(lenientJson(response));
  return found;
}
