import { ALL_SCOPES, Identifier, Scope } from '@omnihub/contracts';
import type { Sql } from '@omnihub/database';
import { parseDuration } from './duration.ts';
import { UsageError } from './usage-error.ts';

const TENANT_SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface CreateKeyOptions {
  tenant: string;
  source: string;
  scopes: string;
  maxRpm?: string;
  expiresIn?: string;
  json: boolean;
}

/** The six fields `keys create --json` prints, in this order. */
interface CreatedKey {
  api_key: string;
  key_id: string;
  tenant_id: string;
  integration_id: string;
  source: string;
  scopes: string[];
}

export function checkCreateOptions(options: CreateKeyOptions) {
  if (!TENANT_SLUG.test(options.tenant)) {
    throw new UsageError(
      '--tenant must be a slug: lowercase letters, digits and "-", starting with a letter or digit.',
    );
  }
  if (!Identifier.safeParse(options.source).success) {
    throw new UsageError(
      '--source must be 1-100 characters of a-z, 0-9, "_", ".", ":" or "-" (e.g. lead-gen).',
    );
  }
  const scopes = options.scopes
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  const unknown = scopes.filter((scope) => !Scope.safeParse(scope).success);
  if (scopes.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `${unknown.length > 0 ? `Unknown scope ${unknown.join(', ')}. ` : ''}--scopes takes a comma list of: ${ALL_SCOPES.join(', ')}.`,
    );
  }
  let maxRpm: number | null = null;
  if (options.maxRpm !== undefined) {
    maxRpm = Number(options.maxRpm);
    if (!Number.isInteger(maxRpm) || maxRpm < 1)
      throw new UsageError('--max-rpm must be a whole number of requests per minute, at least 1.');
  }
  let expiresInSeconds: number | null = null;
  if (options.expiresIn !== undefined) {
    expiresInSeconds = parseDuration(options.expiresIn);
    if (expiresInSeconds === null)
      throw new UsageError('--expires-in must be a duration such as 90d, 12h, 30m or 1w2d.');
  }
  return { scopes, maxRpm, expiresInSeconds };
}

/** Creates the tenant and integration when missing, then the key; the plaintext is printed here and never again. */
export async function createKey(sql: Sql, options: CreateKeyOptions): Promise<string> {
  const { scopes, maxRpm, expiresInSeconds } = checkCreateOptions(options);
  const [row] = await sql`
    select omnilink.issue_api_key(
      omnilink.ensure_integration(omnilink.ensure_tenant(${options.tenant}), ${options.source}),
      string_to_array(${scopes.join(',')}, ','),
      ${maxRpm}::integer,
      case when ${expiresInSeconds}::integer is null then null
           else now() + make_interval(secs => ${expiresInSeconds}::integer) end,
      'created with pnpm omnihub'
    ) as key`;
  const key = row!.key as CreatedKey & { max_rpm: number | null; expires_at: string | null };
  const created: CreatedKey = {
    api_key: key.api_key,
    key_id: key.key_id,
    tenant_id: key.tenant_id,
    integration_id: key.integration_id,
    source: key.source,
    scopes: key.scopes,
  };
  if (options.json) return JSON.stringify(created);
  return [
    `Created an API key for ${created.source} in tenant ${options.tenant} (key id ${created.key_id}):`,
    '',
    `  ${created.api_key}`,
    '',
    `Scopes: ${created.scopes.join(', ')}. Max requests per minute: ${key.max_rpm ?? 'no limit'}. Expires: ${key.expires_at ?? 'never'}.`,
    'Store it now: it is shown only this once.',
  ].join('\n');
}

export async function revokeKey(sql: Sql, keyId: string): Promise<string> {
  const [before] = await sql`
    select k.revoked_at, i.source, t.slug from public.api_keys k
    join public.integrations i on i.id = k.integration_id join public.tenants t on t.id = k.tenant_id
    where k.key_id = ${keyId}`;
  if (!before) throw new UsageError(`No API key with id ${keyId}.`, 1);
  if (before.revoked_at)
    return `Key ${keyId} was already revoked at ${(before.revoked_at as Date).toISOString()}.`;
  await sql`select omnilink.revoke_api_key(${keyId})`;
  return `Revoked key ${keyId} (${before.source}, tenant ${before.slug}). The port refuses it from its next request.`;
}

export async function listKeys(sql: Sql, tenant: string, json: boolean): Promise<string> {
  const [found] = await sql`select id from public.tenants where slug = ${tenant}`;
  if (!found) throw new UsageError(`No tenant with slug ${tenant}.`, 1);
  const rows = await sql`
    select k.key_id, i.source, k.scopes, k.max_rpm, k.expires_at, k.last_used_at, k.revoked_at, k.created_at,
           case when k.revoked_at is not null then 'revoked'
                when k.expires_at is not null and k.expires_at <= now() then 'expired'
                else 'active' end as status
    from public.api_keys k join public.integrations i on i.id = k.integration_id
    where k.tenant_id = ${found.id}
    order by k.created_at`;
  if (json) return JSON.stringify(rows);
  if (rows.length === 0) return `Tenant ${tenant} has no API keys.`;
  const table = [
    ['KEY ID', 'SOURCE', 'STATUS', 'SCOPES', 'MAX RPM', 'EXPIRES', 'LAST USED', 'CREATED'],
    ...rows.map((row) => [
      row.key_id,
      row.source,
      row.status,
      (row.scopes as string[]).join(','),
      row.max_rpm === null ? '-' : String(row.max_rpm),
      dateOrDash(row.expires_at),
      dateOrDash(row.last_used_at),
      dateOrDash(row.created_at),
    ]),
  ];
  const widths = table[0]!.map((_, column) =>
    Math.max(...table.map((line) => line[column]!.length)),
  );
  return table
    .map((line) =>
      line
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function dateOrDash(value: Date | null): string {
  return value ? value.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}
