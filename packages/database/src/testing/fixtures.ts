import type { Scope } from '@omnihub/contracts';
import type { Sql } from '../connect.ts';

export interface IssuedKey {
  apiKey: string;
  keyId: string;
  tenantId: string;
  integrationId: string;
  source: string;
}

/**
 * Creates (or reuses) a tenant and an integration and issues a key, through
 * the same SQL functions the admin CLI and the dashboard use.
 */
export async function issueKey(
  sql: Sql,
  options: {
    tenant: string;
    source: string;
    scopes?: readonly Scope[];
    maxRpm?: number | null;
    expiresAt?: Date | null;
  },
): Promise<IssuedKey> {
  const scopes = options.scopes ?? [
    'events:write',
    'tasks:create',
    'tasks:claim',
    'tasks:complete',
  ];
  const [row] = await sql`
    select omnilink.issue_api_key(
      omnilink.ensure_integration(omnilink.ensure_tenant(${options.tenant}), ${options.source}),
      string_to_array(${scopes.join(',')}, ','), ${options.maxRpm ?? null}::integer,
      ${options.expiresAt ?? null}::timestamptz
    ) as key`;
  const key = row!.key as Record<string, string>;
  return {
    apiKey: key.api_key!,
    keyId: key.key_id!,
    tenantId: key.tenant_id!,
    integrationId: key.integration_id!,
    source: key.source!,
  };
}

/** A row count per table, to prove a refused request changed nothing. */
export async function snapshotCounts(sql: Sql): Promise<Record<string, number | string>> {
  const [row] = await sql`
    select (select count(*) from public.telemetry_events)::int as telemetry_events,
           (select count(*) from public.tasks)::int as tasks,
           (select count(*) from public.task_attempts)::int as task_attempts,
           (select count(*) from public.workers)::int as workers,
           (select coalesce(sum(hashtext(t::text)), 0)::text from public.tasks t) as tasks_digest`;
  return row as Record<string, number | string>;
}
