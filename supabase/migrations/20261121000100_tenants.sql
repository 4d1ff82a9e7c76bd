-- Tenants, their members (Supabase Auth users with a role) and per-tenant
-- settings, plus the private `omnilink` schema for helpers and port functions.
--
-- Access model, used by every later migration:
--   * members of a tenant read its rows through RLS (role viewer and up);
--   * anon reads nothing;
--   * the dashboard changes data only through security-definer RPCs in
--     `public` that check the caller's role with omnilink.require_role();
--   * the OmniLink Port calls omnilink.port_* functions, never granted to
--     API roles.

create schema if not exists omnilink;
comment on schema omnilink is
  'OmniHub internals: RLS helpers and the functions the OmniLink Port calls. Not exposed through PostgREST.';

revoke all on schema omnilink from public;
-- RLS policies call omnilink helpers as the querying role.
grant usage on schema omnilink to authenticated, service_role;

-- Time-ordered UUIDs (version 7): new rows land at the right edge of the
-- primary-key index instead of at random pages, which keeps hot inserts cheap.
-- No `set search_path`: it uses only pg_catalog, and a SET clause would make
-- every insert pay for a configuration save and restore.
create function omnilink.uuid_v7() returns uuid
language sql volatile parallel safe
as $$
  select encode(
    set_bit(
      set_bit(
        overlay(
          uuid_send(gen_random_uuid())
          placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
          from 1 for 6
        ),
        52, 1
      ),
      53, 1
    ),
    'hex'
  )::uuid
$$;
grant execute on function omnilink.uuid_v7() to authenticated, service_role;

create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique
    constraint tenants_slug_format check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text not null
    constraint tenants_name_length check (char_length(name) between 1 and 200),
  created_at timestamptz not null default now()
);
alter table public.tenants enable row level security;
comment on table public.tenants is
  'An organisation using OmniHub. Every other row belongs to exactly one tenant.';

create table public.tenant_members (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null
    constraint tenant_members_role_check check (role in ('viewer', 'operator', 'admin')),
  created_at timestamptz not null default now(),
  primary key (tenant_id, user_id)
);
alter table public.tenant_members enable row level security;
create index tenant_members_user_id_idx on public.tenant_members (user_id);
comment on table public.tenant_members is
  'Who may use a tenant in OmniDash: viewers read, operators also dispatch and approve tasks, admins also manage integrations, keys and the OmniLink switch.';

create table public.tenant_settings (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  omnilink_enabled boolean not null default true,
  updated_at timestamptz not null default now(),
  updated_by uuid references auth.users (id) on delete set null
);
alter table public.tenant_settings enable row level security;
comment on table public.tenant_settings is
  'Per-tenant switches. omnilink_enabled = false makes the port refuse this tenant''s keys with 503, from the next request on.';
comment on column public.tenant_settings.omnilink_enabled is
  'The tenant''s OmniLink kill switch; the deployment-wide one is the OMNILINK_ENABLED environment variable.';

-- Every tenant has a settings row, so readers never have to guess defaults.
create function omnilink.create_tenant_settings() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.tenant_settings (tenant_id) values (new.id) on conflict do nothing;
  return new;
end
$$;

create trigger tenants_create_settings
after insert on public.tenants
for each row execute function omnilink.create_tenant_settings();

-- Helpers for policies and RPCs ---------------------------------------------

-- Security definer so that policies on tenant_members can use it without
-- recursing into their own RLS.
create function omnilink.member_tenant_ids() returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select m.tenant_id from public.tenant_members m where m.user_id = (select auth.uid())
$$;
grant execute on function omnilink.member_tenant_ids() to authenticated, service_role;

create function omnilink.role_rank(p_role text) returns integer
language sql immutable
as $$
  select case p_role when 'viewer' then 1 when 'operator' then 2 when 'admin' then 3 else 0 end
$$;

-- Raises unless the signed-in user holds at least p_min_role in the tenant.
-- A non-member gets the same "not found" as for a tenant that does not exist,
-- so ids of other tenants cannot be probed.
create function omnilink.require_role(p_tenant_id uuid, p_min_role text) returns void
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_role text;
begin
  if (select auth.uid()) is null then
    raise exception 'Sign in first: this action needs a signed-in tenant member.'
      using errcode = '42501';
  end if;
  select m.role into v_role
  from public.tenant_members m
  where m.tenant_id = p_tenant_id and m.user_id = (select auth.uid());
  if v_role is null then
    raise exception 'Not found.' using errcode = 'P0002';
  end if;
  if omnilink.role_rank(v_role) < omnilink.role_rank(p_min_role) then
    raise exception 'This action needs the % role in this tenant; you are %.', p_min_role, v_role
      using errcode = '42501';
  end if;
end
$$;

-- Creates the tenant when missing; used by the admin CLI and the local demo seed.
create function omnilink.ensure_tenant(p_slug text, p_name text default null) returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into public.tenants (slug, name)
  values (p_slug, coalesce(p_name, p_slug))
  on conflict (slug) do nothing
  returning id into v_id;
  if v_id is null then
    select t.id into v_id from public.tenants t where t.slug = p_slug;
  end if;
  return v_id;
end
$$;

-- Privileges and policies ---------------------------------------------------

revoke all on table public.tenants, public.tenant_members, public.tenant_settings from anon, authenticated;
grant select on table public.tenants, public.tenant_members, public.tenant_settings to authenticated;

create policy tenants_select_members on public.tenants
  for select to authenticated
  using (id in (select omnilink.member_tenant_ids()));

create policy tenant_members_select_members on public.tenant_members
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

create policy tenant_settings_select_members on public.tenant_settings
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

-- Dashboard RPC -------------------------------------------------------------

create function public.set_omnilink_enabled(p_tenant_id uuid, p_enabled boolean)
returns public.tenant_settings
language plpgsql security definer
set search_path = ''
as $$
declare
  v_settings public.tenant_settings;
begin
  perform omnilink.require_role(p_tenant_id, 'admin');
  insert into public.tenant_settings as s (tenant_id, omnilink_enabled, updated_at, updated_by)
  values (p_tenant_id, p_enabled, now(), (select auth.uid()))
  on conflict (tenant_id) do update
    set omnilink_enabled = excluded.omnilink_enabled,
        updated_at = excluded.updated_at,
        updated_by = excluded.updated_by
  returning * into v_settings;
  return v_settings;
end
$$;
comment on function public.set_omnilink_enabled(uuid, boolean) is
  'Admins: switch the OmniLink Port on or off for this tenant''s keys; it takes effect on the next request.';
revoke execute on function public.set_omnilink_enabled(uuid, boolean) from public, anon;
grant execute on function public.set_omnilink_enabled(uuid, boolean) to authenticated;

-- Functions in omnilink are executable only where granted explicitly above.
revoke execute on all functions in schema omnilink from public;
