// A fetch for the command-line tools that honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY (and
// their lowercase forms), as curl and most CLIs do. Node's own fetch ignores them; undici's
// EnvHttpProxyAgent reads them (CONNECT tunnels through the proxy, NO_PROXY host and domain
// rules). The variables are read from `env`, not from process.env, so tests run in-process.
// undici is a devDependency bundled into the bins by tsup: the library entry never loads it.
import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import type { Env } from './base-url.js';

export const PROXY_ENV = ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'] as const;

/** `fetch(url, init)` through the proxies `env` names; without any, a direct connection. */
export function proxyAwareFetch(env: Env): typeof globalThis.fetch {
  const dispatcher = new EnvHttpProxyAgent({
    // '' rather than undefined: undici would otherwise fall back to process.env.
    httpProxy: variable(env, 'HTTP_PROXY') ?? '',
    httpsProxy: variable(env, 'HTTPS_PROXY') ?? '',
    noProxy: variable(env, 'NO_PROXY') ?? '',
  });
  return ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof globalThis.fetch;
}

/** The lowercase form first, as curl reads it; an empty variable counts as unset. */
function variable(env: Env, name: (typeof PROXY_ENV)[number]): string | undefined {
  for (const key of [name.toLowerCase(), name]) {
    const value = env[key];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}
