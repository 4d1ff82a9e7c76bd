import { MAX_JSON_FIELD_BYTES, MAX_TASK_ERROR_CHARS } from '@omnihub/contracts';
import { describe, expect, it } from 'vitest';
import { boundTaskError, boundTaskOutput } from './output.ts';

const utf8Bytes = (text: string) => new TextEncoder().encode(text).byteLength;
/** True when `text` holds no lone surrogate (a UTF-8 round trip would replace one with U+FFFD). */
const isWellFormed = (text: string) =>
  new TextDecoder().decode(new TextEncoder().encode(text)) === text;

/** The preview of a truncated result, failing the test when the output was not truncated. */
function previewOf(output: unknown): string {
  const bounded = boundTaskOutput(output);
  expect(bounded.truncated).toBe(true);
  expect(bounded.output).toEqual({ truncated: true, preview: expect.any(String) });
  return (bounded.output as { preview: string }).preview;
}

describe('boundTaskOutput', () => {
  it('stores null, not truncated, when there is no output', () => {
    expect(boundTaskOutput(undefined)).toEqual({ output: null, truncated: false });
  });

  it.each([
    ['null', null],
    ['a string', 'done'],
    ['a number', 0],
    ['false', false],
    ['an array', [1, 'two']],
    ['an object', { rows: 12, ok: true }],
  ])('keeps a small output that is %s unchanged', (_label, output) => {
    expect(boundTaskOutput(output)).toEqual({ output, truncated: false });
  });

  it('keeps an output of exactly 16384 serialized bytes as the same value', () => {
    const output = { x: 'a'.repeat(MAX_JSON_FIELD_BYTES - '{"x":""}'.length) };
    expect(utf8Bytes(JSON.stringify(output))).toBe(MAX_JSON_FIELD_BYTES);
    const bounded = boundTaskOutput(output);
    expect(bounded.truncated).toBe(false);
    expect(bounded.output).toBe(output);
  });

  it('cuts an output of 16385 bytes to {truncated, preview}', () => {
    const output = { x: 'a'.repeat(MAX_JSON_FIELD_BYTES + 1 - '{"x":""}'.length) };
    expect(previewOf(output)).toBe(JSON.stringify(output).slice(0, MAX_JSON_FIELD_BYTES));
  });

  it('previews exactly the first 16 KiB of the serialized JSON when it is ASCII', () => {
    const output = { rows: Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `row ${i}` })) };
    const preview = previewOf(output);
    expect(preview).toHaveLength(MAX_JSON_FIELD_BYTES);
    expect(preview).toBe(JSON.stringify(output).slice(0, MAX_JSON_FIELD_BYTES));
  });

  it('measures the limit in bytes: multi-byte text under 16384 characters is still cut', () => {
    const output = '€'.repeat(6000); // 6002 characters, 18002 bytes
    expect(JSON.stringify(output).length).toBeLessThan(MAX_JSON_FIELD_BYTES);
    expect(boundTaskOutput(output).truncated).toBe(true);
  });

  // Shifting a run of multi-byte characters by 0..3 ASCII bytes puts the 16 KiB mark at
  // every position inside a character.
  describe.each([
    ['2-byte', 'é'],
    ['3-byte', '€'],
    ['4-byte', '😀'],
  ])('with %s characters', (_label, char) => {
    it.each([0, 1, 2, 3])('cuts output on a UTF-8 character boundary (shifted by %i)', (shift) => {
      const output = { text: 'a'.repeat(shift) + char.repeat(10_000) };
      const serialized = JSON.stringify(output);
      const preview = previewOf(output);
      expect(isWellFormed(preview)).toBe(true);
      expect(preview).not.toContain('\uFFFD');
      expect(serialized.startsWith(preview)).toBe(true);
      expect(utf8Bytes(preview)).toBeLessThanOrEqual(MAX_JSON_FIELD_BYTES);
      expect(utf8Bytes(preview)).toBeGreaterThan(MAX_JSON_FIELD_BYTES - 4);
    });
  });
});

describe('boundTaskError', () => {
  it.each([undefined, null])('stores %s as null', (error) => {
    expect(boundTaskError(error)).toBeNull();
  });

  it.each([
    ['an empty string', ''],
    ['a short message', 'boom'],
    ['exactly MAX_TASK_ERROR_CHARS characters', 'x'.repeat(MAX_TASK_ERROR_CHARS)],
  ])('keeps %s unchanged', (_label, error) => {
    expect(boundTaskError(error)).toBe(error);
  });

  it('cuts a long message to MAX_TASK_ERROR_CHARS characters ending with …', () => {
    const error = 'Error: boom\n    at handler (worker.js:1:1)\n'.repeat(200);
    const bounded = boundTaskError(error)!;
    expect(bounded).toHaveLength(MAX_TASK_ERROR_CHARS);
    expect(bounded.endsWith('…')).toBe(true);
    expect(bounded.slice(0, -1)).toBe(error.slice(0, MAX_TASK_ERROR_CHARS - 1));
  });

  it('cuts a message one character over the limit', () => {
    const bounded = boundTaskError('x'.repeat(MAX_TASK_ERROR_CHARS + 1))!;
    expect(bounded).toBe(`${'x'.repeat(MAX_TASK_ERROR_CHARS - 1)}…`);
  });

  it.each([0, 1])('never splits an emoji (surrogate pair), shifted by %i', (shift) => {
    const error = 'a'.repeat(shift) + '😀'.repeat(MAX_TASK_ERROR_CHARS + 1);
    const bounded = boundTaskError(error)!;
    expect(isWellFormed(bounded)).toBe(true);
    expect(bounded.endsWith('…')).toBe(true);
    expect(Array.from(bounded)).toHaveLength(MAX_TASK_ERROR_CHARS);
    expect(error.startsWith(bounded.slice(0, -1))).toBe(true);
  });

  // 4200 UTF-16 code units but 3600 characters: under the limit, so it stays whole.
  it('does not mark a message as cut when nothing was cut', () => {
    const error = 'a'.repeat(3000) + '😀'.repeat(600);
    expect(boundTaskError(error)).toBe(error);
  });
});
