// Request signing: the two vectors observed from the official SDK
// (shared/reference/longbridge-api-facts.md), and a randomized comparison of both crypto
// variants (node:crypto for Node, Web Crypto elsewhere) against a reference built on node:crypto.
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { signingCrypto as nodeCrypto } from '../src/client/crypto/node.js';
import { signingCrypto as webCrypto } from '../src/client/crypto/web.js';
import { createSigner, type SignedRequest } from '../src/client/signing.js';
import { referenceSignature } from './helpers/reference-signature.js';

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

  it('agrees with a node:crypto reference on random requests, keys and secrets', async () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST'),
      path: fc.webPath(),
      query: fc.webQueryParameters(),
      body: fc.option(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 100 })), { nil: undefined }),
      accessToken: text,
      timestamp: fc.integer({ min: 0, max: 2 ** 32 }),
    });
    await fc.assert(
      fc.asyncProperty(text, text, request, async (appKey, appSecret, req) => {
        const signed = await createSigner(appKey, appSecret).sign(req as SignedRequest);
        expect(signatureOf(signed['X-Api-Signature'])).toBe(referenceSignature({ ...(req as SignedRequest), appKey, appSecret }));
      }),
      { numRuns: 300 },
    );
  });
});

describe('the crypto variants (node:crypto in Node, Web Crypto elsewhere)', () => {
  it('name themselves', () => {
    expect([nodeCrypto.runtime, webCrypto.runtime]).toEqual(['node:crypto', 'web-crypto']);
  });

  // A secret is never empty: createTokenClient refuses one (Web Crypto cannot import a zero-length key).
  it('both agree with node:crypto on SHA-1 and HMAC-SHA256 of any input, across block boundaries', async () => {
    const lengths = [0, 55, 56, 63, 64, 65, 119, 120, 128].map((n) => new Uint8Array(n).fill(0x61));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }), fc.string({ unit: 'binary' }), async (bytes, secret, message) => {
        const sha1 = createHash('sha1').update(bytes).digest('hex');
        const hmac = createHmac('sha256', secret).update(message).digest('hex');
        const sha1OfText = createHash('sha1').update(message, 'utf8').digest('hex');
        for (const variant of [nodeCrypto, webCrypto]) {
          expect(await variant.sha1Hex(bytes)).toBe(sha1);
          expect(await variant.sha1Hex(message)).toBe(sha1OfText); // a string: its UTF-8 bytes
          expect(await variant.hmacSha256(secret)(message)).toBe(hmac);
        }
      }),
      { numRuns: 300, examples: lengths.map((bytes) => [bytes, 'k', 'm']) },
    );
  });

  it('node:crypto without crypto.hash (older runtimes of the node condition) falls back to createHash', async () => {
    vi.resetModules();
    const createHashSpy = vi.fn(createHash);
    vi.doMock('node:crypto', async (importOriginal) => ({ ...(await importOriginal<typeof import('node:crypto')>()), hash: undefined, createHash: createHashSpy }));
    try {
      const { signingCrypto } = await import('../src/client/crypto/node.js');
      expect(signingCrypto.sha1Hex('abc')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
      expect(createHashSpy).toHaveBeenCalledWith('sha1');
    } finally {
      vi.doUnmock('node:crypto');
      vi.resetModules();
    }
  });

  it('node:crypto signs synchronously: no thread-pool round trip per call', () => {
    expect(typeof nodeCrypto.sha1Hex(new Uint8Array(3))).toBe('string');
    expect(typeof nodeCrypto.hmacSha256('secret')('message')).toBe('string');
  });
});
