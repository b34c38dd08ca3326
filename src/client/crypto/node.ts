// The signing digests where the runtime is Node (and Bun and Deno, which match the `node`
// condition): node:crypto, synchronous, no thread-pool round trip. Chosen by the package's
// `#crypto` import (package.json "imports", condition `node`); every other runtime gets ./web.ts.
import * as nodeCrypto from 'node:crypto';
import type { SigningCrypto } from './signing-crypto.js';

export const signingCrypto: SigningCrypto = {
  runtime: 'node:crypto',
  // crypto.hash (Node 20.12+) is one-shot: no Hash object per digest, about half the cost of
  // createHash in a call; a runtime of the `node` condition without it gets createHash.
  sha1Hex:
    typeof nodeCrypto.hash === 'function'
      ? (data) => nodeCrypto.hash('sha1', data, 'hex')
      : (data) => nodeCrypto.createHash('sha1').update(data).digest('hex'),
  hmacSha256(secret) {
    // A KeyObject: the secret's bytes live in it; the client keeps no copy of the string.
    const key = nodeCrypto.createSecretKey(new TextEncoder().encode(secret));
    return (message) => nodeCrypto.createHmac('sha256', key).update(message).digest('hex');
  },
};
