// The signing digests everywhere but Node: Web Crypto (browsers, edge runtimes, workers).
// Asynchronous; SHA-1 through crypto.subtle.digest too. No `node:` import.
import type { SigningCrypto } from './signing-crypto.js';

const encoder = new TextEncoder();

export const signingCrypto: SigningCrypto = {
  runtime: 'web-crypto',
  sha1Hex: async (data) => hex(await crypto.subtle.digest('SHA-1', typeof data === 'string' ? encoder.encode(data) : data)),
  hmacSha256(secret) {
    // Imported once, on first use, as a non-extractable key; the secret string is then dropped.
    let pending: string | undefined = secret;
    let key: Promise<CryptoKey> | undefined;
    return async (message) => {
      key ??= crypto.subtle.importKey('raw', encoder.encode(pending), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      pending = undefined;
      return hex(await crypto.subtle.sign('HMAC', await key, encoder.encode(message)));
    };
  },
};

function hex(buffer: ArrayBuffer): string {
  let out = '';
  for (const byte of new Uint8Array(buffer)) out += byte.toString(16).padStart(2, '0');
  return out;
}
