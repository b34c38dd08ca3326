// Where the client sends: the region's host from the spec's servers, or baseUrl; never the
// environment. And accountChannel is needed only by refreshToken, the historical form.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clientRefresh, createTokenClient, DEFAULT_BASE_URL, InvalidInputError, REGION_BASE_URLS } from '../src/index.js';
import { successEnvelope } from './helpers/loopback-server.js';

const root = new URL('..', import.meta.url).pathname;

function recording(options: Record<string, unknown>) {
  const urls: string[] = [];
  const client = createTokenClient({
    accessToken: 'T',
    fetch: (async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify(successEnvelope), { headers: { 'Content-Type': 'application/json' } });
    }) as typeof fetch,
    ...options,
  });
  return { client, urls };
}

describe('region', () => {
  it('the hosts are the spec’s servers that name a region (x-region), the global one the default', () => {
    const servers = (parse(readFileSync(join(root, 'openapi.yaml'), 'utf8')) as { servers: Array<{ url: string; 'x-region'?: string }> }).servers;
    const named = Object.fromEntries(servers.filter((s) => s['x-region']).map((s) => [s['x-region'], s.url]));
    expect(REGION_BASE_URLS).toEqual(named);
    expect(REGION_BASE_URLS).toEqual({ global: 'https://openapi.longbridge.com', cn: 'https://openapi.longbridge.cn' });
    expect(DEFAULT_BASE_URL).toBe(REGION_BASE_URLS.global);
  });

  it.each([
    [{ region: 'cn' }, 'https://openapi.longbridge.cn/v1/token/refresh?'],
    [{ region: 'global' }, 'https://openapi.longbridge.com/v1/token/refresh?'],
    [{}, 'https://openapi.longbridge.com/v1/token/refresh?'],
    [{ baseUrl: 'https://gateway.example.com/lb' }, 'https://gateway.example.com/lb/v1/token/refresh?'],
  ])('%o sends to %s', async (options, prefix) => {
    const { client, urls } = recording(options);
    await client.refreshAccessToken();
    expect(urls).toHaveLength(1);
    expect(urls[0]!.startsWith(prefix)).toBe(true);
  });

  it.each([
    { options: { region: 'cn', baseUrl: 'https://openapi.longbridge.cn' }, says: 'cannot be combined with baseUrl' },
    { options: { region: 'hk' }, says: 'must be "global" or "cn", got "hk"' },
    { options: { region: 'CN' }, says: 'must be "global" or "cn"' },
    { options: { region: 1 }, says: 'got number' },
  ])('refuses $options', ({ options, says }) => {
    const create = () => createTokenClient({ accessToken: 'T', ...options } as never);
    expect(create).toThrow(InvalidInputError);
    expect(create).toThrow(expect.objectContaining({ field: 'region', message: expect.stringContaining(says) }));
  });
});

describe('the library reads no environment', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('LONGBRIDGE_HTTP_URL, LONGBRIDGE_REGION and the LONGPORT_ names change nothing', async () => {
    Object.assign(process.env, {
      LONGBRIDGE_HTTP_URL: 'https://elsewhere.example.com',
      LONGBRIDGE_REGION: 'cn',
      LONGPORT_HTTP_URL: 'https://elsewhere.example.com',
      LONGPORT_REGION: 'cn',
      LONGBRIDGE_ACCESS_TOKEN: 'FROM-THE-ENV',
    });
    const { client, urls } = recording({});
    await client.refreshAccessToken();
    expect(urls[0]!.startsWith('https://openapi.longbridge.com/')).toBe(true);
  });

  it('no module of the main entry mentions process.env', () => {
    const files = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
    const entry = [...files('src/client'), ...files('src/errors'), ...files('src/lifecycle'), 'src/index.ts', 'src/redact.ts', 'src/credential.ts', 'src/instant.ts'];
    for (const file of entry) expect(readFileSync(join(root, file), 'utf8'), file).not.toMatch(/process\.env/);
  });
});

describe('accountChannel is needed only by refreshToken', () => {
  it('a client without it refreshes by the live form', async () => {
    const { client, urls } = recording({});
    await expect(client.refreshAccessToken()).resolves.toMatchObject({ token: successEnvelope.data.token });
    expect(urls).toHaveLength(1);
  });

  it('a plain-JS refreshToken on it rejects with InvalidInputError accountChannel, nothing sent', async () => {
    const { client, urls } = recording({});
    const call = (client as unknown as { refreshToken: (input: unknown) => Promise<unknown> }).refreshToken({ aaid: '20001', expiredAt: '2099-01-01T00:00:00Z' });
    await expect(call).rejects.toBeInstanceOf(InvalidInputError);
    await expect(call).rejects.toMatchObject({ field: 'accountChannel', message: expect.stringContaining('refreshAccessToken') });
    expect(urls).toHaveLength(0);
  });

  it('clientRefresh with aaid (the historical form) and no channel is refused at once', () => {
    expect(() => clientRefresh({ aaid: '20001' })).toThrow(expect.objectContaining({ name: 'InvalidInputError', field: 'accountChannel' }));
    expect(() => clientRefresh({})).not.toThrow();
  });
});
