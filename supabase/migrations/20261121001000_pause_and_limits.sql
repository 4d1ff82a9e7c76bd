-- Pause and resume per target, and concurrency limits per target and
-- action (product notes 001 and 004): both kept in tables the dashboard
-- reads under RLS and changes through RPCs, and both enforced by the claim.

create table public.task_targets (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  target text not null
    constraint task_targets_target_format check (target ~ '^[a-z0-9_.:-]{1,100}$'),
  paused boolean not null default false,
  updated_at timestamptz not null default now(),
  updated_by uuid references auth.users (id) on delete set null,
  primary key (tenant_id, target)
);
alter table public.task_targets enable row level security;
comment on table public.task_targets is
  'Per-target switches of the task runner. A paused target''s tasks are not claimed (they wait, queued); no row means running.';

create table public.task_action_limits (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  target text not null
    constraint task_action_limits_target_format check (target ~ '^[a-z0-9_.:-]{1,100}$'),
  action text not null
    constraint task_action_limits_action_format check (action ~ '^[a-z0-9_.:-]{1,100}$'),
  max_running integer not null
    constraint task_action_limits_max_running_range check (max_running between 1 and 1000),
  updated_at timestamptz not null default now(),
  updated_by uuid references auth.users (id) on delete set null,
  primary key (tenant_id, target, action)
);
alter table public.task_action_limits enable row level security;
comment on table public.task_action_limits is
  'At most max_running tasks of this target and action run at once, across all workers; enforced by the claim. No row means no limit.';

revoke all on table public.task_targets, public.task_action_limits from anon, authenticated;
grant select on table public.task_targets, public.task_action_limits to authenticated;

create policy task_targets_select_members on public.task_targets
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

create policy task_action_limits_select_members on public.task_action_limits
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

alter publication supabase_realtime add table public.task_targets, public.task_action_limits;

-- The targets' and actions' format (as tasks_target_format checks it), as
-- the RPCs' clear 22023 rather than a constraint violation.
create function omnilink.require_identifier(p_field text, p_value text) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_value is null or p_value !~ '^[a-z0-9_.:-]{1,100}$' then
    raise exception '% must be 1-100 characters of a-z, 0-9, ''_'', ''.'', '':'' or ''-''.', p_field
      using errcode = '22023';
  end if;
end
$$;

create function public.set_target_paused(p_tenant_id uuid, p_target text, p_paused boolean)
returns public.task_targets
language plpgsql security definer
set search_path = ''
as $$
declare
  v_row public.task_targets;
begin
  perform omnilink.require_role(p_tenant_id, 'operator');
  perform omnilink.require_identifier('target', p_target);
  if p_paused is null then
    raise exception 'paused must be true or false.' using errcode = '22023';
  end if;
  insert into public.task_targets as p (tenant_id, target, paused, updated_by)
  values (p_tenant_id, p_target, p_paused, (select auth.uid()))
  on conflict (tenant_id, target) do update
    set paused = excluded.paused, updated_at = now(), updated_by = excluded.updated_by
  returning * into v_row;
  if not p_paused then
    -- Claims waiting on this target look again now.
    perform pg_notify('omnilink_task_ready', p_tenant_id::text || ' ' || p_target);
  end if;
  return v_row;
end
$$;
comment on function public.set_target_paused(uuid, text, boolean) is
  'Operators: pause (true) or resume (false) the claiming of a target''s tasks. Running tasks run on; queued ones wait.';

create function public.set_action_limit(
  p_tenant_id uuid, p_target text, p_action text, p_max_running integer
) returns public.task_action_limits
language plpgsql security definer
set search_path = ''
as $$
declare
  v_row public.task_action_limits;
begin
  perform omnilink.require_role(p_tenant_id, 'admin');
  perform omnilink.require_identifier('target', p_target);
  perform omnilink.require_identifier('action', p_action);
  if p_max_running is null then
    delete from public.task_action_limits l
    where l.tenant_id = p_tenant_id and l.target = p_target and l.action = p_action
    returning * into v_row;
    -- Lifting a limit can make tasks claimable at once.
    perform pg_notify('omnilink_task_ready', p_tenant_id::text || ' ' || p_target);
    return v_row;
  end if;
  if p_max_running not between 1 and 1000 then
    raise exception 'max_running must be from 1 to 1000, or null for no limit.' using errcode = '22023';
  end if;
  insert into public.task_action_limits as l (tenant_id, target, action, max_running, updated_by)
  values (p_tenant_id, p_target, p_action, p_max_running, (select auth.uid()))
  on conflict (tenant_id, target, action) do update
    set max_running = excluded.max_running, updated_at = now(), updated_by = excluded.updated_by
  returning * into v_row;
  perform pg_notify('omnilink_task_ready', p_tenant_id::text || ' ' || p_target);
  return v_row;
end
$$;
comment on function public.set_action_limit(uuid, text, text, integer) is
  'Admins: at most p_max_running tasks of this target and action run at once (null removes the limit). Tasks already running are not stopped.';

revoke execute on function
  public.set_target_paused(uuid, text, boolean),
  public.set_action_limit(uuid, text, text, integer)
from public, anon;
grant execute on function
  public.set_target_paused(uuid, text, boolean),
  public.set_action_limit(uuid, text, text, integer)
to authenticated;

-- The claim, as in 000400, now also honouring pauses and limits.
create or replace function omnilink.port_claim_tasks(
  p_key_id text,
  p_secret_sha256 text,
  p_worker_id text,
  p_max_tasks integer,
  p_lease_seconds integer,
  p_actions text[],
  p_first_poll boolean
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
  v_free jsonb;
  v_tasks jsonb;
  v_next_check_at timestamptz;
begin
  select * into v_auth from omnilink.authorize(p_key_id, p_secret_sha256, array['tasks:claim'], p_first_poll);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;

  perform omnilink.expire_leases(v_auth.tenant_id, v_auth.source);
  if p_first_poll then
    perform omnilink.touch_worker(v_auth.tenant_id, v_auth.integration_id, v_auth.source, p_worker_id, true);
  end if;

  -- A paused target hands out nothing; resuming it wakes waiting claims.
  if exists (
    select 1 from public.task_targets p
    where p.tenant_id = v_auth.tenant_id and p.target = v_auth.source and p.paused
  ) then
    return jsonb_build_object(
      'tasks', '[]'::jsonb, 'tenant_id', v_auth.tenant_id, 'source', v_auth.source,
      'next_check_at', null
    );
  end if;

  -- With a concurrency limit on any of the target's actions, claims of the
  -- target take turns, and each counts the running tasks in a statement
  -- after its turn began, so it sees every claim before it committed:
  -- concurrent claims cannot each take the same free slot. Targets without
  -- limits keep claiming in parallel (SKIP LOCKED only).
  if exists (
    select 1 from public.task_action_limits l
    where l.tenant_id = v_auth.tenant_id and l.target = v_auth.source
  ) then
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended('omnilink.claim ' || v_auth.tenant_id::text || ' ' || v_auth.source, 0)
    );
    select jsonb_object_agg(l.action, l.max_running - (
      select count(*) from public.tasks r
      where r.tenant_id = v_auth.tenant_id and r.target = v_auth.source
        and r.status = 'running' and r.action = l.action
    ))
    into v_free
    from public.task_action_limits l
    where l.tenant_id = v_auth.tenant_id and l.target = v_auth.source;
  end if;
  v_free := coalesce(v_free, '{}'::jsonb);

  with candidates as (
    select t.id, t.action, t.priority, t.created_at from public.tasks t
    where t.tenant_id = v_auth.tenant_id and t.target = v_auth.source
      and t.status in ('queued', 'approved')
      and (t.run_at is null or t.run_at <= now())
      and (p_actions is null or t.action = any (p_actions))
      and (
        cardinality(t.depends_on) = 0
        or not exists (
          select 1 from public.tasks d where d.id = any (t.depends_on) and d.status <> 'succeeded'
        )
      )
      and coalesce((v_free ->> t.action)::integer, 1) > 0
    order by t.priority desc, t.created_at, t.id
    limit p_max_tasks
    for update of t skip locked
  ),
  -- At most the free slots of each limited action, the best first (an
  -- action's candidates past its slots stay queued for a later claim).
  ready as (
    select c.id from (
      select c.id, c.action,
             row_number() over (partition by c.action order by c.priority desc, c.created_at, c.id) as n
      from candidates c
    ) c
    where c.n <= coalesce((v_free ->> c.action)::integer, c.n)
  ),
  claimed as (
    update public.tasks t
    set status = 'running',
        attempts = t.attempts + 1,
        claimed_by = p_worker_id,
        lease_seconds = p_lease_seconds,
        lease_expires_at = now() + make_interval(secs => p_lease_seconds),
        progress = null,
        updated_at = now()
    from ready
    where t.id = ready.id
    returning t
  ),
  attempt_rows as (
    insert into public.task_attempts (task_id, tenant_id, attempt, worker_id, integration_id)
    select (c.t).id, (c.t).tenant_id, (c.t).attempts, p_worker_id, v_auth.integration_id from claimed c
  )
  select coalesce(
    jsonb_agg(omnilink.task_json(c.t) order by (c.t).priority desc, (c.t).created_at, (c.t).id),
    '[]'::jsonb
  )
  into v_tasks
  from claimed c;

  if jsonb_array_length(v_tasks) = 0 then
    select least(
      (select min(t.run_at) from public.tasks t
        where t.tenant_id = v_auth.tenant_id and t.target = v_auth.source
          and t.status in ('queued', 'approved') and t.run_at > now()),
      (select min(t.lease_expires_at) from public.tasks t
        where t.tenant_id = v_auth.tenant_id and t.target = v_auth.source and t.status = 'running')
    ) into v_next_check_at;
  end if;

  return jsonb_build_object(
    'tasks', v_tasks,
    'tenant_id', v_auth.tenant_id,
    'source', v_auth.source,
    'next_check_at', v_next_check_at
  );
end
$$;

revoke execute on all functions in schema omnilink from public;
grant execute on function
  omnilink.port_claim_tasks(text, text, text, integer, integer, text[], boolean)
to service_role;
