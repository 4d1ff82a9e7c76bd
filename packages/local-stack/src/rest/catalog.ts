import type { Sql } from '@omnihub/database';

/** The only schema exposed, as on the Supabase project (db-schemas = public). */
export const EXPOSED_SCHEMA = 'public';

export interface Table {
  name: string;
  columns: Set<string>;
}

export interface RoutineParam {
  name: string;
  type: string;
  /** Trailing parameters with a DEFAULT may be left out of a call. */
  hasDefault: boolean;
  variadic: boolean;
}

/** How PostgREST renders a function's result. */
export type ReturnShape = 'scalar' | 'setof scalar' | 'composite' | 'setof composite' | 'void';

export interface Routine {
  oid: number;
  /**
   * The xmin of the function's pg_proc row: any CREATE OR REPLACE or ALTER
   * changes it, and a DROP and CREATE changes the oid. A call checks both in
   * its own transaction, so a cached description is never used stale.
   */
  version: string;
  name: string;
  params: RoutineParam[];
  returns: ReturnShape;
  /** i(mmutable), s(table) or v(olatile): non-volatile calls run read-only, as in PostgREST. */
  volatility: 'i' | 's' | 'v';
}

export interface CatalogSnapshot {
  tables: Map<string, Table>;
  routines: Map<string, Routine[]>;
}

interface RoutineRow {
  oid: number;
  version: string;
  name: string;
  returns_set: boolean;
  volatility: 'i' | 's' | 'v';
  defaults: number;
  return_type_kind: string;
  return_type_name: string;
  args: { name: string | null; type: string; mode: string }[] | null;
}

/**
 * PostgREST's schema cache, reduced to what /rest/v1 needs: the tables,
 * views and functions of `public`, read from pg_catalog (privileges are not
 * considered: as in PostgREST, Postgres itself refuses what a role may not do).
 *
 * It is cached, and kept correct without a NOTIFY: a lookup that misses (a
 * table, column or function created since) reads the catalog again before
 * answering "not found"; Postgres errors about undefined objects drop the
 * cache (see invalidate); and a function call verifies, in its transaction,
 * that the function is still the one described (Routine.version). For tables
 * only names are cached, so a stale entry can at worst make Postgres refuse
 * a statement: every name is quoted and every value bound, whatever the cache says.
 */
export class Catalog {
  private current: Promise<CatalogSnapshot> | undefined;

  constructor(private readonly sql: Sql) {}

  /**
   * A snapshot in which `satisfied` holds, reading the catalog once more if
   * the cached one does not satisfy it; the caller then tells "missing" apart.
   */
  async fresh(satisfied: (snapshot: CatalogSnapshot) => boolean): Promise<CatalogSnapshot> {
    const cached = (this.current ??= this.load());
    const snapshot = await cached;
    if (satisfied(snapshot)) return snapshot;
    // Concurrent misses share one reload.
    if (this.current === cached) this.current = this.load();
    return this.current;
  }

  /** Drops the cache: the next request reads the catalog again. */
  invalidate(): void {
    this.current = undefined;
  }

  private load(): Promise<CatalogSnapshot> {
    const loading = this.read();
    // A failed read is not cached: the next request tries again.
    loading.catch(() => {
      if (this.current === loading) this.current = undefined;
    });
    return loading;
  }

  private async read(): Promise<CatalogSnapshot> {
    const [columns, routines] = await Promise.all([
      this.sql<{ table_name: string; name: string | null }[]>`
        select c.relname as table_name, a.attname as name
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        left join pg_catalog.pg_attribute a
          on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = ${EXPOSED_SCHEMA} and c.relkind in ('r', 'v', 'm', 'f', 'p')
        order by c.relname, a.attnum`,
      this.sql<RoutineRow[]>`
        select p.oid::int8 as oid, p.xmin::text as version, p.proname as name, p.proretset as returns_set, p.provolatile as volatility,
               p.pronargdefaults as defaults, rt.typtype as return_type_kind,
               rt.typname as return_type_name,
               (select json_agg(json_build_object('name', a.name, 'type', format_type(a.type, null), 'mode', a.mode) order by a.ord)
                from unnest(
                  coalesce(p.proallargtypes, p.proargtypes::oid[]),
                  coalesce(p.proargmodes, array_fill('i'::"char", array[p.pronargs::int])),
                  p.proargnames
                ) with ordinality as a(type, mode, name, ord)) as args
        from pg_catalog.pg_proc p
        join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        join pg_catalog.pg_type rt on rt.oid = p.prorettype
        where n.nspname = ${EXPOSED_SCHEMA} and p.prokind = 'f'`,
    ]);

    const tables = new Map<string, Table>();
    for (const row of columns) {
      let table = tables.get(row.table_name);
      if (!table)
        tables.set(row.table_name, (table = { name: row.table_name, columns: new Set() }));
      if (row.name !== null) table.columns.add(row.name);
    }

    const byName = new Map<string, Routine[]>();
    for (const row of routines) {
      const routine = toRoutine(row);
      byName.set(routine.name, [...(byName.get(routine.name) ?? []), routine]);
    }
    return { tables, routines: byName };
  }
}

function toRoutine(row: RoutineRow): Routine {
  const args = row.args ?? [];
  // i(n), b (inout) and v(ariadic) are what a caller passes; o(ut) and t(able) shape the result.
  const inputs = args.filter((arg) => arg.mode === 'i' || arg.mode === 'b' || arg.mode === 'v');
  const outputs = args.filter((arg) => arg.mode === 'o' || arg.mode === 't' || arg.mode === 'b');
  const firstDefault = inputs.length - row.defaults;
  const params = inputs.map((arg, index) => ({
    name: arg.name ?? '',
    type: arg.type,
    hasDefault: index >= firstDefault,
    variadic: arg.mode === 'v',
  }));

  const composite =
    row.return_type_kind === 'c' || (row.return_type_name === 'record' && outputs.length > 1);
  let returns: ReturnShape;
  if (row.return_type_name === 'void' && !row.returns_set) returns = 'void';
  else if (composite) returns = row.returns_set ? 'setof composite' : 'composite';
  else returns = row.returns_set ? 'setof scalar' : 'scalar';
  return {
    oid: Number(row.oid),
    version: row.version,
    name: row.name,
    params,
    returns,
    volatility: row.volatility,
  };
}
