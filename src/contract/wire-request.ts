// Turns a probe into the request as sent: the current token in each security header (or
// none, or ''), and, when the run signs, the signature headers from the package's own signer
// over the exact bytes sent (a wrong one for the bad-signature probe).
import type { Signer } from '../client/signing.js';
import type { SentRequest } from './exchange.js';
import type { ProbeRequest } from './probes.js';

export interface Signing {
  signer: Signer;
  /** Unix seconds for the next signed request; never the same twice (a reused one is refused, 403202). */
  nextTimestamp(): Promise<number>;
}

const encoder = new TextEncoder();

export async function wireRequest(probe: ProbeRequest, securityHeaders: string[], token: string, signing?: Signing): Promise<SentRequest> {
  const headers: Record<string, string> = {};
  const authorization = probe.credentials === 'token' ? token : probe.credentials === 'empty' ? '' : undefined;
  if (authorization !== undefined) for (const name of securityHeaders) headers[name] = authorization;
  Object.assign(headers, probe.headers);
  const body = probe.body === undefined ? undefined : encoder.encode(probe.body);
  if (signing && probe.signature !== 'none') {
    const url = new URL(probe.url);
    // `runtimes` may make sign() synchronous in Node: awaiting covers both.
    const signed = await signing.signer.sign({
      method: probe.method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      body,
      accessToken: authorization ?? '',
      timestamp: await signing.nextTimestamp(),
    });
    Object.assign(headers, signed);
    if (probe.signature === 'bad') headers['X-Api-Signature'] = tampered(signed['X-Api-Signature']);
  }
  return { method: probe.method, url: probe.url, headers, ...(body ? { body } : {}) };
}

/** The same header with the signature's last hex digit changed. */
function tampered(header: string): string {
  const last = header.slice(-1);
  return header.slice(0, -1) + (last === '0' ? '1' : '0');
}
