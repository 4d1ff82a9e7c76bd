import { z } from 'zod';

/** Every error code of the contract, with the HTTP status it always comes with. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  permission_denied: 403,
  not_found: 404,
  lease_lost: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  omnilink_disabled: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ErrorCode = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

export const ValidationIssue = z.object({
  /** Dotted path into the request body, e.g. `events.3.type`; empty for the body itself. */
  path: z.string(),
  message: z.string(),
});
export type ValidationIssue = z.infer<typeof ValidationIssue>;

export const ErrorResponse = z.object({
  error: ErrorCode,
  message: z.string(),
  /** With `invalid_request`: what is wrong, field by field. */
  issues: z.array(ValidationIssue).optional(),
  /** With `permission_denied` for a missing scope. */
  required_scope: z.string().optional(),
  /** With `lease_lost`: the task's status now. */
  status: z.string().optional(),
  /** With `rate_limited`: whole seconds until the key may send again. */
  retry_after_seconds: z.int().min(1).optional(),
  /** With `internal`: quote it when reporting the problem. */
  request_id: z.string().optional(),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;
