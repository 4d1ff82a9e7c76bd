import { requestErrors, RestError, schemaErrors } from './errors.ts';

/**
 * PostgREST's query string grammar (PostgREST.ApiRequest.QueryParams), for
 * the top level of one table: select=, filters, or=/and= trees and order=.
 * Parsing only: the names found here are checked against the catalog later,
 * and the values are bound as parameters, never written into SQL.
 */

/** One `->key` / `->>key` step of a JSON path; `index` for `->0`, which PostgREST casts to int. */
export interface JsonStep {
  arrow: '->' | '->>';
  key: string;
  index: boolean;
}

export interface FieldRef {
  column: string;
  path: JsonStep[];
}

export type SelectItem =
  | { kind: 'star' }
  | { kind: 'field'; field: FieldRef; alias: string | undefined; cast: string | undefined };

/** Operators that take a single value, with their SQL (PostgREST's SqlFragment). */
const SIMPLE_OPERATORS: Record<string, string> = {
  eq: '=',
  neq: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  like: 'like',
  ilike: 'ilike',
  match: '~',
  imatch: '~*',
  cs: '@>',
  cd: '<@',
  ov: '&&',
  sl: '<<',
  sr: '>>',
  nxr: '&<',
  nxl: '&>',
  adj: '-|-',
};
/** The ones that accept `(any)` / `(all)` and a `{a,b}` list. */
const QUANTIFIABLE = new Set(['eq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch']);
const FTS_OPERATORS = new Set(['fts', 'plfts', 'phfts', 'wfts']);

export type Operation =
  | { kind: 'simple'; sql: string; value: string; quantifier: 'any' | 'all' | undefined }
  | { kind: 'in'; values: string[] }
  | { kind: 'is'; value: 'null' | 'not_null' | 'true' | 'false' | 'unknown' }
  | { kind: 'isdistinct'; value: string };

export interface Filter {
  kind: 'filter';
  field: FieldRef;
  negated: boolean;
  operation: Operation;
}

export interface LogicTree {
  kind: 'logic';
  negated: boolean;
  operator: 'and' | 'or';
  children: Condition[];
}

export type Condition = Filter | LogicTree;

export interface OrderTerm {
  field: FieldRef;
  direction: 'asc' | 'desc' | undefined;
  nulls: 'first' | 'last' | undefined;
}

/** What a table request's query string asks for. */
export interface TableQuery {
  select: SelectItem[];
  conditions: Condition[];
  order: OrderTerm[];
  limit: number | undefined;
  offset: number | undefined;
  /** `columns=` of an insert: which keys of the body to use. */
  columns: string[] | undefined;
}

/** Query keys that are not filters (PostgREST's reserved and "embeddable" ones). */
const RESERVED = new Set(['select', 'columns', 'on_conflict', 'order', 'limit', 'offset']);

/**
 * Splits a table request's query string. Keys whose value carries no operator
 * are not filters, and PostgREST ignores them on tables (e.g. a cache buster
 * `_=123`); `table` names the resource for PostgREST's error messages.
 */
export function parseTableQuery(params: URLSearchParams, table: string): TableQuery {
  const query: TableQuery = {
    select: [{ kind: 'star' }],
    conditions: [],
    order: [],
    limit: undefined,
    offset: undefined,
    columns: undefined,
  };
  for (const [key, value] of params) {
    const embedded = embeddedKey(key);
    if (key === 'select') query.select = parseSelect(value, table);
    else if (key === 'columns') query.columns = parseColumns(value);
    // Only meaningful with Prefer: resolution (upserts), which the insert refuses.
    else if (key === 'on_conflict') continue;
    else if (key === 'order') query.order.push(...parseOrder(value));
    else if (key === 'limit') query.limit = parseCount(value, 'limit');
    else if (key === 'offset') query.offset = parseCount(value, 'offset');
    else if (key === 'or' || key === 'and' || key === 'not.or' || key === 'not.and')
      query.conditions.push(parseLogicParam(key, value));
    else if (embedded !== undefined) throw requestErrors.notEmbedded(embedded);
    else if (isFilterValue(value)) query.conditions.push(parseFilter(key, value));
  }
  return query;
}

/**
 * For a GET /rpc call: the function's arguments (keys whose value carries no
 * operator) apart from everything else, which PostgREST would apply to the
 * function's result.
 */
export function splitRpcQuery(params: URLSearchParams): {
  args: [string, string][];
  other: string[];
} {
  const args: [string, string][] = [];
  const other: string[] = [];
  for (const [key, value] of params) {
    const reserved =
      RESERVED.has(key) || ['or', 'and', 'not.or', 'not.and'].includes(key) || key.includes('.');
    if (reserved || isFilterValue(value)) other.push(key);
    else args.push([key, value]);
  }
  return { args, other };
}

/** `rel.col=…`, `rel.order=…`: an embedded resource's parameter; its name, or undefined. */
function embeddedKey(key: string): string | undefined {
  const dot = key.indexOf('.');
  if (dot <= 0) return undefined;
  // A JSON path key (`data->>a.b`) is not an embedding: the dot sits after an arrow.
  const arrow = key.indexOf('->');
  if (arrow !== -1 && arrow < dot) return undefined;
  return key.slice(0, dot);
}

/** PostgREST's test for "this value is a filter, not an RPC argument". */
function isFilterValue(value: string): boolean {
  const parts = value.split('.');
  const first = parts[0] ?? '';
  if (first === 'not' && parts.length > 1) return true;
  if (first === 'is' || first === 'in') return true;
  const name = first.replace(/\((any|all)\)$/, '');
  if (name in SIMPLE_OPERATORS || FTS_OPERATORS.has(name)) return true;
  const paren = value.indexOf('(');
  return paren > 0 && FTS_OPERATORS.has(value.slice(0, paren));
}

function parseCount(value: string, name: 'limit' | 'offset'): number {
  if (!/^\d+$/.test(value.trim()))
    throw requestErrors.queryParam(
      `"failed to parse ${name} parameter (${value})" (line 1, column 1)`,
      `unexpected "${value.charAt(0)}" expecting digit`,
    );
  return Number(value.trim());
}

/** A cursor over one parameter's text, reporting errors the way PostgREST (Parsec) does. */
class Scanner {
  pos = 0;
  constructor(
    readonly text: string,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(length = 1): string {
    return this.text.slice(this.pos, this.pos + length);
  }
  startsWith(prefix: string): boolean {
    return this.text.startsWith(prefix, this.pos);
  }
  eat(prefix: string): boolean {
    if (!this.startsWith(prefix)) return false;
    this.pos += prefix.length;
    return true;
  }
  skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos += 1;
  }
  fail(expecting: string): RestError {
    const unexpected = this.done ? 'end of input' : `"${this.peek()}"`;
    return requestErrors.queryParam(
      `"failed to parse ${this.what} (${this.text})" (line 1, column ${this.pos + 1})`,
      `unexpected ${unexpected} expecting ${expecting}`,
    );
  }
}

const IDENTIFIER_CHAR = /[\p{L}\p{N}_ $]/u;

/** A field name: `"quoted"` (backslash escapes), or identifier characters joined by `-`. */
function fieldName(s: Scanner): string {
  s.skipSpaces();
  if (s.peek() === '"') return quoted(s);
  const start = s.pos;
  for (;;) {
    while (!s.done && IDENTIFIER_CHAR.test(s.peek())) s.pos += 1;
    // A dash continues the name unless it starts a JSON arrow.
    if (s.peek() === '-' && s.peek(2) !== '->' && IDENTIFIER_CHAR.test(s.text.charAt(s.pos + 1)))
      s.pos += 1;
    else break;
  }
  const name = s.text.slice(start, s.pos).trim();
  if (name === '') throw s.fail('field name (* or [a..z0..9_$])');
  return name;
}

function quoted(s: Scanner): string {
  s.eat('"');
  let value = '';
  while (!s.done && s.peek() !== '"') {
    if (s.peek() === '\\') s.pos += 1;
    value += s.peek();
    s.pos += 1;
  }
  if (!s.eat('"')) throw s.fail('"\\""');
  return value;
}

function jsonPath(s: Scanner): JsonStep[] {
  const steps: JsonStep[] = [];
  for (;;) {
    const arrow = s.eat('->>') ? '->>' : s.eat('->') ? '->' : undefined;
    if (!arrow) return steps;
    const index = /^-?\d+(?=->|::|\.|,|\)|$)/.exec(s.text.slice(s.pos));
    if (index) {
      s.pos += index[0].length;
      steps.push({ arrow, key: index[0], index: true });
    } else {
      steps.push({ arrow, key: fieldName(s), index: false });
    }
  }
}

function field(s: Scanner): FieldRef {
  const column = fieldName(s);
  const path = jsonPath(s);
  s.skipSpaces();
  return { column, path };
}

/** Splits on commas outside parentheses, braces and double quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inQuotes = false;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (inQuotes) {
      if (c === '\\') i += 1;
      else if (c === '"') inQuotes = false;
    } else if (c === '"') inQuotes = true;
    else if (c === '(' || c === '{') depth += 1;
    else if (c === ')' || c === '}') depth -= 1;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * select=: `*`, `col`, `alias:col`, `col::cast`, `col->json->>path`. An
 * embedded resource (`rel(...)`, `...rel(...)`) is refused as PostgREST
 * refuses a relationship it cannot find: this stand-in knows none.
 */
export function parseSelect(text: string, table: string): SelectItem[] {
  if (text.trim() === '') return [{ kind: 'star' }];
  return splitTopLevel(text).map((raw) => {
    const item = raw.trim();
    const paren = item.indexOf('(');
    if (paren !== -1) {
      const name = item
        .slice(0, paren)
        .replace(/^\.+/, '')
        .replace(/^[^:]*:(?!:)/, '')
        .replace(/!.*$/, '')
        .trim();
      throw schemaErrors.noRelationship(table, name);
    }
    if (item === '*') return { kind: 'star' };
    const s = new Scanner(item, 'select parameter');
    let alias: string | undefined;
    const afterAlias = new Scanner(item, 'select parameter');
    const candidate = tryParse(() => fieldName(afterAlias));
    if (candidate !== undefined && afterAlias.peek() === ':' && afterAlias.peek(2) !== '::') {
      alias = candidate;
      s.pos = afterAlias.pos + 1;
    }
    const fieldRef = field(s);
    let cast: string | undefined;
    if (s.eat('::')) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.text.slice(s.pos));
      if (!match) throw s.fail('letter or digit');
      cast = match[0];
      s.pos += cast.length;
    }
    s.skipSpaces();
    if (!s.done) throw s.fail('"->>", "->", "::", ")", "," or end of input');
    return { kind: 'field', field: fieldRef, alias, cast };
  });
}

function tryParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/** columns=: the body keys an insert uses (supabase-js sends them quoted). */
function parseColumns(text: string): string[] {
  const s = new Scanner(text, 'columns parameter');
  const names: string[] = [fieldName(s)];
  s.skipSpaces();
  while (s.eat(',')) {
    names.push(fieldName(s));
    s.skipSpaces();
  }
  if (!s.done) throw s.fail('"," or end of input');
  return names;
}

/** order=: `col`, `col.desc`, `col.asc.nullslast`, …, comma-separated. */
export function parseOrder(text: string): OrderTerm[] {
  const s = new Scanner(text, 'order');
  const terms: OrderTerm[] = [];
  for (;;) {
    const start = s.pos;
    const name = fieldName(s);
    if (s.peek() === '(') {
      s.pos = start;
      throw requestErrors.notEmbedded(name);
    }
    const path = jsonPath(s);
    let direction: OrderTerm['direction'];
    let nulls: OrderTerm['nulls'];
    if (s.eat('.asc')) direction = 'asc';
    else if (s.eat('.desc')) direction = 'desc';
    if (s.eat('.nullsfirst')) nulls = 'first';
    else if (s.eat('.nullslast')) nulls = 'last';
    s.skipSpaces();
    if (s.peek() === '.')
      throw s.fail(
        direction ? '"nullsfirst" or "nullslast"' : '"asc", "desc", "nullsfirst" or "nullslast"',
      );
    terms.push({ field: { column: name, path }, direction, nulls });
    if (s.done) return terms;
    if (!s.eat(',')) throw s.fail('delimiter (.), "," or end of input');
  }
}

/** A `column=op.value` query parameter. */
function parseFilter(key: string, value: string): Filter {
  const keyScanner = new Scanner(key, 'tree path');
  const fieldRef = field(keyScanner);
  if (!keyScanner.done) throw keyScanner.fail('"->>", "->" or end of input');
  const s = new Scanner(value, 'filter');
  const { negated, operation } = opExpression(s, false);
  return { kind: 'filter', field: fieldRef, negated, operation };
}

/**
 * `[not.]op.value`. At the top level the value is the rest of the text; inside
 * or=(…) it ends at `,` or `)` unless quoted, a `{…}` list, or an in-list.
 */
function opExpression(s: Scanner, inLogic: boolean): { negated: boolean; operation: Operation } {
  const negated = s.eat('not.');
  if (s.eat('in.')) return { negated, operation: { kind: 'in', values: listValue(s) } };
  if (s.eat('is.')) {
    const match = /^(null|not_null|unknown|true|false)/i.exec(s.text.slice(s.pos));
    if (!match) throw s.fail('null or trilean value (unknown, true, false)');
    s.pos += match[0].length;
    const value = match[0].toLowerCase() as 'null' | 'not_null' | 'true' | 'false' | 'unknown';
    return { negated, operation: { kind: 'is', value } };
  }
  const operatorEnd = s.text.indexOf('.', s.pos);
  if (operatorEnd === -1) throw s.fail('operator (eq, gt, ...)');
  const token = s.text.slice(s.pos, operatorEnd);
  const quantified = /^([a-z]+)\((any|all)\)$/.exec(token);
  const name = quantified ? quantified[1]! : token;
  const ftsName = token.replace(/\(.*\)$/, '');
  if (FTS_OPERATORS.has(ftsName))
    throw requestErrors.notImplemented(
      'Full-text search filters (fts, plfts, phfts, wfts) are not supported by the local stack.',
    );
  if (name === 'isdistinct') {
    s.pos = operatorEnd + 1;
    return { negated, operation: { kind: 'isdistinct', value: singleValue(s, inLogic) } };
  }
  const sql = SIMPLE_OPERATORS[name];
  if (sql === undefined || (quantified && !QUANTIFIABLE.has(name))) {
    const error = s.fail('operator (eq, gt, ...)');
    error.body.details = `unknown single value operator ${token}`;
    throw error;
  }
  s.pos = operatorEnd + 1;
  let value = singleValue(s, inLogic);
  // PostgREST's like/ilike use * for %, which a URL carries without escaping.
  if (name === 'like' || name === 'ilike') value = value.replaceAll('*', '%');
  return {
    negated,
    operation: {
      kind: 'simple',
      sql,
      value,
      quantifier: quantified?.[2] as 'any' | 'all' | undefined,
    },
  };
}

function singleValue(s: Scanner, inLogic: boolean): string {
  if (!inLogic) {
    const value = s.text.slice(s.pos);
    s.pos = s.text.length;
    return value;
  }
  if (s.peek() === '"') {
    const start = s.pos;
    const value = quoted(s);
    if (s.done || s.peek() === ',' || s.peek() === ')') return value;
    s.pos = start;
  }
  if (s.peek() === '{') {
    const close = s.text.indexOf('}', s.pos);
    if (close !== -1 && !s.text.slice(s.pos + 1, close).includes('{')) {
      const value = s.text.slice(s.pos, close + 1);
      s.pos = close + 1;
      return value;
    }
  }
  const start = s.pos;
  while (!s.done && s.peek() !== ',' && s.peek() !== ')') s.pos += 1;
  return s.text.slice(start, s.pos);
}

/** `(a,b,"c,d")`: in.'s list; `()` is the empty list. */
function listValue(s: Scanner): string[] {
  s.skipSpaces();
  if (!s.eat('(')) throw s.fail('"("');
  s.skipSpaces();
  const values: string[] = [];
  for (;;) {
    let value: string | undefined;
    if (s.peek() === '"') {
      const start = s.pos;
      value = quoted(s);
      if (!(s.peek() === ',' || s.peek() === ')')) {
        s.pos = start;
        value = undefined;
      }
    }
    if (value === undefined) {
      const start = s.pos;
      while (!s.done && s.peek() !== ',' && s.peek() !== ')') s.pos += 1;
      value = s.text.slice(start, s.pos);
    }
    values.push(value);
    if (s.eat(',')) continue;
    s.skipSpaces();
    if (!s.eat(')')) throw s.fail('"," or ")"');
    s.skipSpaces();
    // `in.()` is PostgREST's empty list.
    return values.length === 1 && values[0] === '' ? [] : values;
  }
}

/** `or=(a.eq.1,and(b.gt.2,c.is.null))`, `not.and=(…)`. */
function parseLogicParam(key: string, value: string): LogicTree {
  const negated = key.startsWith('not.');
  const operator = key.endsWith('or') ? 'or' : 'and';
  const s = new Scanner(value, 'logic tree');
  const children = logicChildren(s);
  s.skipSpaces();
  if (!s.done) throw s.fail('end of input');
  return { kind: 'logic', negated, operator, children };
}

function logicChildren(s: Scanner): Condition[] {
  s.skipSpaces();
  if (!s.eat('(')) throw s.fail('"("');
  const children: Condition[] = [];
  for (;;) {
    s.skipSpaces();
    children.push(logicCondition(s));
    s.skipSpaces();
    if (s.eat(',')) continue;
    if (s.eat(')')) return children;
    throw s.fail('"," or ")"');
  }
}

function logicCondition(s: Scanner): Condition {
  const nested = /^(not\.)?(and|or)\(/.exec(s.text.slice(s.pos));
  if (nested) {
    s.pos += nested[0].length - 1;
    return {
      kind: 'logic',
      negated: nested[1] !== undefined,
      operator: nested[2] as 'and' | 'or',
      children: logicChildren(s),
    };
  }
  if (s.done || s.peek() === ')')
    throw s.fail(
      'field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)',
    );
  const fieldRef = field(s);
  if (!s.eat('.')) throw s.fail('delimiter (.)');
  const { negated, operation } = opExpression(s, true);
  return { kind: 'filter', field: fieldRef, negated, operation };
}

/** Every column a query names, to check against the catalog in one go. */
export function referencedColumns(
  query: Pick<TableQuery, 'select' | 'conditions' | 'order'>,
): string[] {
  const names = new Set<string>();
  for (const item of query.select) if (item.kind === 'field') names.add(item.field.column);
  const visit = (condition: Condition) => {
    if (condition.kind === 'filter') names.add(condition.field.column);
    else condition.children.forEach(visit);
  };
  query.conditions.forEach(visit);
  for (const term of query.order) names.add(term.field.column);
  return [...names];
}
