import type { Sql } from '@omnihub/database';

/**
 * "A refused request changes nothing", checked on the whole database: every
 * table of the schemas below, found in the catalog (so a new table is covered
 * without editing a list), as a row count and a digest of its rows' text.
 */
export const STATE_SCHEMAS = ['public', 'omnilink', 'auth'] as const;

/** A column (or a whole table) left out of the digest, with why it may change without a request having done anything. */
export interface StateExclusion {
  /** schema.table */
  table: string;
  /** Omit for the whole table. */
  column?: string;
  reason: string;
}

/**
 * Bookkeeping of the key that sent a request: it changes on refused requests
 * by design, and says nothing about what the request did.
 */
export const KEY_BOOKKEEPING: readonly StateExclusion[] = [
  {
    table: 'public.api_keys',
    column: 'last_used_at',
    reason:
      'omnilink.authorize stamps it (at most once a minute) for every request whose key is valid, including requests then refused for their input',
  },
  {
    table: 'omnilink.api_key_rate_windows',
    reason:
      "every request of a valid key with a max_rpm counts against that key's own limit, whatever the answer: that is the rate limit working",
  },
];

export interface TableState {
  rows: number;
  /** md5 of the sorted md5s of the rows' text. */
  digest: string;
  /** md5 of each row's text, sorted: to tell added from removed rows in a failure message. */
  rowDigests: string[];
  /** The query whose rows were digested, to show the rows that differ. */
  query: string;
}

export interface DatabaseState {
  tables: Record<string, TableState>;
  /** Parameters of the queries (the tenant id when scoped). */
  params: string[];
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

interface CatalogTable {
  schema: string;
  name: string;
  columns: string[];
}

async function catalogTables(sql: Sql, schemas: readonly string[]): Promise<CatalogTable[]> {
  const rows = await sql<{ schema: string; name: string; columns: string[] }[]>`
    select n.nspname as schema, c.relname as name,
           array_agg(a.attname::text order by a.attnum) as columns
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where c.relkind in ('r', 'p') and n.nspname in ${sql(schemas)}
    group by 1, 2
    order by 1, 2`;
  return rows.map((row) => ({ schema: row.schema, name: row.name, columns: row.columns }));
}

/**
 * The state of every table in STATE_SCHEMAS minus the exclusions. With
 * `tenantId`, tables with a tenant_id column (and public.tenants itself) are
 * reduced to that tenant's rows; other tables are taken whole.
 */
export async function snapshotDatabase(
  sql: Sql,
  options: { exclude?: readonly StateExclusion[]; tenantId?: string } = {},
): Promise<DatabaseState> {
  const exclude = options.exclude ?? [];
  const params = options.tenantId ? [options.tenantId] : [];
  const queries: [string, string][] = [];
  for (const table of await catalogTables(sql, STATE_SCHEMAS)) {
    const qualified = `${table.schema}.${table.name}`;
    if (exclude.some((e) => e.table === qualified && e.column === undefined)) continue;
    const columns = table.columns.filter(
      (column) => !exclude.some((e) => e.table === qualified && e.column === column),
    );
    let where = '';
    if (options.tenantId) {
      if (qualified === 'public.tenants') where = ' where id = $1::uuid';
      else if (table.columns.includes('tenant_id')) where = ' where tenant_id = $1::uuid';
    }
    queries.push([
      qualified,
      `select ${columns.map(quoteIdent).join(', ')} from ${quoteIdent(table.schema)}.${quoteIdent(table.name)}${where}`,
    ]);
  }
  const union = queries
    .map(
      ([name, query]) => `
      select ${sqlLiteral(name)} as name, count(*)::int as rows,
             md5(coalesce(string_agg(h, '' order by h), '')) as digest,
             coalesce(array_agg(h order by h) filter (where h is not null), '{}') as row_digests
      from (select md5(r::text) as h from (${query}) r) x`,
    )
    .join('\n union all ');
  const rows = await sql.unsafe<
    { name: string; rows: number; digest: string; row_digests: string[] }[]
  >(union, params);
  const tables: Record<string, TableState> = {};
  for (const row of rows) {
    tables[row.name] = {
      rows: row.rows,
      digest: row.digest,
      rowDigests: row.row_digests,
      query: queries.find(([name]) => name === row.name)![1],
    };
  }
  return { tables, params };
}

const sqlLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** Compares two states; each difference as a line naming the table, with the rows added (read from the database now). */
export async function describeChanges(
  sql: Sql,
  before: DatabaseState,
  after: DatabaseState,
): Promise<string[]> {
  const lines: string[] = [];
  const names = new Set([...Object.keys(before.tables), ...Object.keys(after.tables)]);
  for (const name of [...names].sort()) {
    const was = before.tables[name];
    const now = after.tables[name];
    if (!was || !now) {
      lines.push(`${name}: table ${was ? 'dropped' : 'created'}`);
      continue;
    }
    if (was.digest === now.digest) continue;
    const old = new Set(was.rowDigests);
    const fresh = new Set(now.rowDigests);
    const added = now.rowDigests.filter((h) => !old.has(h));
    const removed = was.rowDigests.filter((h) => !fresh.has(h)).length;
    let line = `${name}: ${was.rows} → ${now.rows} rows (${added.length} new or changed, ${removed} gone or changed)`;
    if (added.length > 0) {
      const shown = await sql.unsafe<{ row: string }[]>(
        `select r::text as row from (${now.query}) r where md5(r::text) = any($${after.params.length + 1}::text[]) limit 3`,
        [...after.params, added],
      );
      for (const { row } of shown)
        line += `\n    now: ${row.length > 400 ? `${row.slice(0, 400)}…` : row}`;
    }
    lines.push(line);
  }
  return lines;
}
