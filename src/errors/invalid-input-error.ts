import { TokenApiError } from './token-api-error.js';

/** An argument is wrong; nothing was sent. `field` names it, the message says how to fix it. */
export class InvalidInputError extends TokenApiError {
  override name = 'InvalidInputError' as const;
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}

/**
 * A short description of a wrong value's type for an error message — never the value
 * itself, which may be a secret.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'an invalid Date';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return typeof value === 'object' ? 'an object' : typeof value;
}
