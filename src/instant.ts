// Instants as this package reads them: ms since the epoch, a Date, or an RFC 3339 date-time
// with a zone (the spec's `format: date-time`). One parser for caller input, refresh
// results and stored tokens.

/** The largest instant a Date can hold, in ms since the epoch. */
export const MAX_EPOCH_MS = 8.64e15;

// RFC 3339 date-time: a full date, a time and a zone (RFC 3339 allows a space for the T).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** True for an instant in ms since the epoch that a Date can represent. */
export function isEpochMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_EPOCH_MS;
}

/**
 * The time of a real Date in ms since the epoch (NaN for an invalid Date); undefined for
 * anything else, a Proxy of a Date included. Never throws, and unlike `instanceof` it knows
 * a Date from another realm.
 */
export function dateMs(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined; // a primitive (the usual string): no TypeError thrown and caught per call
  try {
    return Date.prototype.getTime.call(value);
  } catch {
    return undefined;
  }
}

/**
 * Reads an instant: ms since the epoch (a number), a Date, or an RFC 3339 / ISO 8601
 * date-time string with a zone. Returns whole ms since the epoch, or NaN when unreadable.
 */
export function toEpochMs(value: unknown): number {
  let ms = Number.NaN;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') {
    const m = DATE_TIME.exec(value);
    if (m) {
      ms = Date.parse(value.replace(' ', 'T'));
      const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const calendar = new Date(Date.UTC(year, month - 1, day));
      // Date.parse rolls 2023-02-30 over to March 2; a real calendar day round-trips.
      if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) ms = Number.NaN;
    }
  } else ms = dateMs(value) ?? Number.NaN;
  return isEpochMs(ms) ? Math.floor(ms) : Number.NaN;
}
