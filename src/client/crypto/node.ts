// The signing digests where the runtime is Node (and Bun and Deno, which match the `node`
// condition): node:crypto, synchronous, no thread-pool round trip. Chosen by the package's
// `#crypto` import (package.json "imports", condition `node`); every other runtime gets ./web.ts.
import { createHash, createHmac, createSecretKey } from 'node:crypto';
import type { SigningCrypto } from './signing-crypto.js';

export const signingCrypto: SigningCrypto = {
  runtime: 'node:crypto',
  sha1Hex: (bytes) => createHash('sha1').update(bytes).digest('hex'),
  hmacSha256(secret) {
    // A KeyObject: the secret's bytes live in it; the client keeps no copy of the string.
    const key = createSecretKey(new TextEncoder().encode(secret));
    return (message) => createHmac('sha256', key).update(message).digest('hex');
  },
};
