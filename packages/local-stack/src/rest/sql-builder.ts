import { EXPOSED_SCHEMA, type Routine, type RoutineParam, type Table } from './catalog.ts';
import type { Condition, FieldRef, Operation, OrderTerm, SelectItem } from './query-grammar.ts';

/**
 * The SQL PostgREST would run (PostgREST.Query.QueryBuilder / SqlFragment),
 * written as text with $n placeholders. Identifiers reaching this module
 * exist in the catalog and are quoted; every value from the request is a
 * bound parameter, sent as type "unknown" so that Postgres types it from its
 * context (the column), exactly as PostgREST's unknownLiteral does.
 */

export interface Statement {
  text: string;
  params: string[];
  /** For a call: the function as the catalog described it (checked against pg_proc, see Routine.version). */
  routine?: { oid: number; version: string };
  /** For count=planned and count=estimated: what makes the total besides the statement's own count. */
  plannedCount?: PlannedCount;
}

/** Prefer: count=…, as PostgREST reads it. */
export type CountMode = 'exact' | 'planned' | 'estimated';

/**
 * The planner's estimate of a read's matching rows, as PostgREST gets it:
 * EXPLAIN (FORMAT JSON) of the count query (the filters, no range), the top
 * node's "Plan Rows". It runs in the request's transaction, as its role, so
 * RLS is part of the plan.
 */
export interface PlannedCount {
  text: string;
  params: string[];
  mode: 'planned' | 'estimated';
  /** db-max-rows: count=estimated counts exactly up to it and asks the planner only beyond. */
  maxRows: number | undefined;
}

/** Collects the values of one statement; `bind` returns the placeholder to write. */
export class Params {
  readonly values: string[] = [];
  bind(value: string): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** A double-quoted identifier. Postgres identifiers cannot hold NUL, so text after one is dropped as PostgREST does. */
export function ident(name: string): string {
  const cut = name.indexOf('\0');
  return `"${(cut === -1 ? name : name.slice(0, cut)).replaceAll('"', '""')}"`;
}

export function qualifiedTable(table: Table): string {
  return `${ident(EXPOSED_SCHEMA)}.${ident(table.name)}`;
}

function fieldSql(relation: string, field: FieldRef, params: Params): string {
  let sql = `${relation}.${ident(field.column)}`;
  for (const step of field.path)
    sql += `${step.arrow}${params.bind(step.key)}${step.index ? '::int' : ''}`;
  return sql;
}

/** `{"a","b"}`: a Postgres array literal of the values, for `= ANY($n)` (PostgREST's pgBuildArrayLiteral). */
function arrayLiteral(values: string[]): string {
  const escaped = values.map((value) => {
    const cut = value.indexOf('\0');
    const text = cut === -1 ? value : value.slice(0, cut);
    return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  });
  return `{${escaped.join(',')}}`;
}

function operationSql(operation: Operation, params: Params): string {
  switch (operation.kind) {
    case 'simple': {
      const value = params.bind(operation.value);
      if (!operation.quantifier) return `${operation.sql} ${value}`;
      return `${operation.sql} ${operation.quantifier.toUpperCase()}(${value})`;
    }
    case 'in':
      return `= ANY(${params.bind(arrayLiteral(operation.values))})`;
    case 'is':
      // IS takes keywords, not parameters: the grammar admits only these five.
      return {
        null: 'IS NULL',
        not_null: 'IS NOT NULL',
        true: 'IS TRUE',
        false: 'IS FALSE',
        unknown: 'IS UNKNOWN',
      }[operation.value];
    case 'isdistinct':
      return `IS DISTINCT FROM ${params.bind(operation.value)}`;
  }
}

function conditionSql(relation: string, condition: Condition, params: Params): string {
  const not = condition.negated ? 'NOT ' : '';
  if (condition.kind === 'filter')
    return `${not}${fieldSql(relation, condition.field, params)} ${operationSql(condition.operation, params)}`;
  const joiner = condition.operator === 'and' ? ' AND ' : ' OR ';
  return `${not}(${condition.children.map((child) => conditionSql(relation, child, params)).join(joiner)})`;
}

function whereSql(relation: string, conditions: Condition[], params: Params): string {
  if (conditions.length === 0) return '';
  return ` WHERE ${conditions.map((condition) => `(${conditionSql(relation, condition, params)})`).join(' AND ')}`;
}

function orderSql(relation: string, order: OrderTerm[], params: Params): string {
  if (order.length === 0) return '';
  const terms = order.map((term) => {
    let sql = fieldSql(relation, term.field, params);
    if (term.direction) sql += term.direction === 'asc' ? ' ASC' : ' DESC';
    if (term.nulls) sql += term.nulls === 'first' ? ' NULLS FIRST' : ' NULLS LAST';
    return sql;
  });
  return ` ORDER BY ${terms.join(', ')}`;
}

/** The key a selected field gets in the JSON: its alias, else its last JSON key, else the column. */
function outputName(item: Extract<SelectItem, { kind: 'field' }>): string {
  if (item.alias !== undefined) return item.alias;
  const last = item.field.path.at(-1);
  return last && !last.index ? last.key : item.field.column;
}

function selectListSql(relation: string, select: SelectItem[], params: Params): string {
  return select
    .map((item) => {
      if (item.kind === 'star') return `${relation}.*`;
      let sql = fieldSql(relation, item.field, params);
      // Casts are letters, digits and underscores only (the grammar checks), so they can be written.
      if (item.cast) sql = `CAST(${sql} AS ${item.cast})`;
      return `${sql} AS ${ident(outputName(item))}`;
    })
    .join(', ');
}

/** How the rows become the response body: Postgres renders the JSON, so values look as in PostgREST. */
export interface BodyShape {
  /** One object (Accept: application/vnd.pgrst.object+json) instead of an array. */
  singular: boolean;
  stripNulls: boolean;
}

function bodySql(shape: BodyShape, column = '_postgrest_t'): string {
  const strip = (sql: string) => (shape.stripNulls ? `json_strip_nulls(${sql})` : sql);
  return shape.singular
    ? `coalesce(${strip(`json_agg(${column})->0`)}, 'null')::text`
    : `coalesce(${strip(`json_agg(${column})`)}, '[]')::text`;
}

/**
 * The result row every statement returns: the exact count when asked for,
 * the number of rows in the page, and the rendered body. `before` holds
 * CTEs that must precede pgrst_source (data-modifying CTEs must be top-level).
 */
function wrap(
  source: string,
  outer: string,
  body: string,
  { count = 'null::bigint', before = [] as string[], extra = '' } = {},
): string {
  return (
    `WITH ${before.map((cte) => `${cte}, `).join('')}pgrst_source AS (${source}) ` +
    `SELECT ${count} AS total, pg_catalog.count(_postgrest_t) AS page_total, ${body} AS body${extra} ` +
    `FROM (${outer}) _postgrest_t`
  );
}

export interface ReadPlan {
  table: Table;
  select: SelectItem[];
  conditions: Condition[];
  order: OrderTerm[];
  offset: number;
  /** Already capped at maxRows. */
  limit: number | undefined;
  count: CountMode | undefined;
  /** PostgREST's db-max-rows (undefined: none), which count=estimated counts up to. */
  maxRows: number | undefined;
  shape: BodyShape;
}

export function readStatement(plan: ReadPlan): Statement {
  const params = new Params();
  const table = qualifiedTable(plan.table);
  const where = whereSql(table, plan.conditions, params);
  let range = '';
  if (plan.limit !== undefined || plan.offset > 0)
    range = ` LIMIT ${plan.limit === undefined ? 'ALL' : params.bind(String(plan.limit))} OFFSET ${params.bind(String(plan.offset))}`;
  const source =
    `SELECT ${selectListSql(table, plan.select, params)} FROM ${table}${where}` +
    `${orderSql(table, plan.order, params)}${range}`;
  // The count reuses the WHERE's placeholders: same filters, no range.
  // count=estimated counts one row past db-max-rows, which is enough to know
  // the planner must be asked (PostgREST's limitedQuery of its count query).
  let count: string | undefined;
  if (plan.count === 'estimated' && plan.maxRows !== undefined)
    count = `(SELECT pg_catalog.count(*) FROM (SELECT 1 FROM ${table}${where} LIMIT ${plan.maxRows + 1}) pgrst_count)`;
  else if (plan.count === 'exact' || plan.count === 'estimated')
    count = `(SELECT pg_catalog.count(*) FROM ${table}${where})`;
  let plannedCount: PlannedCount | undefined;
  if (plan.count === 'planned' || plan.count === 'estimated') {
    const explainParams = new Params();
    plannedCount = {
      text: `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${table}${whereSql(table, plan.conditions, explainParams)}`,
      params: explainParams.values,
      mode: plan.count,
      maxRows: plan.maxRows,
    };
  }
  return {
    text: wrap(source, 'SELECT * FROM pgrst_source', bodySql(plan.shape), { count }),
    params: params.values,
    plannedCount,
  };
}

/** What a mutation hands back: nothing (return=minimal), or the selected columns of the rows it touched. */
export interface Returning {
  select: SelectItem[];
  order: OrderTerm[];
  shape: BodyShape;
}

/** Builds pgrst_source of a mutation; `before` receives CTEs that must come first. */
type MutationSource = (params: Params, returning: string, before: string[]) => string;

function mutationStatement(
  source: MutationSource,
  table: Table,
  returning: Returning | undefined,
): Statement {
  const params = new Params();
  const before: string[] = [];
  if (!returning) {
    // RETURNING 1 counts the rows without asking for SELECT on any column (PostgREST does the same).
    const sourceSql = source(params, 'RETURNING 1', before);
    return {
      text: wrap(sourceSql, 'SELECT * FROM pgrst_source', "''", { before }),
      params: params.values,
    };
  }
  const sourceSql = source(params, `RETURNING ${qualifiedTable(table)}.*`, before);
  const outer =
    `SELECT ${selectListSql('pgrst_source', returning.select, params)} FROM pgrst_source` +
    orderSql('pgrst_source', returning.order, params);
  return {
    text: wrap(sourceSql, outer, bodySql(returning.shape), { before }),
    params: params.values,
  };
}

/** Which objects of an insert's body go in with which columns. */
export interface InsertGroup {
  /** Exactly the keys of the objects in this group; undefined for every object of the body. */
  keys: string[] | undefined;
  /** The columns set from the objects; the table's other columns get their DEFAULT. */
  columns: string[];
}

/**
 * INSERT of a JSON object or array: Postgres reads the body into the table's
 * row type (json_populate_recordset), so values convert as in PostgREST, and
 * a listed column an object lacks gets null. For Prefer: missing=default the
 * objects are grouped by their keys, and each group inserts only its own
 * columns, so Postgres itself applies every other column's current DEFAULT.
 */
export function insertStatement(
  table: Table,
  body: string,
  bodyIsArray: boolean,
  groups: InsertGroup[],
  returning: Returning | undefined,
): Statement {
  return mutationStatement(
    (params, returningSql, before) => {
      const target = qualifiedTable(table);
      const json = `${params.bind(body)}::json`;
      const inserts = groups.map((group) => {
        let objects = json;
        if (group.keys !== undefined) {
          const keys = `${params.bind(arrayLiteral(group.keys))}::text[]`;
          const own = 'ARRAY(SELECT json_object_keys(e))';
          objects = `(SELECT json_agg(e) FROM json_array_elements(${json}) e WHERE ${own} @> ${keys} AND ${keys} @> ${own})`;
        }
        if (group.columns.length === 0) {
          // No keys: one row of defaults per object, as PostgREST does for {} and [{}, {}].
          const each = bodyIsArray ? `json_array_elements(${objects})` : '(VALUES (1))';
          return `INSERT INTO ${target} SELECT FROM ${each} _ ${returningSql}`;
        }
        const rows = bodyIsArray
          ? `json_populate_recordset(null::${target}, ${objects})`
          : `json_populate_record(null::${target}, ${objects})`;
        const list = group.columns.map(ident).join(', ');
        return `INSERT INTO ${target} (${list}) SELECT ${list} FROM ${rows} _ ${returningSql}`;
      });
      if (inserts.length === 1) return inserts[0]!;
      inserts.forEach((insert, index) => before.push(`pgrst_insert_${index} AS (${insert})`));
      return inserts.map((_, index) => `SELECT * FROM pgrst_insert_${index}`).join(' UNION ALL ');
    },
    table,
    returning,
  );
}

export function updateStatement(
  table: Table,
  columns: string[],
  body: string,
  conditions: Condition[],
  returning: Returning | undefined,
): Statement {
  return mutationStatement(
    (params, returningSql) => {
      const target = qualifiedTable(table);
      if (columns.length === 0) {
        // Nothing to set: PostgREST touches no row (UPDATE … SET with no column is not SQL).
        return `SELECT ${target}.* FROM ${target} WHERE false`;
      }
      const json = `${params.bind(body)}::json`;
      const set = columns.map((column) => `${ident(column)} = pgrst_body.${ident(column)}`);
      return (
        `UPDATE ${target} SET ${set.join(', ')} ` +
        `FROM (SELECT * FROM json_populate_record(null::${target}, ${json})) pgrst_body` +
        `${whereSql(target, conditions, params)} ${returningSql}`
      );
    },
    table,
    returning,
  );
}

export function deleteStatement(
  table: Table,
  conditions: Condition[],
  returning: Returning | undefined,
): Statement {
  return mutationStatement(
    (params, returningSql) => {
      const target = qualifiedTable(table);
      return `DELETE FROM ${target}${whereSql(target, conditions, params)} ${returningSql}`;
    },
    table,
    returning,
  );
}

/**
 * A function call with named arguments, read from one JSON object by
 * json_to_record with the parameters' catalog types (PostgREST's callPlanToQuery),
 * so arrays, jsonb and timestamps arrive as the function expects them.
 *
 * As in PostgREST, a call without a count reads pgrst_source once, so
 * Postgres inlines it, and a stable function returning a scalar runs twice
 * (once for the body, once for the page count: PostgREST issue 2108); a
 * count reads it twice, so it is materialized and the function runs once.
 */
export function callStatement(
  routine: Routine,
  args: RoutineParam[],
  argsJson: string,
  shape: BodyShape,
  { count = false } = {},
): Statement {
  const params = new Params();
  const fn = `${ident(EXPOSED_SCHEMA)}.${ident(routine.name)}`;
  const scalar =
    routine.returns === 'scalar' ||
    routine.returns === 'setof scalar' ||
    routine.returns === 'void';
  const argList = args
    .map(
      (arg) =>
        `${arg.variadic ? 'VARIADIC ' : ''}${ident(arg.name)} := pgrst_body.${ident(arg.name)}`,
    )
    .join(', ');
  const call = scalar
    ? `(SELECT ${fn}(${argList}) pgrst_scalar) pgrst_call`
    : `${fn}(${argList}) pgrst_call`;
  const from =
    args.length === 0
      ? `FROM ${call}`
      : `FROM json_to_record(${params.bind(argsJson)}::json) AS pgrst_body(${args
          .map((arg) => `${ident(arg.name)} ${arg.type}`)
          .join(', ')}), LATERAL ${call}`;
  const source = `SELECT ${scalar ? 'pgrst_call.pgrst_scalar' : 'pgrst_call.*'} ${from}`;
  const column = scalar ? '_postgrest_t.pgrst_scalar' : '_postgrest_t';
  const single =
    routine.returns === 'scalar' || routine.returns === 'composite' || routine.returns === 'void';
  const body = bodySql(
    { singular: shape.singular || single, stripNulls: shape.stripNulls },
    column,
  );
  // Read in the call's own transaction: is the function still the one the catalog described?
  const version = `, (SELECT p.xmin::text FROM pg_catalog.pg_proc p WHERE p.oid = ${routine.oid}) AS routine_version`;
  return {
    text: wrap(source, 'SELECT * FROM pgrst_source', body, {
      count: count ? '(SELECT pg_catalog.count(*) FROM pgrst_source)' : undefined,
      extra: version,
    }),
    params: params.values,
    routine: { oid: routine.oid, version: routine.version },
  };
}
