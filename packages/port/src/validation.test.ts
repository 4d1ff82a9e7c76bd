import {
  CreateTaskRequestBody,
  EmitEventBatchRequestBody,
  MAX_JSON_FIELD_BYTES,
  TelemetryEvent,
} from '@omnihub/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { PortError } from './errors.ts';
import { validate } from './validation.ts';

const event = (extra: Record<string, unknown> = {}) => ({
  type: 'lead_ingested',
  idempotency_key: 'k',
  ...extra,
});
const bigData = { x: 'a'.repeat(MAX_JSON_FIELD_BYTES) };

function problemOf(schema: z.ZodType, value: unknown): PortError {
  const result = validate(schema, value);
  if (!('problem' in result)) throw new Error('expected a problem');
  return result.problem;
}

describe('validate', () => {
  it('returns the parsed data, defaults included', () => {
    expect(validate(CreateTaskRequestBody, { target: 't', action: 'a' })).toEqual({
      data: expect.objectContaining({ target: 't', action: 'a', priority: 5, depends_on: [] }),
    });
  });

  it('maps each zod issue to a dotted path and its message', () => {
    const problem = problemOf(EmitEventBatchRequestBody, {
      events: [event(), event(), event(), event({ type: 'Not OK' })],
    });
    expect(problem.code).toBe('invalid_request');
    expect(problem.status).toBe(400);
    expect(problem.extras.issues).toEqual([
      {
        path: 'events.3.type',
        message: "must be 1-100 characters of a-z, 0-9, '_', '.', ':' or '-'",
      },
    ]);
  });

  it('uses an empty path for a problem with the body itself', () => {
    const problem = problemOf(TelemetryEvent, []);
    expect(problem.extras.issues?.[0]?.path).toBe('');
    expect(problem.message).toBe(
      'Invalid request body. Invalid input: expected object, received array.',
    );
  });

  it('names unknown fields', () => {
    const problem = problemOf(TelemetryEvent, event({ colour: 'red', size: 2 }));
    expect(problem.extras.issues).toEqual([
      { path: '', message: 'unknown field(s): colour, size' },
    ]);
    expect(problem.message).toBe('Invalid request body. unknown field(s): colour, size.');
  });

  it('names unknown fields inside a batch at the event’s path', () => {
    const problem = problemOf(EmitEventBatchRequestBody, {
      events: [event(), event({ extra: 1 })],
    });
    expect(problem.extras.issues).toEqual([
      { path: 'events.1', message: 'unknown field(s): extra' },
    ]);
  });

  it('summarises with the first issue alone when it is the only one', () => {
    const problem = problemOf(CreateTaskRequestBody, { target: 't', action: 'a', priority: 11 });
    expect(problem.message).toBe('Invalid request body. priority: must be from 1 to 10.');
  });

  it('summarises with the first issue and one more problem', () => {
    const problem = problemOf(CreateTaskRequestBody, {
      target: 't',
      action: 'a',
      priority: 11,
      max_attempts: 0,
    });
    expect(problem.extras.issues).toHaveLength(2);
    expect(problem.message).toBe(
      'Invalid request body. priority: must be from 1 to 10 (and 1 more problem).',
    );
  });

  it('summarises with the first issue and how many more problems', () => {
    const problem = problemOf(CreateTaskRequestBody, { priority: 11, max_attempts: 0 });
    expect(problem.extras.issues?.map((issue) => issue.path)).toEqual([
      'target',
      'action',
      'priority',
      'max_attempts',
    ]);
    expect(problem.message).toMatch(
      /^Invalid request body\. target: .+ \(and 3 more problems\)\.$/,
    );
  });

  it('answers payload_too_large (413) for an oversized JSON field, naming its path', () => {
    const problem = problemOf(EmitEventBatchRequestBody, {
      events: [event(), event({ data: bigData })],
    });
    expect(problem.code).toBe('payload_too_large');
    expect(problem.status).toBe(413);
    expect(problem.message).toBe('events.1.data must be at most 16384 bytes of serialized JSON.');
    expect(problem.extras.issues).toEqual([
      { path: 'events.1.data', message: 'must be at most 16384 bytes of serialized JSON' },
    ]);
  });

  it('prefers payload_too_large over other problems in the same body, keeping all issues', () => {
    const problem = problemOf(CreateTaskRequestBody, {
      target: 't',
      action: 'a',
      priority: 0,
      payload: bigData,
    });
    expect(problem.code).toBe('payload_too_large');
    expect(problem.message).toMatch(/^payload /);
    expect(problem.extras.issues?.map((issue) => issue.path).sort()).toEqual([
      'payload',
      'priority',
    ]);
  });

  it('does not treat other custom issues as oversized', () => {
    const schema = z.string().refine(() => false, { message: 'nope', params: { other: true } });
    expect(problemOf(schema, 'x').code).toBe('invalid_request');
  });

  it('refuses absurdly deep JSON as invalid_request instead of throwing', () => {
    type Node = z.ZodType<{ next?: Node }>;
    const Nested: z.ZodType = z.lazy((): Node => z.object({ next: Nested.optional() }) as Node);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) deep = { next: deep };
    const problem = problemOf(Nested, deep);
    expect(problem.code).toBe('invalid_request');
    expect(problem.message).toBe('The request body is nested too deeply.');
  });

  it('rethrows errors that are not a recursion overflow', () => {
    const schema = z.string().transform(() => {
      throw new TypeError('bug');
    });
    expect(() => validate(schema, 'x')).toThrow(TypeError);
  });
});
