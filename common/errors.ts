/**
 * One error type for everything the project reports to a person: a stable code that scripts and tests
 * can match on, and a message that names the problem (file, line, key, value).
 */
export class BookrecError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BookrecError';
    this.code = code;
  }
}

export function isBookrecError(err: unknown): err is BookrecError {
  return err instanceof BookrecError;
}

/** The message of anything thrown, for logs and one-line CLI failures. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
