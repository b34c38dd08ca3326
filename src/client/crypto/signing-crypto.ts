// What request signing needs from a runtime's crypto: ./node.ts and ./web.ts each provide it,
// and the package's `#crypto` import picks one per runtime (package.json "imports").
export interface SigningCrypto {
  /** Which implementation this is: `node:crypto` or `web-crypto`. */
  readonly runtime: 'node:crypto' | 'web-crypto';
  /** Lowercase hex SHA-1 of `data` (a string: of its UTF-8 bytes). */
  sha1Hex(data: Uint8Array<ArrayBuffer> | string): string | Promise<string>;
  /** A keyed HMAC-SHA256 (lowercase hex) of a UTF-8 message, the secret held as the runtime allows. */
  hmacSha256(secret: string): (message: string) => string | Promise<string>;
}
