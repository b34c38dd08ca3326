// Violations are reported against the variant a value was meant to be, not every variant.
import { describe, expect, it } from 'vitest';
import { createSpecValidator } from '../src/contract/spec-validator.js';

const validator = createSpecValidator();
const success = {
  code: 0,
  message: '',
  data: {
    token: 't',
    expired_at: '2099-01-01T00:00:00Z',
    issued_at: '2026-01-01T00:00:00Z',
    account_info: { member_id: '1', aaid: '2', account_channel: 'lb' },
  },
};
const SUCCESS = '#/components/schemas/RefreshTokenSuccess';

describe('spec violations of a choice (anyOf)', () => {
  it('a defect inside data is reported once, from the closest variant', () => {
    const broken = structuredClone(success) as { data: { account_info: Partial<typeof success.data.account_info> } };
    delete broken.data.account_info.member_id;
    expect(validator.validate(SUCCESS, broken).violations).toEqual([
      expect.objectContaining({ location: '#/components/schemas/AccountInfo/required', instancePath: '/data/account_info' }),
    ]);
  });

  it('with the msg spelling, nothing about `message` is reported', () => {
    const { message: _message, ...withMsg } = { ...success, msg: 'ok' };
    const broken = { ...withMsg, data: { ...success.data, expired_at: 'soon' } };
    const locations = validator.validate(SUCCESS, broken).violations.map((v) => v.location);
    expect(locations).toEqual(['#/components/schemas/RefreshTokenData/properties/expired_at/format']);
  });

  it('no message key at all: both variants are equally close, so both and the choice are reported', () => {
    const { message: _message, ...bare } = success;
    const locations = validator.validate(SUCCESS, bare).violations.map((v) => v.location);
    expect(locations).toEqual(
      expect.arrayContaining([
        '#/components/schemas/WithMessage/required',
        '#/components/schemas/WithMsg/required',
        '#/components/schemas/RefreshTokenSuccess/anyOf',
      ]),
    );
  });

  it('a valid value has no violations', () => {
    expect(validator.validate(SUCCESS, success)).toMatchObject({ valid: true, violations: [] });
  });
});
