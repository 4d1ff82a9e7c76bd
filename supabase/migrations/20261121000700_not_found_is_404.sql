-- PostgREST answers every PL/pgSQL error class P0 but P0001 with 500, so the
-- dashboard RPCs' "Not found." (P0002) reached clients as a server error.
-- PT404 is PostgREST's way for a function to choose the status: 404, with
-- the same message and code on Supabase and on the local stack.
--
-- The one place that raises it is require_role: a tenant id that does not
-- resolve (null) has no members either, so the RPCs that look a tenant up
-- from a row now leave the "not found" to it, and an id of another tenant
-- still reads exactly like one that exists nowhere.

create or replace function omnilink.require_role(p_tenant_id uuid, p_min_role text) returns void
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
    raise exception 'Not found.' using errcode = 'PT404';
  end if;
  if omnilink.role_rank(v_role) < omnilink.role_rank(p_min_role) then
    raise exception 'This action needs the % role in this tenant; you are %.', p_min_role, v_role
      using errcode = '42501';
  end if;
end
$$;

create or replace function public.create_api_key(
  p_integration_id uuid,
  p_scopes text[],
  p_max_rpm integer default null,
  p_expires_at timestamptz default null,
  p_name text default null
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
begin
  perform omnilink.require_role(
    (select i.tenant_id from public.integrations i where i.id = p_integration_id), 'admin'
  );
  return omnilink.issue_api_key(
    p_integration_id, p_scopes, p_max_rpm, p_expires_at, nullif(trim(p_name), ''), (select auth.uid())
  );
end
$$;

create or replace function public.revoke_api_key(p_key_id text) returns public.api_keys
language plpgsql security definer
set search_path = ''
as $$
begin
  perform omnilink.require_role(
    (select k.tenant_id from public.api_keys k where k.key_id = p_key_id), 'admin'
  );
  return omnilink.revoke_api_key(p_key_id, (select auth.uid()));
end
$$;

create or replace function omnilink.task_for_update_by(p_task_id uuid, p_min_role text) returns public.tasks
language plpgsql security definer
set search_path = ''
as $$
declare
  v_task public.tasks;
begin
  perform omnilink.require_role(
    (select t.tenant_id from public.tasks t where t.id = p_task_id), p_min_role
  );
  select * into v_task from public.tasks t where t.id = p_task_id for update;
  return v_task;
end
$$;
