import { BookrecError } from '../common/errors.js';

/** A refusal with its HTTP status: the handler throws it, the error handler answers it as JSON. */
export class HttpError extends BookrecError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly problems?: string[],
  ) {
    super(code, message);
  }
}
