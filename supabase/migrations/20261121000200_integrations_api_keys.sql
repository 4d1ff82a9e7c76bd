-- Integrations (one per agent source in a tenant) and their API keys
-- (`omni.<key_id>.<secret>`), plus omnilink.authorize(): the single check the
-- port runs on every request (key, tenant switch, scope, rate limit).
--
-- Only the SHA-256 of a secret is stored, and it lives in a private table in
-- schema omnilink, so not even a key's hash is readable through the API.

create table public.integrations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  source text not null
    constraint integrations_source_format check (source ~ '^[a-z0-9_.:-]{1,100}$'),
  name text not null
    constraint integrations_name_length check (char_length(name) between 1 and 200),
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  constraint integrations_tenant_source_key unique (tenant_id, source),
  -- Target of composite foreign keys that pin child rows to the same tenant.
  constraint integrations_id_tenant_key unique (id, tenant_id)
);
alter table public.integrations enable row level security;
comment on table public.integrations is
  'An agent source connected to a tenant (e.g. lead-gen, apex-sales). Its keys act as that source; tasks whose target equals the source are claimed by its workers.';

create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null,
  integration_id uuid not null,
  key_id text not null
    constraint api_keys_key_id_key unique
    constraint api_keys_key_id_format check (key_id ~ '^[a-z0-9]{8,32}$'),
  name text
    constraint api_keys_name_length check (char_length(name) between 1 and 200),
  scopes text[] not null
    constraint api_keys_scopes_known check (
      cardinality(scopes) > 0
      and scopes <@ array['events:write', 'tasks:create', 'tasks:claim', 'tasks:complete']::text[]
    ),
  max_rpm integer
    constraint api_keys_max_rpm_positive check (max_rpm > 0),
  expires_at timestamptz,
  revoked_at timestamptz,
  revoked_by uuid references auth.users (id) on delete set null,
  last_used_at timestamptz,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  constraint api_keys_integration_fkey foreign key (integration_id, tenant_id)
    references public.integrations (id, tenant_id) on delete cascade
);
alter table public.api_keys enable row level security;
create index api_keys_integration_id_idx on public.api_keys (integration_id);
create index api_keys_tenant_id_idx on public.api_keys (tenant_id);
comment on table public.api_keys is
  'OmniLink API keys. The plaintext is shown once at creation; only a SHA-256 of the secret is kept, in omnilink.api_key_secrets.';
comment on column public.api_keys.max_rpm is
  'Requests per minute this key may make; null for no limit.';
comment on column public.api_keys.last_used_at is
  'When the key last made a request, to the minute (updated at most once a minute to keep requests cheap).';

create table omnilink.api_key_secrets (
  api_key_id uuid primary key references public.api_keys (id) on delete cascade,
  secret_sha256 bytea not null
    constraint api_key_secrets_sha256_length check (octet_length(secret_sha256) = 32)
);
alter table omnilink.api_key_secrets enable row level security;
comment on table omnilink.api_key_secrets is
  'SHA-256 of each key''s secret. No policies: only the owner of the omnilink functions reads it.';

create table omnilink.api_key_rate_windows (
  api_key_id uuid primary key references public.api_keys (id) on delete cascade,
  window_started_at timestamptz not null,
  request_count integer not null
);
alter table omnilink.api_key_rate_windows enable row level security;
comment on table omnilink.api_key_rate_windows is
  'Per-key rate limit state: a 60-second window opened by the first request after the previous one closed. Kept in Postgres so the limit is exact across port instances.';

revoke all on table public.integrations, public.api_keys from anon, authenticated;
grant select on table public.integrations, public.api_keys to authenticated;
revoke all on table omnilink.api_key_secrets, omnilink.api_key_rate_windows from public, anon, authenticated;

create policy integrations_select_members on public.integrations
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

create policy api_keys_select_members on public.api_keys
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

-- Key issuance ----------------------------------------------------------------

create function omnilink.random_key_id() returns text
language sql volatile
set search_path = ''
as $$
  select string_agg(substr('abcdefghijklmnopqrstuvwxyz0123456789', get_byte(r.bytes, i) % 36 + 1, 1), '')
  from (select extensions.gen_random_bytes(12) as bytes) r, generate_series(0, 11) as i
$$;

-- Creates the integration when missing (one per source in a tenant).
create function omnilink.ensure_integration(
  p_tenant_id uuid,
  p_source text,
  p_name text default null,
  p_created_by uuid default null
) returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into public.integrations (tenant_id, source, name, created_by)
  values (p_tenant_id, p_source, coalesce(p_name, p_source), p_created_by)
  on conflict (tenant_id, source) do nothing
  returning id into v_id;
  if v_id is null then
    select i.id into v_id from public.integrations i
    where i.tenant_id = p_tenant_id and i.source = p_source;
  end if;
  return v_id;
end
$$;

-- Stores a key whose secret hash is already known. Validates like the API
-- does, so every caller gets the same clear errors.
create function omnilink.insert_api_key(
  p_integration_id uuid,
  p_key_id text,
  p_secret_sha256 bytea,
  p_scopes text[],
  p_max_rpm integer default null,
  p_expires_at timestamptz default null,
  p_name text default null,
  p_created_by uuid default null
) returns public.api_keys
language plpgsql security definer
set search_path = ''
as $$
declare
  v_known constant text[] := array['events:write', 'tasks:create', 'tasks:claim', 'tasks:complete'];
  v_unknown text[];
  v_key public.api_keys;
  v_tenant_id uuid;
begin
  select i.tenant_id into v_tenant_id from public.integrations i where i.id = p_integration_id;
  if v_tenant_id is null then
    raise exception 'Integration % not found.', p_integration_id using errcode = 'P0002';
  end if;
  if p_scopes is null or cardinality(p_scopes) = 0 then
    raise exception 'Give the key at least one scope (known scopes: %).', array_to_string(v_known, ', ')
      using errcode = '22023';
  end if;
  v_unknown := array(select s from unnest(p_scopes) s where s <> all (v_known));
  if cardinality(v_unknown) > 0 then
    raise exception 'Unknown scope %; known scopes: %.',
      array_to_string(v_unknown, ', '), array_to_string(v_known, ', ')
      using errcode = '22023';
  end if;
  if p_max_rpm is not null and p_max_rpm < 1 then
    raise exception 'max_rpm must be at least 1 (or null for no limit).' using errcode = '22023';
  end if;
  if p_expires_at is not null and p_expires_at <= now() then
    raise exception 'expires_at must be in the future.' using errcode = '22023';
  end if;

  insert into public.api_keys (tenant_id, integration_id, key_id, name, scopes, max_rpm, expires_at, created_by)
  values (
    v_tenant_id, p_integration_id, p_key_id, p_name,
    array(select distinct s from unnest(p_scopes) s order by s),
    p_max_rpm, p_expires_at, p_created_by
  )
  returning * into v_key;
  insert into omnilink.api_key_secrets (api_key_id, secret_sha256) values (v_key.id, p_secret_sha256);
  return v_key;
end
$$;

-- Generates a key and returns its plaintext: the only time it exists outside
-- the caller's hands. Nothing but its hash is written.
create function omnilink.issue_api_key(
  p_integration_id uuid,
  p_scopes text[],
  p_max_rpm integer default null,
  p_expires_at timestamptz default null,
  p_name text default null,
  p_created_by uuid default null
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_secret text := rtrim(translate(encode(extensions.gen_random_bytes(32), 'base64'), '+/', '-_'), '=');
  v_key public.api_keys;
begin
  v_key := omnilink.insert_api_key(
    p_integration_id, omnilink.random_key_id(), sha256(convert_to(v_secret, 'UTF8')),
    p_scopes, p_max_rpm, p_expires_at, p_name, p_created_by
  );
  return omnilink.api_key_json(v_key) || jsonb_build_object(
    'api_key', 'omni.' || v_key.key_id || '.' || v_secret
  );
end
$$;

create function omnilink.api_key_json(p_key public.api_keys) returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_key.id,
    'key_id', p_key.key_id,
    'tenant_id', p_key.tenant_id,
    'integration_id', p_key.integration_id,
    'source', (select i.source from public.integrations i where i.id = p_key.integration_id),
    'name', p_key.name,
    'scopes', to_jsonb(p_key.scopes),
    'max_rpm', p_key.max_rpm,
    'expires_at', p_key.expires_at,
    'revoked_at', p_key.revoked_at,
    'last_used_at', p_key.last_used_at,
    'created_at', p_key.created_at
  )
$$;

-- Revocation takes effect on the key's next request: authorize() reads it
-- every time. Returns null for an unknown key id.
create function omnilink.revoke_api_key(p_key_id text, p_revoked_by uuid default null)
returns public.api_keys
language plpgsql security definer
set search_path = ''
as $$
declare
  v_key public.api_keys;
begin
  update public.api_keys k
  set revoked_at = coalesce(k.revoked_at, now()),
      revoked_by = case when k.revoked_at is null then p_revoked_by else k.revoked_by end
  where k.key_id = p_key_id
  returning * into v_key;
  return v_key;
end
$$;

-- Port authorization ----------------------------------------------------------

-- Runs the contract's checks in its order: key (unknown, wrong secret,
-- revoked, expired) → tenant switch → scope → rate limit. On success returns
-- the principal; otherwise `error` holds the contract's code and nothing has
-- changed. p_count_request = false re-checks without spending the rate limit
-- (the repeated polls inside one long-poll claim).
create function omnilink.authorize(
  p_key_id text,
  p_secret_sha256 text,
  p_scopes text[],
  p_count_request boolean default true,
  out error text,
  out message text,
  out required_scope text,
  out retry_after_seconds integer,
  out api_key_id uuid,
  out tenant_id uuid,
  out integration_id uuid,
  out source text
)
language plpgsql security definer
set search_path = ''
as $$
declare
  v_key record;
  v_window_started_at timestamptz;
begin
  select k.id, k.tenant_id, k.integration_id, i.source, k.scopes, k.max_rpm, k.expires_at,
         k.revoked_at, k.last_used_at, s.secret_sha256, coalesce(ts.omnilink_enabled, true) as enabled
  into v_key
  from public.api_keys k
  join omnilink.api_key_secrets s on s.api_key_id = k.id
  join public.integrations i on i.id = k.integration_id
  left join public.tenant_settings ts on ts.tenant_id = k.tenant_id
  where k.key_id = p_key_id;

  -- Written to fail closed: a NULL or malformed hash never matches.
  if not found or p_secret_sha256 is null or p_secret_sha256 !~ '^[0-9a-f]{64}$'
     or v_key.secret_sha256 is distinct from decode(p_secret_sha256, 'hex') then
    error := 'unauthorized';
    message := 'The API key is not valid. Check OMNIHUB_API_KEY: it must be a key created in OmniDash or with `pnpm omnihub keys create`.';
    return;
  end if;
  if v_key.revoked_at is not null then
    error := 'unauthorized';
    message := 'This API key was revoked. Create a new one in OmniDash → Integrations.';
    return;
  end if;
  if v_key.expires_at is not null and v_key.expires_at <= now() then
    error := 'unauthorized';
    message := 'This API key has expired. Create a new one in OmniDash → Integrations.';
    return;
  end if;
  if not v_key.enabled then
    error := 'omnilink_disabled';
    message := 'OmniLink is switched off for this tenant. An admin can switch it back on in OmniDash → Settings.';
    return;
  end if;
  if p_scopes is null or not coalesce(v_key.scopes && p_scopes, false) then
    error := 'permission_denied';
    required_scope := array_to_string(p_scopes, ' or ');
    message := format('This API key lacks the scope this endpoint needs (%s). Its scopes: %s.',
      required_scope, array_to_string(v_key.scopes, ', '));
    return;
  end if;

  if p_count_request and v_key.max_rpm is not null then
    -- The row lock serialises requests of one key across all port instances,
    -- which is what makes the count exact.
    insert into omnilink.api_key_rate_windows as w (api_key_id, window_started_at, request_count)
    values (v_key.id, now(), 1)
    on conflict on constraint api_key_rate_windows_pkey do update
      set window_started_at = case when w.window_started_at <= now() - interval '1 minute'
                                   then now() else w.window_started_at end,
          request_count = case when w.window_started_at <= now() - interval '1 minute'
                               then 1 else w.request_count + 1 end
      where w.window_started_at <= now() - interval '1 minute' or w.request_count < v_key.max_rpm
    returning w.window_started_at into v_window_started_at;

    if v_window_started_at is null then
      select w.window_started_at into v_window_started_at
      from omnilink.api_key_rate_windows w where w.api_key_id = v_key.id;
      error := 'rate_limited';
      message := format('This API key may make %s requests per minute; wait before sending more.', v_key.max_rpm);
      retry_after_seconds := greatest(
        1, ceil(extract(epoch from (v_window_started_at + interval '1 minute' - now())))::integer
      );
      return;
    end if;
  end if;

  if p_count_request and (v_key.last_used_at is null or v_key.last_used_at < now() - interval '1 minute') then
    update public.api_keys k set last_used_at = now()
    where k.id = v_key.id and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
  end if;

  api_key_id := v_key.id;
  tenant_id := v_key.tenant_id;
  integration_id := v_key.integration_id;
  source := v_key.source;
end
$$;

-- The port's own authorize-only call: used when a request is refused before
-- its operation (invalid body, unknown task id) so that the contract's order
-- of checks still holds: a bad key gets 401 before a bad body gets 400.
create function omnilink.port_authorize(p_key_id text, p_secret_sha256 text, p_scopes text[])
returns jsonb
language sql security definer
set search_path = ''
as $$
  select jsonb_strip_nulls(to_jsonb(a)) from omnilink.authorize(p_key_id, p_secret_sha256, p_scopes) a
$$;

-- Dashboard RPCs -------------------------------------------------------------

create function public.create_integration(p_tenant_id uuid, p_source text, p_name text default null)
returns public.integrations
language plpgsql security definer
set search_path = ''
as $$
declare
  v_integration public.integrations;
begin
  perform omnilink.require_role(p_tenant_id, 'admin');
  if p_source is null or p_source !~ '^[a-z0-9_.:-]{1,100}$' then
    raise exception 'The source must be 1-100 characters of a-z, 0-9, ''_'', ''.'', '':'' or ''-''.'
      using errcode = '22023';
  end if;
  insert into public.integrations (tenant_id, source, name, created_by)
  values (p_tenant_id, p_source, coalesce(nullif(trim(p_name), ''), p_source), (select auth.uid()))
  returning * into v_integration;
  return v_integration;
exception
  when unique_violation then
    raise exception 'This tenant already has an integration for source %.', p_source
      using errcode = '23505';
end
$$;
comment on function public.create_integration(uuid, text, text) is
  'Admins: connect a new agent source to the tenant.';

create function public.create_api_key(
  p_integration_id uuid,
  p_scopes text[],
  p_max_rpm integer default null,
  p_expires_at timestamptz default null,
  p_name text default null
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant_id uuid;
begin
  select i.tenant_id into v_tenant_id from public.integrations i where i.id = p_integration_id;
  if v_tenant_id is null then
    raise exception 'Not found.' using errcode = 'P0002';
  end if;
  perform omnilink.require_role(v_tenant_id, 'admin');
  return omnilink.issue_api_key(
    p_integration_id, p_scopes, p_max_rpm, p_expires_at, nullif(trim(p_name), ''), (select auth.uid())
  );
end
$$;
comment on function public.create_api_key(uuid, text[], integer, timestamptz, text) is
  'Admins: create an API key for an integration. The result''s api_key is the only copy of the secret.';

create function public.revoke_api_key(p_key_id text) returns public.api_keys
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant_id uuid;
begin
  select k.tenant_id into v_tenant_id from public.api_keys k where k.key_id = p_key_id;
  if v_tenant_id is null then
    raise exception 'Not found.' using errcode = 'P0002';
  end if;
  perform omnilink.require_role(v_tenant_id, 'admin');
  return omnilink.revoke_api_key(p_key_id, (select auth.uid()));
end
$$;
comment on function public.revoke_api_key(text) is
  'Admins: revoke a key; the port refuses it from its next request on.';

revoke execute on function
  public.create_integration(uuid, text, text),
  public.create_api_key(uuid, text[], integer, timestamptz, text),
  public.revoke_api_key(text)
from public, anon;
grant execute on function
  public.create_integration(uuid, text, text),
  public.create_api_key(uuid, text[], integer, timestamptz, text),
  public.revoke_api_key(text)
to authenticated;

revoke execute on all functions in schema omnilink from public;
grant execute on function omnilink.member_tenant_ids(), omnilink.uuid_v7() to authenticated;
grant execute on function omnilink.port_authorize(text, text, text[]) to service_role;
