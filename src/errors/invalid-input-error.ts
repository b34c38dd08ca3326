import { dateMs } from '../instant.js';
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
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (typeof value !== 'object') return typeof value;
  const ms = dateMs(value);
  if (ms !== undefined) return Number.isNaN(ms) ? 'an invalid Date' : 'a Date';
  try {
    if (Array.isArray(value)) return 'an array';
  } catch {
    // a revoked Proxy
  }
  return 'an object';
}

/** As `describeValue`, but a number is shown as it is: "1.5", "NaN", "-1". */
export function describeNumber(value: unknown): string {
  return typeof value === 'number' ? String(value) : describeValue(value);
}

/**
 * `object[key]`, where a getter or a Proxy that throws is bad input: InvalidInputError
 * naming `field`, instead of whatever it threw.
 */
export function readField(object: object, key: string, field = key): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch {
    throw new InvalidInputError(field, 'could not be read: reading it threw (a getter or a Proxy); pass a plain value');
  }
}
