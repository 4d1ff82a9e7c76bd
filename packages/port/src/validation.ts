import { PAYLOAD_TOO_LARGE } from '@omnihub/contracts';
import type { z } from 'zod';
import { PortError } from './errors.ts';

/** Validates with a contract schema; failures become the contract's 400 (or 413 for oversized JSON fields). */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
): { data: z.output<S> } | { problem: PortError } {
  let result: z.ZodSafeParseResult<z.output<S>>;
  try {
    result = schema.safeParse(value);
  } catch (error) {
    // Only absurdly deep JSON gets here (the validator's recursion runs out).
    if (error instanceof RangeError) {
      return {
        problem: new PortError('invalid_request', 'The request body is nested too deeply.', {
          issues: [{ path: '', message: 'nested too deeply' }],
        }),
      };
    }
    throw error;
  }
  if (result.success) return { data: result.data };

  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message:
      issue.code === 'unrecognized_keys'
        ? `unknown field(s): ${issue.keys.join(', ')}`
        : issue.message,
  }));
  const oversized = result.error.issues.find(
    (issue) => issue.code === 'custom' && issue.params?.[PAYLOAD_TOO_LARGE] === true,
  );
  if (oversized) {
    const path = oversized.path.map(String).join('.');
    return {
      problem: new PortError('payload_too_large', `${path || 'The body'} ${oversized.message}.`, {
        issues,
      }),
    };
  }
  const first = issues[0]!;
  const summary = first.path ? `${first.path}: ${first.message}` : first.message;
  const more =
    issues.length > 1
      ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})`
      : '';
  return {
    problem: new PortError('invalid_request', `Invalid request body. ${summary}${more}.`, {
      issues,
    }),
  };
}
