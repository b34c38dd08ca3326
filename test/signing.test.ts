// The two vectors observed from the official SDK (shared/reference/longbridge-api-facts.md).
import { describe, expect, it } from 'vitest';
import { createSigner } from '../src/client/signing.js';

const signer = createSigner('APPKEY', 'APPSECRET');
const common = { accessToken: 'ACCESSTOKEN', timestamp: 1795635898 };
const signatureOf = (header: string) => /Signature=([0-9a-f]{64})$/.exec(header)?.[1];

describe('request signing', () => {
  it('reproduces the official SDK’s POST vector (body hashed)', async () => {
    const headers = await signer.sign({
      ...common,
      method: 'POST',
      path: '/v1/openapi/token/refresh',
      query: '',
      body: new TextEncoder().encode('{"aaid":"20001","expired_at":"2023-04-14T12:13:57.859Z"}'),
    });
    expect(signatureOf(headers['X-Api-Signature'])).toBe('3dc28dfe5ae520f7fdb22d4cdb23aae346c3c2df22b52a17babad26d320bbc61');
    expect(headers).toMatchObject({ 'X-Api-Key': 'APPKEY', 'X-Timestamp': '1795635898' });
    expect(headers['X-Api-Signature']).toMatch(/^HMAC-SHA256 SignedHeaders=authorization;x-api-key;x-timestamp, Signature=/);
  });

  it('reproduces the official SDK’s GET vector (query as sent, no body)', async () => {
    const headers = await signer.sign({
      ...common,
      method: 'GET',
      path: '/v1/token/refresh',
      query: 'expired_at=2027-01-01T00%3A00%3A00Z',
      body: undefined,
    });
    expect(signatureOf(headers['X-Api-Signature'])).toBe('7d47b6dc9ea737ca6e856fffa29750d518df5bede19d1045833bea23ebc48402');
  });

  it('changes with any signed input (one byte of body, the timestamp, the secret)', async () => {
    const base = { ...common, method: 'POST', path: '/p', query: '', body: new TextEncoder().encode('{"a":1}') };
    const reference = (await signer.sign(base))['X-Api-Signature'];
    expect((await signer.sign({ ...base, body: new TextEncoder().encode('{"a":2}') }))['X-Api-Signature']).not.toBe(reference);
    expect((await signer.sign({ ...base, timestamp: base.timestamp + 1 }))['X-Api-Signature']).not.toBe(reference);
    expect((await createSigner('APPKEY', 'OTHER').sign(base))['X-Api-Signature']).not.toBe(reference);
  });
});

describe('sha1Hex', () => {
  it('agrees with node:crypto on any bytes, across block boundaries', async () => {
    const fc = (await import('fast-check')).default;
    const { createHash } = await import('node:crypto');
    const { sha1Hex } = await import('../src/client/sha1.js');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(sha1Hex(bytes)).toBe(createHash('sha1').update(bytes).digest('hex'));
      }),
      { numRuns: 500 },
    );
    for (const length of [0, 55, 56, 63, 64, 65, 119, 120, 128]) {
      const bytes = new Uint8Array(length).fill(0x61);
      expect(sha1Hex(bytes)).toBe(createHash('sha1').update(bytes).digest('hex'));
    }
  });
});
