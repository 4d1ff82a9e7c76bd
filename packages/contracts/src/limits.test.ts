import { describe, expect, it } from 'vitest';
import {
  MAX_BODY_BYTES,
  MAX_EVENTS_PER_BATCH,
  MAX_JSON_FIELD_BYTES,
  MAX_TASK_ERROR_CHARS,
  jsonByteLength,
} from './limits.ts';

describe('limits', () => {
  it('holds the sizes the contract fixes', () => {
    expect(MAX_BODY_BYTES).toBe(1_048_576);
    expect(MAX_JSON_FIELD_BYTES).toBe(16_384);
    expect(MAX_EVENTS_PER_BATCH).toBe(500);
    expect(MAX_TASK_ERROR_CHARS).toBe(4000);
  });
});

describe('jsonByteLength', () => {
  it.each([
    ['an empty object', {}, 2],
    ['a compact object (no spaces)', { a: 1, b: [true, null] }, '{"a":1,"b":[true,null]}'.length],
    ['a string with its quotes', 'abc', 5],
    ['a two-byte character', 'é', 4],
    ['a three-byte character', '€', 5],
    ['a four-byte emoji (one surrogate pair)', '😀', 6],
    ['an escaped quote', '"', 4],
    ['null', null, 4],
    ['undefined, which has no JSON', undefined, 0],
  ])('measures %s', (_label, value, bytes) => {
    expect(jsonByteLength(value)).toBe(bytes);
  });
});
