import type { components } from '../../generated/openapi.js';
import { describeValue, InvalidInputError, readField } from '../errors/invalid-input-error.js';
import { dateMs, toEpochMs } from '../instant.js';

/** The request body of `POST /v1/openapi/token/refresh`, as the spec defines it. */
export type RefreshTokenBody = components['schemas']['RefreshTokenRequest'];

/** What a caller passes to `refreshToken`. */
export interface RefreshTokenInput {
  /** The account the new token is created for (`aaid`); non-empty. */
  aaid: string;
  /** When the new token expires: a Date, or an ISO 8601 date-time string with a time zone. */
  expiredAt: Date | string;
}

/**
 * Checks `expiredAt` and returns it as an ISO 8601 UTC string. It must be a real instant
 * in the future of `now` (ms since the epoch).
 */
export function toExpiredAt(value: unknown, now: number, field = 'expiredAt'): string {
  let ms = dateMs(value);
  if (ms !== undefined) {
    if (Number.isNaN(ms)) throw new InvalidInputError(field, 'is an invalid Date; pass a valid Date or an ISO 8601 string');
  } else if (typeof value === 'string') {
    ms = parseDateTime(value, field);
  } else {
    throw new InvalidInputError(
      field,
      `must be a Date or an ISO 8601 date-time string such as "2027-01-01T00:00:00Z", got ${describeValue(value)}`,
    );
  }
  if (ms <= now) {
    throw new InvalidInputError(
      field,
      `must be in the future, got ${new Date(ms).toISOString()} (now is ${new Date(now).toISOString()})`,
    );
  }
  return new Date(ms).toISOString();
}

function parseDateTime(text: string, field: string): number {
  const ms = toEpochMs(text);
  if (!Number.isNaN(ms)) return ms;
  throw new InvalidInputError(
    field,
    `must be an ISO 8601 date-time with a time zone, such as "2027-01-01T00:00:00Z", got ${JSON.stringify(text)}`,
  );
}

/** Checks `aaid`: a non-empty string with no surrounding white space. */
export function toAaid(value: unknown): string {
  if (typeof value !== 'string') {
    throw new InvalidInputError('aaid', `must be a non-empty string (the account id), got ${describeValue(value)}`);
  }
  if (value.trim() === '') throw new InvalidInputError('aaid', 'must be a non-empty string (the account id), got ""');
  if (value.trim() !== value) {
    throw new InvalidInputError('aaid', `must not start or end with white space, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates what a caller passed and builds the request body; throws before anything is sent. */
export function toRefreshTokenBody(input: RefreshTokenInput, now: number): RefreshTokenBody {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidInputError('input', `must be an object { aaid, expiredAt }, got ${describeValue(input)}`);
  }
  // Key order as the official SDK sends it (the signing vectors hash these exact bytes).
  return { aaid: toAaid(readField(input, 'aaid')), expired_at: toExpiredAt(readField(input, 'expiredAt'), now) };
}

/** What a caller passes to `refreshAccessToken`. */
export interface RefreshAccessTokenInput {
  /** When the new token expires; default now + 90 days, as the official SDKs. */
  expiredAt?: Date | string;
}

/** Validates `refreshAccessToken`'s input and returns its `expired_at` (default: now + `lifetimeMs`). */
export function toLiveExpiredAt(input: RefreshAccessTokenInput | undefined, now: number, lifetimeMs: number): string {
  if (input === undefined) return toExpiredAt(new Date(now + lifetimeMs), now);
  if (typeof input !== 'object' || input === null) {
    throw new InvalidInputError('input', `must be an object { expiredAt? } or nothing, got ${describeValue(input)}`);
  }
  const expiredAt = readField(input, 'expiredAt');
  return toExpiredAt(expiredAt === undefined ? new Date(now + lifetimeMs) : expiredAt, now);
}

/** Per-call options of the client's methods. */
export interface CallOptions {
  /** Aborts the call; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Validates call options; returns the caller's signal, if any. */
export function toSignal(options: CallOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options', `must be an object { signal? } or nothing, got ${describeValue(options)}`);
  }
  const signal = readField(options, 'signal');
  if (signal === undefined || isAbortSignal(signal)) return signal as AbortSignal | undefined;
  throw new InvalidInputError('signal', `must be an AbortSignal (such as AbortSignal.timeout(30_000)), got ${describeValue(signal)}`);
}

/** A real AbortSignal (its own getter accepts it), not a look-alike or a Proxy of one. */
function isAbortSignal(value: unknown): boolean {
  try {
    Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!.call(value);
    return true;
  } catch {
    return false;
  }
}
