// Values that are not an RFC 3339 date-time, derived from a valid one, for the probes that
// break a `format: date-time` rule. Each candidate is checked with the spec's own validator
// (`rejects`): one the validator accepts is never sent as "invalid" (Ajv, like RFC 3339,
// accepts a space or a lowercase `t` for the `T`, and an offset without a colon).

export interface InvalidDate {
  /** Stable, part of the probe's name: `lenient-date`, `date-only`, ... */
  label: string;
  value: string;
  /** What is wrong with it, in words. */
  why: string;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Invalid variants of `valid` (an ISO 8601 UTC date-time such as `2027-01-01T00:00:00.000Z`),
 * those `rejects` confirms, in a fixed order.
 */
export function invalidDates(valid: string, rejects: (value: string) => boolean): InvalidDate[] {
  const at = new Date(valid);
  if (Number.isNaN(at.getTime())) throw new Error(`not a date-time: ${JSON.stringify(valid)}`);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const year = pad(at.getUTCFullYear(), 4);
  const date = `${year}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`;
  const time = `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`;
  const candidates: InvalidDate[] = [
    // What Date.parse and many "lenient" parsers accept.
    { label: 'lenient-date', value: `${MONTHS[at.getUTCMonth()]} ${at.getUTCDate()}, ${year}`, why: 'a date in words, as lenient parsers accept' },
    { label: 'date-only', value: date, why: 'a date without a time' },
    { label: 'no-zone', value: `${date}T${time}`, why: 'a local time without a zone' },
    { label: 'impossible-date', value: `${year}-02-30T${time}Z`, why: 'February 30' },
    { label: 'epoch-seconds', value: String(Math.floor(at.getTime() / 1000)), why: 'unix seconds, not a date-time' },
  ];
  return candidates.filter((candidate) => rejects(candidate.value));
}
