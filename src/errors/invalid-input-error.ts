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
