import type { Sql } from '@omnihub/database';

/**
 * What gives a tenant's data away in an answer: every uuid and text value
 * stored in a tenant's rows (ids, worker ids, key ids, idempotency keys,
 * member emails…) that no other tenant's rows hold. Read from the catalog —
 * every public table with a tenant_id column, and public.tenants — so a new
 * table's values are covered without editing a list.
 */
export type Fingerprints = Map<string, Set<string>>;

/** Shorter values ("acme", "echo") are words, not evidence. */
const MIN_LENGTH = 8;

/**
 * Plain lowercase words ("succeeded", "waiting_approval") are statuses and
 * names that answers hold as JSON keys too; only values with a digit, a dash,
 * an @ or a dot (ids, worker ids, key ids, emails) are evidence.
 */
const isEvidence = (value: string): boolean =>
  value.length >= MIN_LENGTH && !/^[a-z_]+$/.test(value);

export async function tenantFingerprints(sql: Sql): Promise<Fingerprints> {
  const columns = await sql<{ table_name: string; column_name: string; tenant_column: string }[]>`
    select c.relname as table_name, a.attname as column_name,
           case when c.relname = 'tenants' then 'id' else 'tenant_id' end as tenant_column
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = 'public' and c.relkind in ('r', 'p')
      and format_type(a.atttypid, null) in ('uuid', 'text', 'character varying', 'uuid[]', 'text[]')
      and (c.relname = 'tenants' or exists (
        select 1 from pg_attribute t
        where t.attrelid = c.oid and t.attname = 'tenant_id' and not t.attisdropped))`;
  const parts = columns.map(
    (c) =>
      `select ${ident(c.tenant_column)}::text as tenant, unnest(array[${ident(c.column_name)}]::text[]) as value from public.${ident(c.table_name)}`,
  );
  // Members' emails live in auth.users; membership says whose they are.
  parts.push(
    'select m.tenant_id::text, u.email::text from public.tenant_members m join auth.users u on u.id = m.user_id',
  );
  const rows = await sql.unsafe<{ tenant: string; value: string | null }[]>(
    `select distinct tenant, value from (${parts.join(' union all ')}) v where value is not null`,
  );
  const owners = new Map<string, Set<string>>();
  for (const { tenant, value } of rows) {
    for (const single of splitArray(value!)) {
      if (!isEvidence(single)) continue;
      const set = owners.get(single) ?? new Set<string>();
      set.add(tenant);
      owners.set(single, set);
    }
  }
  const fingerprints: Fingerprints = new Map();
  for (const [value, tenants] of owners) {
    if (tenants.size !== 1) continue;
    const [tenant] = tenants;
    const set = fingerprints.get(tenant!) ?? new Set<string>();
    set.add(value);
    fingerprints.set(tenant!, set);
  }
  return fingerprints;
}

/** An array column's text ({a,b}) as its elements; other values as themselves. */
function splitArray(value: string): string[] {
  if (!value.startsWith('{') || !value.endsWith('}')) return [value];
  return value
    .slice(1, -1)
    .split(',')
    .map((v) => v.replace(/^"|"$/g, ''))
    .filter((v) => v !== '');
}

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export interface Leak {
  tenant: string;
  value: string;
}

/**
 * Values of tenants outside `allowed` that `answer` contains. Values the
 * request itself carried are not leaks: an answer may repeat what was sent.
 */
export function findLeaks(
  answer: string,
  fingerprints: Fingerprints,
  allowed: readonly string[],
  request = '',
): Leak[] {
  const leaks: Leak[] = [];
  for (const [tenant, values] of fingerprints) {
    if (allowed.includes(tenant)) continue;
    for (const value of values) {
      if (answer.includes(value) && !request.includes(value)) leaks.push({ tenant, value });
    }
  }
  return leaks;
}
