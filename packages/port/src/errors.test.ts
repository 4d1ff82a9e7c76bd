import { ERROR_STATUS, type ErrorCode } from '@omnihub/contracts';
import { describe, expect, it } from 'vitest';
import { PortError, isSqlRefusal, refusalToError, type SqlRefusal } from './errors.ts';

const CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

describe('PortError', () => {
  it.each(CODES)('takes its status for %s from ERROR_STATUS', (code) => {
    expect(new PortError(code, 'm').status).toBe(ERROR_STATUS[code]);
  });

  it('is an Error named PortError with the code and message', () => {
    const error = new PortError('not_found', 'No task.');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('PortError');
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('No task.');
    expect(error.extras).toEqual({});
  });

  it('renders error and message alone when there are no extras', () => {
    expect(new PortError('internal', 'Oops.').toBody()).toEqual({
      error: 'internal',
      message: 'Oops.',
    });
  });

  it('renders the extras next to error and message', () => {
    const error = new PortError('invalid_request', 'Bad.', {
      issues: [{ path: 'a', message: 'b' }],
      request_id: 'req-1',
    });
    expect(error.toBody()).toEqual({
      error: 'invalid_request',
      message: 'Bad.',
      issues: [{ path: 'a', message: 'b' }],
      request_id: 'req-1',
    });
  });
});

describe('isSqlRefusal', () => {
  it.each([
    [{ error: 'not_found' }, true],
    [{ error: 'rate_limited', retry_after_seconds: 2 }, true],
    [{ task: {} }, false],
    [{ error: 1 }, false],
    [null, false],
    ['not_found', false],
    [undefined, false],
  ])('%j → %s', (value, expected) => {
    expect(isSqlRefusal(value)).toBe(expected);
  });
});

describe('refusalToError', () => {
  it('keeps the required_scope the database named for a missing-scope refusal', () => {
    const error = refusalToError({
      error: 'permission_denied',
      message: 'This API key lacks the scope for this.',
      required_scope: 'tasks:create or tasks:claim or tasks:complete',
    });
    expect(error.status).toBe(403);
    expect(error.toBody()).toEqual({
      error: 'permission_denied',
      message: 'This API key lacks the scope for this.',
      required_scope: 'tasks:create or tasks:claim or tasks:complete',
    });
  });

  it('adds no required_scope when the refusal names none', () => {
    const error = refusalToError({
      error: 'permission_denied',
      message: 'source must be lead-gen.',
    });
    expect(error.extras).not.toHaveProperty('required_scope');
  });

  it('drops fields that are not part of the contract’s error body', () => {
    const refusal = { error: 'unauthorized', message: 'No.', tenant_id: 'abc' } as SqlRefusal;
    expect(refusalToError(refusal).toBody()).toEqual({ error: 'unauthorized', message: 'No.' });
  });

  it('copies retry_after_seconds, status and issues', () => {
    expect(
      refusalToError({
        error: 'rate_limited',
        message: 'Slow down.',
        retry_after_seconds: 7,
      }).toBody(),
    ).toEqual({
      error: 'rate_limited',
      message: 'Slow down.',
      retry_after_seconds: 7,
    });
    expect(refusalToError({ error: 'lease_lost', status: 'succeeded' }).extras).toEqual({
      status: 'succeeded',
    });
    const issues = [{ path: 'depends_on.0', message: 'no such task' }];
    expect(refusalToError({ error: 'invalid_request', message: 'Bad.', issues }).extras).toEqual({
      issues,
    });
  });

  it.each<[ErrorCode, RegExp]>([
    ['invalid_request', /not valid/],
    ['unauthorized', /API key is not valid/],
    ['permission_denied', /may not do that/],
    ['not_found', /Not found/],
    ['lease_lost', /no longer holds the lease/],
    ['payload_too_large', /too large/],
    ['rate_limited', /Too many requests/],
    ['internal', /went wrong/],
    ['omnilink_disabled', /switched off/],
  ])('fills a default message for %s when the refusal has none', (code, message) => {
    const error = refusalToError({ error: code });
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.extras).toEqual({});
  });
});
