import type { Sql } from '@omnihub/database';

/**
 * What supabase-js can reach on the project, read from pg_catalog the way
 * PostgREST builds its schema cache (schema public: tables, views and
 * functions), so that a new table or RPC is probed without editing a list.
 */
export interface ExposedRelation {
  name: string;
  /** r(table), p(artitioned), v(iew), m(aterialized view), f(oreign table) */
  kind: string;
  columns: string[];
  primaryKey: string[];
  /** The column naming the row's tenant: tenant_id, or id for public.tenants. */
  tenantColumn: string | null;
}

export interface ExposedFunction {
  name: string;
  /** v(olatile) functions may write; s(table) and i(mmutable) ones only read. */
  volatility: 'i' | 's' | 'v';
  params: { name: string; type: string }[];
}

export async function exposedRelations(sql: Sql): Promise<ExposedRelation[]> {
  const rows = await sql<
    { name: string; kind: string; columns: string[]; primary_key: string[] }[]
  >`
    select c.relname as name, c.relkind as kind,
           array_agg(a.attname::text order by a.attnum) as columns,
           coalesce((
             select array_agg(k.attname::text order by k.attnum)
             from pg_index i join pg_attribute k on k.attrelid = i.indrelid and k.attnum = any(i.indkey)
             where i.indrelid = c.oid and i.indisprimary), '{}') as primary_key
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
    group by c.oid, c.relname, c.relkind
    order by 1`;
  return rows.map((row) => ({
    name: row.name,
    kind: row.kind,
    columns: row.columns,
    primaryKey: row.primary_key,
    tenantColumn:
      row.name === 'tenants' ? 'id' : row.columns.includes('tenant_id') ? 'tenant_id' : null,
  }));
}

export async function exposedFunctions(sql: Sql): Promise<ExposedFunction[]> {
  const rows = await sql<
    { name: string; volatility: 'i' | 's' | 'v'; params: { name: string; type: string }[] | null }[]
  >`
    select p.proname as name, p.provolatile as volatility,
           (select json_agg(json_build_object('name', a.name, 'type', format_type(a.type, null)) order by a.ord)
            from unnest(
              coalesce(p.proallargtypes, p.proargtypes::oid[]),
              coalesce(p.proargmodes, array_fill('i'::"char", array[p.pronargs::int])),
              p.proargnames
            ) with ordinality as a(type, mode, name, ord)
            where a.mode in ('i', 'b', 'v')) as params
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.prokind = 'f'
      and format_type(p.prorettype, null) not in ('trigger', 'event_trigger')
    order by 1`;
  return rows.map((row) => ({
    name: row.name,
    volatility: row.volatility,
    params: row.params ?? [],
  }));
}

/** The ids of one tenant that RPC arguments point at. */
export interface TenantTargets {
  tenantId: string;
  integrationId: string;
  keyId: string;
  taskIds: string[];
  /** uuids of the tenant's rows by table, for `p_<thing>_id` parameters. */
  rowIds: Record<string, string[]>;
}

/** The first ids of each tenant table (up to 5), to fill `p_<thing>_id` arguments. */
export async function rowIdsOf(
  sql: Sql,
  relations: ExposedRelation[],
  tenantId: string,
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const relation of relations) {
    if (!relation.tenantColumn || !relation.columns.includes('id')) continue;
    const rows = await sql.unsafe<{ id: string }[]>(
      `select id::text as id from public."${relation.name}" where "${relation.tenantColumn}" = $1 order by 1 limit 5`,
      [tenantId],
    );
    out[relation.name] = rows.map((r) => r.id);
  }
  return out;
}

/**
 * Plausible arguments for `fn` aimed at `target`, one set per variant: every
 * task id of the tenant for a `p_task_id`. Values are chosen to change
 * something if the call were allowed (switch off, pause, retry…). A
 * parameter the rules do not know fails loudly, so a new RPC gets thought about.
 */
export function argumentSets(
  fn: ExposedFunction,
  target: TenantTargets,
): Record<string, unknown>[] {
  const sets: Record<string, unknown>[] = [{}];
  for (const param of fn.params) {
    const choices = valuesFor(param, target);
    const next: Record<string, unknown>[] = [];
    for (const set of sets) for (const value of choices) next.push({ ...set, [param.name]: value });
    sets.splice(0, sets.length, ...next);
  }
  return sets;
}

function valuesFor(param: { name: string; type: string }, target: TenantTargets): unknown[] {
  const { name, type } = param;
  const stem = name.replace(/^p_/, '').replace(/_ids?$/, '');
  switch (type) {
    case 'uuid': {
      if (name === 'p_tenant_id') return [target.tenantId];
      if (name === 'p_task_id') return target.taskIds;
      if (name === 'p_integration_id') return [target.integrationId];
      const table =
        target.rowIds[`${stem}s`] ??
        Object.entries(target.rowIds).find(([table]) => table.includes(stem))?.[1];
      if (table?.length) return [table[0]];
      break;
    }
    case 'uuid[]':
      // Lists of ids in the existing RPCs are task ids (p_task_ids, p_depends_on).
      return [target.taskIds];
    case 'text':
      if (name === 'p_key_id') return [target.keyId];
      return [TEXT_VALUES[name] ?? 'probe'];
    case 'text[]':
      return name === 'p_scopes' ? [['tasks:create']] : [['probe']];
    case 'jsonb':
    case 'json':
      if (name === 'p_steps')
        return [
          [
            { target: 'lead-gen', action: 'echo' },
            { target: 'lead-gen', action: 'echo' },
          ],
        ];
      return [{}];
    case 'boolean':
      return [/enabled|require/.test(name) ? false : true];
    case 'integer':
    case 'bigint':
    case 'smallint':
      return [INTEGER_VALUES[name] ?? 1];
    case 'timestamp with time zone':
      if (name === 'p_since') return [new Date(Date.now() - 7 * 86_400_000).toISOString()];
      return [null];
    case 'interval':
      return ['1 hour'];
  }
  throw new Error(
    `argumentSets: no plausible value for ${name} ${type}: teach reliability/support/postgrest-catalog.ts`,
  );
}

const TEXT_VALUES: Record<string, string> = {
  // A new source: creating it would add a row, which the comparison sees.
  p_source: 'probe-source',
  p_target: 'lead-gen',
  p_action: 'echo',
  p_cron: '*/5 * * * *',
  p_timezone: 'UTC',
  p_reason: 'probe',
  p_name: 'probe',
  p_idempotency_key: 'probe-key',
};

const INTEGER_VALUES: Record<string, number> = {
  p_priority: 5,
  p_max_attempts: 3,
  p_max_running: 3,
  p_max_rpm: 10,
};
