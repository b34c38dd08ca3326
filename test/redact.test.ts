// The one redaction module: what the client, the CLI and the contract suite all rely on.
import { describe, expect, it } from 'vitest';
import { MIN_SCRUBBED_LENGTH, REDACTED, scrubJson, scrubOrWithhold, scrubSecrets } from '../src/redact.js';

describe('scrubSecrets', () => {
  it('replaces every occurrence of every secret, longest first', () => {
    const token = 'tok-1234567890';
    const longer = `${token}-signature`;
    expect(scrubSecrets(`a ${longer} b ${token} c ${token}`, [token, longer])).toBe(`a ${REDACTED} b ${REDACTED} c ${REDACTED}`);
  });

  it('replaces a secret echoed percent-encoded, JSON-escaped or in base64 (padded or not, URL-safe too)', () => {
    const secret = 'tok+/=?&"\\ü-1234567890>>>?';
    const base64 = Buffer.from(secret, 'latin1').toString('base64');
    const echoes = [
      `url ${encodeURIComponent(secret)} end`,
      `json ${JSON.stringify(secret)} end`,
      `basic ${base64} end`,
      `basic ${base64.replace(/=+$/, '')} end`,
      `url-safe ${Buffer.from(secret, 'latin1').toString('base64url')} end`,
    ];
    for (const echo of echoes) {
      const out = scrubSecrets(echo, [secret]);
      expect(out, echo).toContain(REDACTED);
      expect(out, echo).not.toMatch(/tok|1234567890|dG9r/);
    }
  });

  it('leaves a text without secrets as it is, and ignores empty or missing secrets', () => {
    expect(scrubSecrets('code 401004: token invalid', ['', undefined, 'not-in-text-123'])).toBe('code 401004: token invalid');
  });

  it(`withholds a text holding a secret shorter than ${MIN_SCRUBBED_LENGTH} characters, instead of garbling it`, () => {
    expect(scrubSecrets('token 0 rejected (401004)', ['0'])).toBeUndefined();
    expect(scrubSecrets('token abcdefg rejected', ['abcdefg'])).toBeUndefined();
    expect(scrubSecrets('nothing secret here', ['abcdefg'])).toBe('nothing secret here');
    expect(scrubOrWithhold('token 0 rejected', ['0'], '<withheld>')).toBe('<withheld>');
  });
});

describe('scrubJson', () => {
  it('replaces every value under a key naming a token, at any depth, and scrubs secrets from every string', () => {
    const body = { code: 0, message: 'ok for sent-token-123456', data: { token: 'issued-1234567890', nested: [{ access_token: 'x' }] } };
    expect(scrubJson(body, ['sent-token-123456'])).toEqual({
      code: 0,
      message: `ok for ${REDACTED}`,
      data: { token: REDACTED, nested: [{ access_token: REDACTED }] },
    });
  });

  it('scrubs a secret the JSON text would have escaped (quotes, backslashes)', () => {
    const secret = 'tok"with\\quotes';
    const out = JSON.stringify(scrubJson({ message: `echo ${secret}` }, [secret]));
    expect(out).toBe(`{"message":"echo ${REDACTED}"}`);
  });

  it('is undefined when a string holds a secret too short to scrub', () => {
    expect(scrubJson({ message: 'token abc' }, ['abc'])).toBeUndefined();
  });
});
