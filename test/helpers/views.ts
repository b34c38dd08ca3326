// What a log line or a report could show of a value, for tests that scan for secrets.
import { inspect } from 'node:util';

/** Every view of a value: util.inspect (hidden fields and getters too), JSON and String(). */
export function views(value: unknown): string {
  return [inspect(value, { depth: 10, showHidden: true, getters: true }), JSON.stringify(value) ?? '', String(value)].join('\n');
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
