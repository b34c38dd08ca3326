// TokenManager driven by the real client: the refresh is authorised with the current token,
// and the new token replaces it, in memory and in the store.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clientRefresh, MemoryTokenStore, TokenManager } from '../src/index.js';
import { reply, startLoopbackServer, successEnvelope, type LoopbackServer } from './helpers/loopback-server.js';

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer(reply(200, successEnvelope));
});
afterAll(() => server.close());

const NOW = Date.parse('2026-11-25T00:00:00Z');
const DAY = 24 * 3600 * 1000;

describe('clientRefresh', () => {
  it('refreshes through the live form with the current token and stores the new one', async () => {
    const store = new MemoryTokenStore();
    const manager = new TokenManager({
      refresh: clientRefresh({ accountChannel: 'lb', baseUrl: server.url, now: () => NOW, appKey: 'K', appSecret: 'S' }),
      initial: { token: 'OLD-TOKEN', expiresAt: NOW + DAY }, // inside the 7-day window
      store,
      now: () => NOW,
    });
    expect(await manager.getToken()).toBe(successEnvelope.data.token);
    const request = server.requests.at(-1)!;
    expect(request.method).toBe('GET');
    expect(request.headers.authorization).toBe('OLD-TOKEN');
    expect(request.headers['x-api-signature']).toMatch(/Signature=[0-9a-f]{64}$/);
    expect(new URL(request.url, server.url).searchParams.get('expired_at')).toBe(new Date(NOW + 90 * DAY).toISOString());
    expect(await store.load()).toEqual({ token: successEnvelope.data.token, expiresAt: Date.parse(successEnvelope.data.expired_at), issuedAt: NOW });
  });

  it('uses the seed’s POST form when given an aaid', async () => {
    const manager = new TokenManager({
      refresh: clientRefresh({ accountChannel: 'pspl_sg', baseUrl: server.url, aaid: '20001', lifetimeMs: 30 * DAY, now: () => NOW }),
      initial: { token: 'OLD', expiresAt: NOW + DAY },
      now: () => NOW,
    });
    await manager.refreshNow();
    const request = server.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.headers['account-channel']).toBe('pspl_sg');
    expect(JSON.parse(request.body.toString())).toEqual({ aaid: '20001', expired_at: new Date(NOW + 30 * DAY).toISOString() });
  });

  it('works against the Prism mock', async () => {
    const manager = new TokenManager({
      refresh: clientRefresh({ accountChannel: 'lb', baseUrl: inject('prismUrl') }),
      initial: { token: 'mock-token', expiresAt: Date.now() + 60_000 },
    });
    expect(await manager.getToken()).toMatch(/^m_/);
  });

  it('checks the client options at once, naming the field', () => {
    expect(() => clientRefresh({ accountChannel: 'lb', baseUrl: 'http://example.com' })).toThrow(
      expect.objectContaining({ name: 'InvalidInputError', field: 'baseUrl' }),
    );
    expect(() => clientRefresh({ accountChannel: 'lb', lifetimeMs: -1 })).toThrow(expect.objectContaining({ field: 'lifetimeMs' }));
  });
});

describe('clientRefresh never throws away a token the server issued', () => {
  it.each([
    { case: 'expired_at as unix seconds', expired_at: '1700000000' },
    { case: 'expired_at in the past (clock skew)', expired_at: '2020-01-01T00:00:00Z' },
    { case: 'expired_at missing', expired_at: undefined },
  ])('$case → the new token is used, with the expiry asked for', async ({ expired_at }) => {
    const body = { ...successEnvelope, data: { ...successEnvelope.data, token: 'BRAND-NEW-TOKEN', expired_at } };
    const fetchStub = (async () => new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } })) as typeof fetch;
    const errors: unknown[] = [];
    const manager = new TokenManager({
      refresh: clientRefresh({ accountChannel: 'lb', baseUrl: 'https://openapi.longbridge.com', fetch: fetchStub, now: () => NOW }),
      initial: { token: 'OLD-TOKEN', expiresAt: NOW + DAY },
      now: () => NOW,
      onError: (error) => errors.push(error),
    });
    expect(await manager.getToken()).toBe('BRAND-NEW-TOKEN');
    expect(manager.expiresAt).toBe(NOW + 90 * DAY);
    expect(errors).toEqual([]);
  });
});
