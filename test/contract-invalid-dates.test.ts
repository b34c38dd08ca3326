// The invalid dates the suite sends are invalid by the spec's own validator (Ajv with
// ajv-formats, as the suite uses), whatever the valid date they are derived from; a value
// the validator accepts (a space for the T, an offset without a colon) is never sent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidDates } from '../src/contract/invalid-dates.js';
import { createSpecValidator } from '../src/contract/spec-validator.js';

const validator = createSpecValidator();
const EXPIRED_AT = '#/components/schemas/RefreshTokenRequest/properties/expired_at';
const QUERY_EXPIRED_AT = '#/paths/~1v1~1token~1refresh/get/parameters/0/schema';
const rejects = (pointer: string) => (value: string) => !validator.validate(pointer, value).valid;

describe('invalidDates', () => {
  it('derives several values, every one rejected by the spec’s validator, for any valid date (body and query schemas)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        const valid = date.toISOString();
        for (const pointer of [EXPIRED_AT, QUERY_EXPIRED_AT]) {
          expect(validator.validate(pointer, valid).valid).toBe(true);
          const values = invalidDates(valid, rejects(pointer));
          expect(values.length).toBeGreaterThanOrEqual(4);
          for (const { value } of values) expect(validator.validate(pointer, value).valid, value).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('includes a lenient date in words ("April 1, 2030"), which Date.parse accepts', () => {
    const values = invalidDates('2030-04-01T00:00:00.000Z', rejects(EXPIRED_AT));
    expect(values.map((v) => v.label)).toEqual(['lenient-date', 'date-only', 'no-zone', 'impossible-date', 'epoch-seconds']);
    expect(values[0]!.value).toBe('April 1, 2030');
    expect(Number.isNaN(Date.parse('April 1, 2030'))).toBe(false);
  });

  it('drops a candidate the validator accepts: the suite never sends a valid value as "invalid"', () => {
    // Ajv accepts these RFC 3339 spellings, so a generator must not treat them as invalid.
    for (const accepted of ['2030-04-01 00:00:00Z', '2030-04-01t00:00:00z', '2030-04-01T00:00:00+0800']) {
      expect(validator.validate(EXPIRED_AT, accepted).valid, accepted).toBe(true);
    }
    const values = invalidDates('2030-04-01T00:00:00.000Z', (value) => value !== '2030-04-01');
    expect(values.map((v) => v.label)).not.toContain('date-only');
  });
});
