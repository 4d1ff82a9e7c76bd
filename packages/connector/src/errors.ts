import type { ErrorCode, ErrorResponse } from '@omnihub/contracts';

/** A refusal from the port (or a local check of the same rule), carrying the contract's error code. */
export class OmniHubError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status; 0 when the request never got an answer. */
  readonly status: number;
  readonly body: ErrorResponse | undefined;

  constructor(code: ErrorCode, message: string, status: number, body?: ErrorResponse) {
    super(status === 0 && code === 'internal' ? message : `${code}: ${message}`);
    this.name = 'OmniHubError';
    this.code = code;
    this.status = status;
    this.body = body;
  }

  /** The port gave no answer at all (network, timeout): retried like a 5xx. */
  static unreachable(message: string): OmniHubError {
    return new OmniHubError('internal', message, 0);
  }
}

/** Configuration that cannot work; the message says what to fix and never holds the secret. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Throw this from a task handler when trying again cannot help: the task then fails at once. */
export class NonRetryableError extends Error {
  readonly retryable = false;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}
