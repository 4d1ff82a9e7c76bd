import { describe, expect, it } from 'vitest';
import { parsePayload, positionAt } from './payload.ts';

/** The message for `text`, which must be refused. */
function problem(text: string): string {
  const result = parsePayload(text);
  if (result.ok) throw new Error(`accepted ${JSON.stringify(text)}`);
  return result.problem.message;
}

describe('parsePayload: what it accepts', () => {
  it('returns the object a valid payload denotes', () => {
    expect(
      parsePayload('{"message": "hello", "n": [1, 2.5, -3e2], "ok": true, "none": null}'),
    ).toEqual({
      ok: true,
      value: { message: 'hello', n: [1, 2.5, -300], ok: true, none: null },
    });
  });

  it('reads an empty editor as the default payload {}', () => {
    expect(parsePayload('')).toEqual({ ok: true, value: {} });
    expect(parsePayload('  \n\t ')).toEqual({ ok: true, value: {} });
  });

  it('keeps a "__proto__" key as data rather than setting a prototype', () => {
    const result = parsePayload('{"__proto__": {"admin": true}}');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.keys(result.value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
    expect(JSON.stringify(result.value)).toBe('{"__proto__":{"admin":true}}');
  });

  it('accepts escapes and non-ASCII text', () => {
    expect(parsePayload('{"a": "tab\\there \\u00e9 \\"q\\" 😀"}')).toEqual({
      ok: true,
      value: { a: 'tab\there é "q" 😀' },
    });
  });
});

describe('parsePayload: a payload must be an object', () => {
  it.each([
    ['[1, 2]', 'an array'],
    ['"hello"', 'a string'],
    ['42', 'a number'],
    ['true', 'true'],
    ['null', 'null'],
  ])('refuses %s, saying it is %s', (text, kind) => {
    expect(problem(text)).toBe(
      `The payload must be a JSON object, like {"lead_id": "42"}, not ${kind}.`,
    );
  });
});

describe('parsePayload: where and what is wrong', () => {
  it('says a comma is missing between two properties, at the second one', () => {
    expect(problem('{\n  "message": "hello"\n  "b": 2\n}')).toBe(
      'Line 3, column 3: expected a comma or }, found "b"',
    );
  });

  it('says a comma or ] is expected inside an array', () => {
    expect(problem('{"a": [1 2]}')).toBe('Line 1, column 10: expected a comma or ], found 2');
    expect(problem('{"a": {"b": [1, 2}}')).toBe(
      'Line 1, column 18: expected a comma or ], found }',
    );
  });

  it('points at a trailing comma and says to remove it', () => {
    expect(problem('{"a": 1,}')).toBe(
      'Line 1, column 8: remove this comma: JSON allows no comma before }',
    );
    expect(problem('{"a": [1,\n  2,\n]}')).toBe(
      'Line 2, column 4: remove this comma: JSON allows no comma before ]',
    );
  });

  it('says property names need double quotes', () => {
    expect(problem('{message: "hi"}')).toBe(
      'Line 1, column 2: expected a property name in double quotes, or }, found message (text must be in double quotes)',
    );
    expect(problem("{'message': 'hi'}")).toBe(
      "Line 1, column 2: expected a property name in double quotes, or }, found 'message' (JSON needs double quotes, not single quotes)",
    );
    expect(problem('{"a": 1, b: 2}')).toBe(
      'Line 1, column 10: expected a property name in double quotes, found b (text must be in double quotes)',
    );
  });

  it('says a bare word is not a value', () => {
    expect(problem('{"a": hello}')).toBe(
      'Line 1, column 7: expected a value (a string in double quotes, a number, true, false, null, an object or an array), found hello (text must be in double quotes)',
    );
    expect(problem('{"a": NaN}')).toMatch(
      /^Line 1, column 7: expected a value .*, found NaN \(JSON has no NaN, Infinity or undefined\)$/,
    );
    expect(problem('{"a": tru}')).toMatch(/^Line 1, column 7: expected a value .*, found tru /);
  });

  it('says a value is missing after a colon', () => {
    expect(problem('{"a": 1,\n "b": }')).toMatch(
      /^Line 2, column 7: expected a value \(.*\), found }$/,
    );
  });

  it('says a colon is missing after a property name', () => {
    expect(problem('{"a" 1}')).toBe(
      'Line 1, column 6: expected a colon (:) after the property name, found 1',
    );
    expect(problem('{"a"}')).toBe(
      'Line 1, column 5: expected a colon (:) after the property name, found }',
    );
  });

  it('says which object or array is never closed', () => {
    expect(problem('{\n  "a": {"b": 1\n}')).toBe(
      'Line 3, column 2: expected a comma or }: the object opened at line 1, column 1 is never closed with }',
    );
    expect(problem('{"a": [1, 2')).toBe(
      'Line 1, column 12: expected a comma or ]: the array opened at line 1, column 7 is never closed with ]',
    );
  });

  it('says what follows the end of the object is not allowed', () => {
    expect(problem('{"a": 1}}')).toBe(
      'Line 1, column 9: expected the end of the text after the closing }, found }',
    );
    expect(problem('{"a": 1}\n{"b": 2}')).toBe(
      'Line 2, column 1: expected the end of the text after the closing }, found {',
    );
  });

  it('says the text must start with {', () => {
    expect(problem('"a": 1')).toBe(
      'Line 1, column 4: expected the end of the text (a payload is one JSON object: wrap it in { and }), found :',
    );
    expect(problem('\uFEFF{}')).toBe(
      'Line 1, column 1: expected a JSON object, starting with {, found an invisible character (U+FEFF)',
    );
  });

  it('refuses comments', () => {
    expect(problem('{\n  // the lead\n  "lead_id": "42"\n}')).toBe(
      'Line 2, column 3: comments are not allowed in JSON; remove the comment',
    );
    expect(problem('{"a": 1 /* why */}')).toBe(
      'Line 1, column 9: comments are not allowed in JSON; remove the comment',
    );
  });

  it('says where a string is not closed', () => {
    expect(problem('{"a": "abc')).toBe(
      'Line 1, column 11: expected " to close the string that starts at line 1, column 7',
    );
    expect(problem('{"a": "two\nlines"}')).toBe(
      'Line 1, column 11: expected " to close the string before the end of the line (write \\n for a line break inside a string)',
    );
  });

  it('points at the exact character of a bad string', () => {
    expect(problem('{"a": "x\ty"}')).toBe(
      'Line 1, column 9: a tab must be written as \\t inside a string',
    );
    expect(problem('{"a": "ok \\q"}')).toBe(
      'Line 1, column 11: "\\q" is not an escape JSON knows; use \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\u with four hex digits',
    );
    expect(problem('{"a": "é \\u12"}')).toBe(
      'Line 1, column 10: expected four hex digits after \\u, like \\u00e9',
    );
  });

  it('explains numbers JSON does not allow', () => {
    expect(problem('{"a": 1.}')).toBe(
      'Line 1, column 9: expected a digit: the number "1." is cut off',
    );
    expect(problem('{"a": 2e}')).toBe(
      'Line 1, column 9: expected a digit: the number "2e" is cut off',
    );
    expect(problem('{"zip": 007}')).toBe(
      'Line 1, column 9: a number cannot start with 0 (put codes like "007" in a string)',
    );
  });

  it('reports the first problem when there are several', () => {
    expect(problem('{a: 1, "b" 2,}')).toMatch(/^Line 1, column 2: /);
  });

  it('gives the position as numbers too, for the editor', () => {
    expect(parsePayload('{\n "a" 1}')).toMatchObject({
      ok: false,
      problem: { line: 2, column: 6 },
    });
    const notObject = parsePayload('[]');
    expect(!notObject.ok && notObject.problem.line).toBeUndefined();
  });
});

describe('positionAt', () => {
  it('counts lines over \\n, \\r\\n and \\r, and columns in characters', () => {
    const text = 'ab\r\ncd\ref\n😀x';
    expect(positionAt(text, 0)).toEqual({ line: 1, column: 1 });
    expect(positionAt(text, 5)).toEqual({ line: 2, column: 2 });
    expect(positionAt(text, 8)).toEqual({ line: 3, column: 2 });
    // The emoji is two UTF-16 units but one character.
    expect(positionAt(text, text.indexOf('x'))).toEqual({ line: 4, column: 2 });
  });

  it('places an error on a CRLF line where a person sees it', () => {
    expect(problem('{\r\n  "a": 1\r\n  "b": 2\r\n}')).toBe(
      'Line 3, column 3: expected a comma or }, found "b"',
    );
  });
});
