// Errors with a stable code and an HTTP status; docs/extender.md lists the codes.
export type ExtenderErrorCode =
  | 'SMARTMIG_BAD_QUANTITY'
  | 'SMARTMIG_NO_NODES'
  | 'SMARTMIG_TOO_DEEP'
  | 'SMARTMIG_FORBIDDEN_KEY'
  | 'SMARTMIG_BODY_TOO_LARGE'
  | 'SMARTMIG_BAD_OBJECT'
  | 'SMARTMIG_NOT_READY';

export class ExtenderError extends Error {
  override readonly name = 'ExtenderError';
  constructor(
    readonly code: ExtenderErrorCode,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

/** The body of every error reply. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}
