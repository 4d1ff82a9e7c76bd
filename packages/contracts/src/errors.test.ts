import { describe, expect, it } from 'vitest';
import {
  ERROR_STATUS,
  ErrorCode,
  ErrorResponse,
  type ErrorCode as ErrorCodeType,
} from './errors.ts';

const CONTRACT_STATUS: Record<ErrorCodeType, number> = {
  invalid_request: 400,
  unauthorized: 401,
  permission_denied: 403,
  not_found: 404,
  lease_lost: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  omnilink_disabled: 503,
};

describe('ERROR_STATUS', () => {
  it.each(Object.entries(CONTRACT_STATUS))('maps %s to %i', (code, status) => {
    expect(ERROR_STATUS[code as ErrorCodeType]).toBe(status);
  });

  it('holds exactly the contract’s codes', () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual(Object.keys(CONTRACT_STATUS).sort());
  });

  it('gives every code its own status', () => {
    const statuses = Object.values(ERROR_STATUS);
    expect(new Set(statuses).size).toBe(statuses.length);
  });
});

describe('ErrorCode', () => {
  it('accepts every mapped code and nothing else', () => {
    expect(ErrorCode.options.sort()).toEqual(Object.keys(CONTRACT_STATUS).sort());
    expect(ErrorCode.safeParse('teapot').success).toBe(false);
  });
});

describe('ErrorResponse', () => {
  it('parses a full error body', () => {
    const body = {
      error: 'invalid_request',
      message: 'Invalid request body.',
      issues: [{ path: 'events.3.type', message: 'bad' }],
      required_scope: 'tasks:claim',
      status: 'succeeded',
      retry_after_seconds: 3,
      request_id: 'abc',
    };
    expect(ErrorResponse.parse(body)).toEqual(body);
  });

  it('refuses an unknown code and a retry_after_seconds below 1 or fractional', () => {
    expect(ErrorResponse.safeParse({ error: 'nope', message: 'm' }).success).toBe(false);
    expect(
      ErrorResponse.safeParse({ error: 'rate_limited', message: 'm', retry_after_seconds: 0 })
        .success,
    ).toBe(false);
    expect(
      ErrorResponse.safeParse({ error: 'rate_limited', message: 'm', retry_after_seconds: 1.5 })
        .success,
    ).toBe(false);
  });
});
