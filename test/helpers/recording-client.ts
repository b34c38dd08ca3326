// A client whose `fetch` records what would be sent and answers without a network: for tests
// that prove what is sent, or that nothing is.
import { createTokenClient } from '../../src/index.js';
import { successEnvelope } from './loopback-server.js';

export const NOW = Date.parse('2026-11-25T00:00:00Z');

export interface Recorded {
  url: string;
  headers: Headers;
  /** The body as text ('' when none). */
  body: string;
}

/** A client on a fixed clock (NOW) with `extra` options; `reply` answers every request (default: a success envelope). */
export function recordingClient(extra: Record<string, unknown> = {}, reply = () => new Response(JSON.stringify(successEnvelope), { headers: { 'Content-Type': 'application/json' } })) {
  const sent: Recorded[] = [];
  const client = createTokenClient({
    accessToken: 'T',
    accountChannel: 'lb',
    baseUrl: 'http://127.0.0.1:9',
    now: () => NOW,
    fetch: (async (url: string, init: RequestInit) => {
      const body = init.body === undefined || init.body === null ? '' : typeof init.body === 'string' ? init.body : new TextDecoder().decode(init.body as Uint8Array);
      sent.push({ url, headers: new Headers(init.headers), body });
      return reply();
    }) as typeof fetch,
    ...extra,
  } as Parameters<typeof createTokenClient>[0] & { accountChannel: 'lb' });
  return { client, sent };
}
