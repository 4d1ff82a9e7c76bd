import { ERROR_STATUS, type ErrorCode, type ErrorResponse } from '@omnihub/contracts';

type ErrorExtras = Omit<ErrorResponse, 'error' | 'message'>;

/** A refusal with the contract's error code; app.onError turns it into the JSON body. */
export class PortError extends Error {
  readonly code: ErrorCode;
  readonly extras: ErrorExtras;

  constructor(code: ErrorCode, message: string, extras: ErrorExtras = {}) {
    super(message);
    this.name = 'PortError';
    this.code = code;
    this.extras = extras;
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorResponse {
    return { error: this.code, message: this.message, ...this.extras };
  }
}

/** The `{error, message, ...}` shape the SQL functions return when they refuse. */
export interface SqlRefusal {
  error: ErrorCode;
  message?: string;
  required_scope?: string;
  retry_after_seconds?: number;
  status?: string;
  issues?: ErrorResponse['issues'];
}

const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  invalid_request: 'The request is not valid.',
  unauthorized: 'The API key is not valid.',
  permission_denied: 'This API key may not do that.',
  not_found: 'Not found.',
  lease_lost: 'This worker no longer holds the lease on this task.',
  payload_too_large: 'The request is too large.',
  rate_limited: 'Too many requests for this API key.',
  internal: 'Something went wrong on our side.',
  omnilink_disabled: 'OmniLink is switched off.',
};

export function isSqlRefusal(value: unknown): value is SqlRefusal {
  return (
    typeof value === 'object' && value !== null && typeof (value as SqlRefusal).error === 'string'
  );
}

/** Converts a refusal returned by an omnilink.port_* function, keeping only the contract's extra fields. */
export function refusalToError(refusal: SqlRefusal): PortError {
  const extras: ErrorExtras = {};
  if (refusal.required_scope !== undefined) extras.required_scope = refusal.required_scope;
  if (refusal.retry_after_seconds !== undefined)
    extras.retry_after_seconds = refusal.retry_after_seconds;
  if (refusal.status !== undefined) extras.status = refusal.status;
  if (refusal.issues !== undefined) extras.issues = refusal.issues;
  return new PortError(refusal.error, refusal.message ?? DEFAULT_MESSAGES[refusal.error], extras);
}
