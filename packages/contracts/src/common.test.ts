import { describe, expect, it } from 'vitest';
import {
  BoundedJsonObject,
  IdempotencyKey,
  Identifier,
  JsonObject,
  PAYLOAD_TOO_LARGE,
  TaskId,
  Timestamp,
  WorkerId,
} from './common.ts';
import { MAX_JSON_FIELD_BYTES, jsonByteLength } from './limits.ts';

/** An object whose compact JSON is exactly `bytes` bytes long: {"x":"aaa…"} */
function objectOfBytes(bytes: number, fill = 'a'): Record<string, string> {
  const overhead = jsonByteLength({ x: '' });
  const fillBytes = new TextEncoder().encode(fill).byteLength;
  const body = bytes - overhead;
  if (body % fillBytes !== 0) throw new Error(`cannot build ${bytes} bytes from ${fill}`);
  const value = { x: fill.repeat(body / fillBytes) };
  expect(jsonByteLength(value)).toBe(bytes);
  return value;
}

describe('Identifier', () => {
  it.each([
    ['a plain name', 'lead-gen'],
    ['every allowed punctuation mark', 'a.b:c_d-1'],
    ['digits only', '42'],
    ['a single character', 'x'],
    ['exactly 100 characters', 'a'.repeat(100)],
  ])('accepts %s', (_label, value) => {
    expect(Identifier.safeParse(value).success).toBe(true);
  });

  it.each([
    ['an empty string', ''],
    ['101 characters', 'a'.repeat(101)],
    ['uppercase letters', 'Lead-gen'],
    ['a space', 'lead gen'],
    ['a leading space', ' lead-gen'],
    ['a trailing newline', 'lead-gen\n'],
    ['a slash', 'lead/gen'],
    ['a non-ASCII letter', 'léad'],
    ['a number instead of a string', 42],
  ])('refuses %s', (_label, value) => {
    const result = Identifier.safeParse(value);
    expect(result.success).toBe(false);
  });

  it('explains the allowed alphabet when it refuses', () => {
    const result = Identifier.safeParse('Nope');
    expect(result.error?.issues[0]?.message).toBe(
      "must be 1-100 characters of a-z, 0-9, '_', '.', ':' or '-'",
    );
  });
});

describe.each([
  ['IdempotencyKey', IdempotencyKey],
  ['WorkerId', WorkerId],
])('%s', (_name, schema) => {
  it('accepts 1 to 200 characters of anything', () => {
    expect(schema.safeParse('k').success).toBe(true);
    expect(schema.safeParse('Any Thing/é ✓').success).toBe(true);
    expect(schema.safeParse('x'.repeat(200)).success).toBe(true);
  });

  it('refuses an empty string and 201 characters', () => {
    expect(schema.safeParse('').error?.issues[0]?.message).toBe('must not be empty');
    expect(schema.safeParse('x'.repeat(201)).error?.issues[0]?.message).toBe(
      'must be at most 200 characters',
    );
  });
});

describe('Timestamp', () => {
  it.each([
    '2026-11-21T10:00:00Z',
    '2026-11-21T10:00:00.123Z',
    '2026-11-21T10:00:00+02:00',
    '2026-11-21T19:31:31.040607+00:00',
    '2026-11-21T10:00:00-05:30',
  ])('accepts %s', (value) => {
    expect(Timestamp.safeParse(value).success).toBe(true);
  });

  it.each([
    ['no time zone', '2026-11-21T10:00:00'],
    ['a date only', '2026-11-21'],
    ['a space instead of T', '2026-11-21 10:00:00Z'],
    ['an impossible date', '2026-02-30T10:00:00Z'],
    ['not a date at all', 'yesterday'],
  ])('refuses %s', (_label, value) => {
    const result = Timestamp.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/time zone/);
  });
});

describe('JsonObject', () => {
  it('accepts objects, including empty and nested ones', () => {
    expect(JsonObject.safeParse({}).success).toBe(true);
    expect(JsonObject.safeParse({ a: [1, { b: null }] }).success).toBe(true);
  });

  it.each([
    ['an array', []],
    ['a string', 'x'],
    ['a number', 1],
    ['null', null],
  ])('refuses %s', (_label, value) => {
    expect(JsonObject.safeParse(value).success).toBe(false);
  });
});

describe('BoundedJsonObject', () => {
  it('accepts exactly 16384 bytes of serialized JSON', () => {
    expect(BoundedJsonObject.safeParse(objectOfBytes(MAX_JSON_FIELD_BYTES)).success).toBe(true);
  });

  it('refuses 16385 bytes with an issue marked payload_too_large', () => {
    const result = BoundedJsonObject.safeParse(objectOfBytes(MAX_JSON_FIELD_BYTES + 1));
    expect(result.success).toBe(false);
    const issue = result.error?.issues[0];
    expect(issue?.code).toBe('custom');
    expect(issue?.code === 'custom' && issue.params?.[PAYLOAD_TOO_LARGE]).toBe(true);
    expect(issue?.message).toBe('must be at most 16384 bytes of serialized JSON');
  });

  it('counts multi-byte characters as bytes, not as characters', () => {
    // 3 bytes per '€': fewer than 16384 characters, more than 16384 bytes.
    const value = { x: '€'.repeat(6000) };
    expect(JSON.stringify(value).length).toBeLessThan(MAX_JSON_FIELD_BYTES);
    expect(BoundedJsonObject.safeParse(value).success).toBe(false);
  });

  it('does not mark a non-object as too large', () => {
    const issues = BoundedJsonObject.safeParse('x'.repeat(20_000)).error?.issues ?? [];
    expect(issues.map((issue) => issue.message)).toEqual(['must be a JSON object']);
    expect(
      issues.some((issue) => issue.code === 'custom' && issue.params?.[PAYLOAD_TOO_LARGE]),
    ).toBe(false);
  });
});

describe('TaskId', () => {
  it('accepts a UUID and refuses anything else', () => {
    expect(TaskId.safeParse('5b0c7f5e-7a0e-4a51-9a3e-0f3c3b7d2a11').success).toBe(true);
    expect(TaskId.safeParse('not-a-uuid').error?.issues[0]?.message).toBe(
      'must be a task id (a UUID)',
    );
    expect(TaskId.safeParse('5b0c7f5e7a0e4a519a3e0f3c3b7d2a11').success).toBe(false);
  });
});
