import {
  createScanner,
  parse,
  printParseErrorCode,
  type ParseError,
  type SyntaxKind,
} from 'jsonc-parser';

/**
 * The task payload editor's check: is the text a JSON object, and if not,
 * exactly where and what is wrong, in words ("Line 2, column 14: expected a
 * comma or }, found "b""). jsonc-parser finds the errors (strict JSON: no
 * comments, no trailing commas); a scan of the tokens before the error says
 * what the text needed there, since the parser's own code is often about a
 * symptom (a bare word reads as "invalid symbol", a trailing comma as
 * "property name expected").
 */

export interface PayloadProblem {
  /** What a person reads, position first when there is one. */
  message: string;
  /** 1-based line and column (in characters) of the problem; absent for "not an object". */
  line?: number;
  column?: number;
}

export type PayloadResult =
  { ok: true; value: Record<string, unknown> } | { ok: false; problem: PayloadProblem };

/** jsonc-parser's token kinds (a const enum, which isolated modules cannot read). */
const Token = {
  OpenBrace: 1,
  CloseBrace: 2,
  OpenBracket: 3,
  CloseBracket: 4,
  Comma: 5,
  Colon: 6,
  String: 10,
  Number: 11,
  EOF: 17,
} as const satisfies Record<string, SyntaxKind>;

const VALUE =
  'a value (a string in double quotes, a number, true, false, null, an object or an array)';

export function parsePayload(text: string): PayloadResult {
  // An empty editor means the contract's default payload.
  if (text.trim() === '') return { ok: true, value: {} };

  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length > 0) {
    const first = errors.reduce((a, b) => (b.offset < a.offset ? b : a));
    return { ok: false, problem: describe(text, first) };
  }

  let value: unknown;
  try {
    // The value itself from JSON.parse: it keeps a "__proto__" key as data,
    // where jsonc-parser's object building would set a prototype instead.
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: { message: (error as Error).message } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      problem: {
        message: `The payload must be a JSON object, like {"lead_id": "42"}, not ${kindOf(value)}.`,
      },
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  return String(value);
}

/** 1-based line and column of `offset`; \r\n is one line break, columns count characters. */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const char = text[i];
    if (char === '\n' || (char === '\r' && text[i + 1] !== '\n')) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: [...text.slice(lineStart, offset)].length + 1 };
}

function at(text: string, offset: number, message: string): PayloadProblem {
  const { line, column } = positionAt(text, offset);
  return { message: `Line ${line}, column ${column}: ${message}`, line, column };
}

interface Opening {
  kind: 'object' | 'array';
  offset: number;
}

interface Context {
  /** Open objects and arrays around the error, innermost last. */
  stack: Opening[];
  /** The last token before the error. */
  previous: { kind: SyntaxKind; text: string; end: number } | null;
  /** The token before that one. */
  beforePrevious: SyntaxKind | null;
}

/** The structure the text had built up to `offset`. */
function contextAt(text: string, offset: number): Context {
  const scanner = createScanner(text, true);
  const stack: Opening[] = [];
  let previous: Context['previous'] = null;
  let beforePrevious: SyntaxKind | null = null;
  for (let kind = scanner.scan(); kind !== Token.EOF; kind = scanner.scan()) {
    const start = scanner.getTokenOffset();
    if (start >= offset) break;
    if (kind === Token.OpenBrace) stack.push({ kind: 'object', offset: start });
    if (kind === Token.OpenBracket) stack.push({ kind: 'array', offset: start });
    if (kind === Token.CloseBrace || kind === Token.CloseBracket) stack.pop();
    beforePrevious = previous?.kind ?? null;
    previous = {
      kind,
      text: text.slice(start, start + scanner.getTokenLength()),
      end: start + scanner.getTokenLength(),
    };
  }
  return { stack, previous, beforePrevious };
}

/** The token at `offset` as written (invisible characters named), or "the end of the text". */
function found(text: string, offset: number): string {
  const scanner = createScanner(text, true);
  scanner.setPosition(offset);
  const kind = scanner.scan();
  if (kind === Token.EOF) return 'the end of the text';
  const start = scanner.getTokenOffset();
  const token = text.slice(start, start + scanner.getTokenLength());
  const invisible = /^[\u0000-\u001f\u00a0\u200b-\u200f\u2028\u2029\ufeff]/u.exec(token);
  if (invisible) {
    const code = invisible[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `an invisible character (U+${code})`;
  }
  return token.length > 24 ? `${token.slice(0, 24)}…` : token;
}

/** What the grammar allows next, given the tokens so far. */
function expected(context: Context): string {
  const container = context.stack.at(-1);
  const previous = context.previous?.kind;
  if (previous === undefined) return 'a JSON object, starting with {';
  if (previous === Token.Colon) return VALUE;
  if (container?.kind === 'object') {
    if (previous === Token.OpenBrace) return 'a property name in double quotes, or }';
    if (previous === Token.Comma) return 'a property name in double quotes';
    if (previous === Token.String && isPropertyName(context))
      return 'a colon (:) after the property name';
    return 'a comma or }';
  }
  if (container?.kind === 'array') {
    if (previous === Token.OpenBracket) return VALUE.replace('a value (', 'a value or ] (');
    if (previous === Token.Comma) return VALUE;
    return 'a comma or ]';
  }
  if (previous === Token.CloseBrace) return 'the end of the text after the closing }';
  return 'the end of the text (a payload is one JSON object: wrap it in { and })';
}

/** Whether the string before the error is a property name (in an object, right after { or ,). */
function isPropertyName(context: Context): boolean {
  return context.beforePrevious === Token.OpenBrace || context.beforePrevious === Token.Comma;
}

function describe(text: string, error: ParseError): PayloadProblem {
  const { offset, length } = error;
  const token = text.slice(offset, offset + length);
  switch (printParseErrorCode(error.error)) {
    case 'InvalidCommentToken':
    case 'UnexpectedEndOfComment':
      return at(text, offset, 'comments are not allowed in JSON; remove the comment');
    case 'UnexpectedEndOfString': {
      const end = offset + length;
      if (end < text.length)
        return at(
          text,
          end,
          'expected " to close the string before the end of the line (write \\n for a line break inside a string)',
        );
      return at(text, end, `expected " to close the string that starts at ${where(text, offset)}`);
    }
    case 'InvalidCharacter': {
      const index = [...token].findIndex((char) => char.charCodeAt(0) < 0x20);
      const position = offset + Math.max(0, index);
      const code = text.charCodeAt(position);
      return at(
        text,
        position,
        `a ${controlName(code)} must be written as ${escapeOf(code)} inside a string`,
      );
    }
    case 'InvalidEscapeCharacter': {
      const index = badEscapeIndex(token);
      return at(
        text,
        offset + index,
        `"\\${token[index + 1] ?? ''}" is not an escape JSON knows; use \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\u with four hex digits`,
      );
    }
    case 'InvalidUnicode': {
      const index = token.search(/\\u(?![0-9a-fA-F]{4})/);
      return at(
        text,
        offset + Math.max(0, index),
        'expected four hex digits after \\u, like \\u00e9',
      );
    }
    case 'UnexpectedEndOfNumber':
      return at(text, offset + length, `expected a digit: the number "${token}" is cut off`);
    case 'InvalidNumberFormat':
      return at(text, offset, `"${token}" is not a number JSON allows`);
    default:
      return structural(text, error);
  }
}

/** Errors about what comes where: said as what was expected and what was found. */
function structural(text: string, error: ParseError): PayloadProblem {
  const context = contextAt(text, error.offset);
  const what = found(text, error.offset);
  const previous = context.previous;

  if (
    previous?.kind === Token.Number &&
    /^-?0$/.test(previous.text) &&
    previous.end === error.offset &&
    /^[0-9]/.test(text.slice(error.offset))
  ) {
    return at(
      text,
      previous.end - 1,
      'a number cannot start with 0 (put codes like "007" in a string)',
    );
  }

  const opened = context.stack.at(-1);
  if (what === 'the end of the text' && opened) {
    const closer = opened.kind === 'object' ? '}' : ']';
    return at(
      text,
      error.offset,
      `expected ${expected(context)}: the ${opened.kind} opened at ${where(text, opened.offset)} is never closed with ${closer}`,
    );
  }

  if (previous?.kind === Token.Comma && (what === '}' || what === ']'))
    return at(text, previous.end - 1, `remove this comma: JSON allows no comma before ${what}`);

  const expectation = expected(context);
  let hint = '';
  if (what.startsWith("'")) hint = ' (JSON needs double quotes, not single quotes)';
  else if (/^(NaN|-?Infinity|undefined)$/.test(what))
    hint = ' (JSON has no NaN, Infinity or undefined)';
  else if (
    /^[A-Za-z_$]/.test(what) &&
    !/^(true|false|null)$/.test(what) &&
    /^a (value|property name)/.test(expectation)
  )
    hint = ' (text must be in double quotes)';
  return at(text, error.offset, `expected ${expectation}, found ${what}${hint}`);
}

function where(text: string, offset: number): string {
  const { line, column } = positionAt(text, offset);
  return `line ${line}, column ${column}`;
}

function controlName(code: number): string {
  if (code === 9) return 'tab';
  if (code === 10 || code === 13) return 'line break';
  return `control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
}

function escapeOf(code: number): string {
  if (code === 9) return '\\t';
  if (code === 10) return '\\n';
  if (code === 13) return '\\r';
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Index in a string token of the first backslash whose escape JSON does not know. */
function badEscapeIndex(token: string): number {
  for (let i = 0; i < token.length; i++) {
    if (token[i] !== '\\') continue;
    if (!'"\\/bfnrtu'.includes(token[i + 1] ?? '')) return i;
    i++;
  }
  return 0;
}
