import type { Sql } from '@omnihub/database';

export interface TableRef {
  schema: string;
  name: string;
}

export const qualifiedName = (table: TableRef): string => `${table.schema}.${table.name}`;

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** schema.table, quoted for use in SQL text. */
export const quotedName = (table: TableRef): string =>
  `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;

/** Ordinary and partitioned tables of these schemas, with their RLS flag, from the catalog. */
export async function listTables(
  sql: Sql,
  schemas: readonly string[],
): Promise<(TableRef & { rowSecurity: boolean })[]> {
  const rows = await sql`
    select n.nspname as schema, c.relname as name, c.relrowsecurity as row_security
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname in ${sql(schemas)}
    order by 1, 2`;
  return rows.map((row) => ({
    schema: row.schema as string,
    name: row.name as string,
    rowSecurity: row.row_security as boolean,
  }));
}

/** Every schema that is not Postgres's own: where application data can live. */
export async function listUserSchemas(sql: Sql): Promise<string[]> {
  const rows = await sql`
    select nspname from pg_namespace
    where nspname not in ('pg_catalog', 'information_schema')
      and nspname not like 'pg\_toast%' and nspname not like 'pg\_temp%'
    order by 1`;
  return rows.map((row) => row.nspname as string);
}

export async function countRows(sql: Sql, table: TableRef): Promise<number> {
  const [row] = await sql.unsafe(`select count(*)::int as n from ${quotedName(table)}`);
  return row!.n as number;
}

/** Each row of the table as Postgres's text form of the row, sorted. */
export async function rowsAsText(sql: Sql, table: TableRef): Promise<string[]> {
  const rows = await sql.unsafe(`select t::text as row from ${quotedName(table)} t order by 1`);
  return rows.map((row) => row.row as string);
}

/** The full contents of these tables, to prove that a refused call changed nothing. */
export async function dumpTables(
  sql: Sql,
  tables: readonly TableRef[],
): Promise<Record<string, string[]>> {
  const dump: Record<string, string[]> = {};
  for (const table of tables) dump[qualifiedName(table)] = await rowsAsText(sql, table);
  return dump;
}
