/**
 * Base class of every error this package throws. Branch on `instanceof` or on the stable
 * `name` of a subclass. No error of ours ever carries a token, an app secret or a
 * signature: not in its message, its properties, `toString()`, `util.inspect` or JSON.
 */
export class TokenApiError extends Error {
  override name = 'TokenApiError';

  /** A plain object with the error's public fields, so `JSON.stringify(error)` is useful. */
  toJSON(): Record<string, unknown> {
    const { stack: _stack, cause: _cause, ...fields } = this as TokenApiError & { cause?: unknown };
    return { ...fields, name: this.name, message: this.message };
  }
}
