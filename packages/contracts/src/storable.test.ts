import { describe, expect, it } from 'vitest';
import { IdempotencyKey, StoredJsonObject, Timestamp, WorkerId } from './common.ts';
import { MAX_JSON_DEPTH } from './limits.ts';
import {
  isStorableJson,
  isStorableText,
  jsonDepth,
  toStorableJson,
  toStorableText,
} from './storable.ts';

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { n: value };
  return value;
};

describe('storable text', () => {
  it.each([
    ['plain text', 'hello', true],
    ['an emoji (a surrogate pair)', 'ok 😀', true],
    ['a NUL character', 'a\u0000b', false],
    ['a lone high surrogate', 'cut \ud83d', false],
    ['a lone low surrogate', '\ude00 cut', false],
  ])('%s: storable is %s', (_name, text, storable) => {
    expect(isStorableText(text)).toBe(storable);
  });

  it('replaces each unstorable character with U+FFFD and keeps the rest', () => {
    expect(toStorableText('a\u0000b\ud83dc😀')).toBe('a\uFFFDb\uFFFDc😀');
  });
});

describe('storable JSON', () => {
  it('measures depth without recursion, even for 200,000 levels', () => {
    expect(jsonDepth('x')).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
    expect(jsonDepth(nested(200_000))).toBeGreaterThan(MAX_JSON_DEPTH);
  });

  it('finds unstorable text in nested strings and in keys', () => {
    expect(isStorableJson({ a: [{ b: 'fine' }] })).toBe(true);
    expect(isStorableJson({ a: [{ b: 'bad\u0000' }] })).toBe(false);
    expect(isStorableJson({ 'key\ud800': 1 })).toBe(false);
  });

  it('copies JSON with every string and key made storable, keeping a "__proto__" key as data', () => {
    const raw = JSON.parse('{"__proto__": {"x": "a\\u0000"}, "list": ["\\ud83d"], "n": 1}');
    const copy = toStorableJson(raw) as Record<string, unknown>;
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"x":"a\uFFFD"},"list":["\uFFFD"],"n":1}');
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });
});

describe('schemas refuse what Postgres cannot store', () => {
  it.each([
    ['year 0000', '0000-01-01T00:00:00Z', false],
    ['year 0001', '0001-01-01T00:00:00Z', true],
    ['offset +15:59', '2026-11-21T10:00:00+15:59', true],
    ['offset +16:00', '2026-11-21T10:00:00+16:00', false],
    ['offset -23:59', '2026-11-21T10:00:00-23:59', false],
  ])('Timestamp with %s: accepted is %s', (_name, text, ok) => {
    expect(Timestamp.safeParse(text).success).toBe(ok);
  });

  it('refuses a NUL or a lone surrogate in idempotency keys and worker ids', () => {
    for (const schema of [IdempotencyKey, WorkerId]) {
      expect(schema.safeParse('ok-1').success).toBe(true);
      expect(schema.safeParse('a\u0000').success).toBe(false);
      expect(schema.safeParse('\ud83d').success).toBe(false);
    }
  });

  it('refuses stored JSON that nests too deep or holds unstorable text, and keeps the object it was given', () => {
    expect(StoredJsonObject.safeParse(nested(MAX_JSON_DEPTH - 1)).success).toBe(true);
    expect(StoredJsonObject.safeParse(nested(MAX_JSON_DEPTH + 1)).success).toBe(false);
    expect(StoredJsonObject.safeParse({ a: 'x\u0000' }).success).toBe(false);
    const raw = JSON.parse('{"__proto__": 1, "b": 2}');
    expect(StoredJsonObject.parse(raw)).toBe(raw);
  });
});
