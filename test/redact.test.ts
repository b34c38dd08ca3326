// The one redaction module: what the client, the CLI and the contract suite all rely on.
import { describe, expect, it } from 'vitest';
import { MIN_SCRUBBED_LENGTH, REDACTED, scrubOrWithhold, scrubSecrets } from '../src/redact.js';

describe('scrubSecrets', () => {
  it('replaces every occurrence of every secret, longest first', () => {
    const token = 'tok-1234567890';
    const longer = `${token}-signature`;
    expect(scrubSecrets(`a ${longer} b ${token} c ${token}`, [token, longer])).toBe(`a ${REDACTED} b ${REDACTED} c ${REDACTED}`);
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
