-- Runner stats and dead letters (product notes 004): one definition of a
-- target's stats (counts by status, recent finishes, the oldest ready task,
-- workers online, pause and limits) shared by GET /stats and the
-- dashboard's runner screen; bulk retry of failed tasks reusing the single
-- retry's rule; an index for listing a tenant's failed tasks newest first.

-- Stats ---------------------------------------------------------------------

-- What "online" and "ready" mean, stated once for GET /stats, the runner
-- screen and GET /metrics. Both are inlined SQL, so the queries using them
-- keep their index conditions.

-- A worker is online while its last_seen_at is after this instant (seen in the last minute).
create function omnilink.worker_online_after() returns timestamptz
language sql stable
set search_path = ''
as $$
  select pg_catalog.now() - interval '1 minute'
$$;
comment on function omnilink.worker_online_after() is
  'Workers whose last_seen_at is after this are online (seen in the last minute).';

-- A task a worker could claim now, dependencies and pauses aside: queued or approved, and due.
create function omnilink.task_is_ready(p_status text, p_run_at timestamptz) returns boolean
language sql stable
set search_path = ''
as $$
  select p_status in ('queued', 'approved') and (p_run_at is null or p_run_at <= pg_catalog.now())
$$;

-- One target's runner stats.
-- It reads every task of the target for the counts, as port_stats always
-- did; the hot claim path is untouched (no new index on tasks for it).
create function omnilink.target_stats(p_tenant_id uuid, p_target text)
returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'target', p_target,
    'tasks', (
      select jsonb_object_agg(s.status, coalesce(c.n, 0))
      from unnest(array['queued', 'waiting_approval', 'approved', 'running', 'succeeded', 'failed', 'canceled']) as s(status)
      left join (
        select t.status, count(*) as n from public.tasks t
        where t.tenant_id = p_tenant_id and t.target = p_target
        group by t.status
      ) c on c.status = s.status
    ),
    'finished_last_5m', (
      select count(*) from public.tasks t
      where t.tenant_id = p_tenant_id and t.target = p_target and t.finished_at > now() - interval '5 minutes'
    ),
    'oldest_ready_age_seconds', (
      select floor(extract(epoch from now() - min(coalesce(t.run_at, t.created_at))))::integer
      from public.tasks t
      where t.tenant_id = p_tenant_id and t.target = p_target
        and omnilink.task_is_ready(t.status, t.run_at)
    ),
    'workers', coalesce((
      select jsonb_agg(
        jsonb_build_object('worker_id', w.worker_id, 'last_seen_at', w.last_seen_at, 'last_claim_at', w.last_claim_at)
        order by w.last_seen_at desc
      )
      from public.workers w
      where w.tenant_id = p_tenant_id and w.source = p_target and w.last_seen_at > omnilink.worker_online_after()
    ), '[]'::jsonb),
    -- No task_targets row means running (as the claim reads it).
    'paused', coalesce((
      select p.paused from public.task_targets p where p.tenant_id = p_tenant_id and p.target = p_target
    ), false),
    'limits', coalesce((
      select jsonb_agg(
        jsonb_build_object(
          'action', l.action,
          'max_running', l.max_running,
          'running', (
            select count(*) from public.tasks r
            where r.tenant_id = p_tenant_id and r.target = p_target
              and r.status = 'running' and r.action = l.action
          )
        )
        order by l.action
      )
      from public.task_action_limits l
      where l.tenant_id = p_tenant_id and l.target = p_target
    ), '[]'::jsonb)
  )
$$;
comment on function omnilink.target_stats(uuid, text) is
  'A target''s runner stats: tasks by status, finished in the last 5 minutes, the oldest ready task''s age, workers seen in the last minute, paused, and each action limit with its running count. Shared by port_stats and runner_stats.';

-- GET /stats: as in 000500, plus paused and limits, through target_stats.
create or replace function omnilink.port_stats(p_key_id text, p_secret_sha256 text)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
begin
  select * into v_auth
  from omnilink.authorize(p_key_id, p_secret_sha256, array['tasks:create', 'tasks:claim', 'tasks:complete']);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;
  return omnilink.target_stats(v_auth.tenant_id, v_auth.source)
    || jsonb_build_object('generated_at', now());
end
$$;

-- The runner screen: every target the tenant has anything for. A target
-- can exist only as tasks (no task_targets row until first paused), only as
-- a switch or a limit, or only as an integration whose workers have had no
-- task yet; all are shown.
create function public.runner_stats(p_tenant_id uuid)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
begin
  perform omnilink.require_role(p_tenant_id, 'viewer');
  return jsonb_build_object(
    'targets', coalesce((
      select jsonb_agg(omnilink.target_stats(p_tenant_id, x.target) order by x.target)
      from (
        select t.target from public.tasks t where t.tenant_id = p_tenant_id
        union
        select p.target from public.task_targets p where p.tenant_id = p_tenant_id
        union
        select l.target from public.task_action_limits l where l.tenant_id = p_tenant_id
        union
        select i.source from public.integrations i where i.tenant_id = p_tenant_id
      ) x
    ), '[]'::jsonb),
    'generated_at', now()
  );
end
$$;
comment on function public.runner_stats(uuid) is
  'Members (viewer and up): {targets: [omnilink.target_stats of each target of the tenant, by name], generated_at}. A target is any name with tasks, a pause switch, a limit or an integration.';

-- Retry ---------------------------------------------------------------------

-- The retry rule, one place for the single and the bulk retry: a failed
-- task goes back to queued with a fresh set of attempts (the history keeps
-- the earlier ones). Tasks not failed are left alone; the callers lock the
-- rows first and decide what to say about those.
create function omnilink.requeue_failed_tasks(p_task_ids uuid[])
returns setof public.tasks
language sql
set search_path = ''
as $$
  update public.tasks t
  set status = 'queued', attempts = 0, run_at = null, error = null, output = null,
      output_truncated = false, finished_at = null, lease_expires_at = null, updated_at = now()
  where t.id = any (p_task_ids) and t.status = 'failed'
  returning t.*
$$;

create or replace function public.retry_task(p_task_id uuid) returns public.tasks
language plpgsql security definer
set search_path = ''
as $$
declare
  v_task public.tasks := omnilink.task_for_update_by(p_task_id, 'operator');
begin
  if v_task.status <> 'failed' then
    raise exception 'The task is %; only a failed task can be retried.', v_task.status
      using errcode = 'PT409';
  end if;
  select * into v_task from omnilink.requeue_failed_tasks(array[p_task_id]);
  return v_task;
end
$$;

create function public.retry_tasks(p_tenant_id uuid, p_task_ids uuid[])
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_status jsonb;
  v_missing uuid[];
  v_retried uuid[];
  v_result jsonb;
begin
  perform omnilink.require_role(p_tenant_id, 'operator');
  if p_task_ids is null or cardinality(p_task_ids) = 0 then
    raise exception 'task_ids must list at least one task.' using errcode = '22023';
  end if;
  if cardinality(p_task_ids) > 500 then
    raise exception 'task_ids may list at most 500 tasks; it lists %.', cardinality(p_task_ids)
      using errcode = '22023';
  end if;
  if array_position(p_task_ids, null) is not null then
    raise exception 'task_ids must not contain null.' using errcode = '22023';
  end if;
  -- Duplicates count once, in the order first given.
  select array_agg(x.id order by x.ord) into v_ids
  from (
    select u.id, min(u.ord) as ord from unnest(p_task_ids) with ordinality as u(id, ord) group by u.id
  ) x;

  -- Locked in id order, so concurrent bulk retries of overlapping sets wait
  -- for each other instead of deadlocking; the one that waits reads the
  -- other's result (queued) here, and skips those tasks.
  select coalesce(jsonb_object_agg(l.id, l.status), '{}'::jsonb) into v_status
  from (
    select t.id, t.status from public.tasks t
    where t.id = any (v_ids) and t.tenant_id = p_tenant_id
    order by t.id
    for update
  ) l;

  select array_agg(u.id order by u.ord) into v_missing
  from unnest(v_ids) with ordinality as u(id, ord)
  where not v_status ? u.id::text;
  if v_missing is not null then
    -- Another tenant's id reads exactly like one that exists nowhere.
    raise exception 'task_ids lists % task(s) not in this tenant: %.',
      cardinality(v_missing),
      array_to_string(v_missing[1:5], ', ') || case when cardinality(v_missing) > 5 then ', …' else '' end
      using errcode = '22023';
  end if;

  select coalesce(array_agg(r.id), '{}') into v_retried from omnilink.requeue_failed_tasks(v_ids) r;

  select jsonb_build_object(
    'retried', coalesce(jsonb_agg(to_jsonb(u.id) order by u.ord) filter (where u.id = any (v_retried)), '[]'::jsonb),
    'skipped', coalesce(
      jsonb_agg(jsonb_build_object('id', u.id, 'status', v_status ->> u.id::text) order by u.ord)
        filter (where u.id <> all (v_retried)),
      '[]'::jsonb
    )
  ) into v_result
  from unnest(v_ids) with ordinality as u(id, ord);
  return v_result;
end
$$;
comment on function public.retry_tasks(uuid, uuid[]) is
  'Operators: retry up to 500 failed tasks of the tenant at once (as retry_task does one). Any id not of this tenant refuses the whole call; tasks no longer failed are skipped. Returns {retried: [id], skipped: [{id, status}]}, in the order given.';

revoke execute on function
  public.runner_stats(uuid),
  public.retry_tasks(uuid, uuid[])
from public, anon;
grant execute on function
  public.runner_stats(uuid),
  public.retry_tasks(uuid, uuid[])
to authenticated;

revoke execute on all functions in schema omnilink from public;
grant execute on function omnilink.port_stats(text, text) to service_role;

-- Dead letters ---------------------------------------------------------------

-- Tasks that ended failed (attempts used up, a non-retryable failure, or a
-- lease that expired on the last attempt), newest first, as the dead-letters
-- screen pages them (finished_at desc, id desc, PostgREST's default nulls
-- first for desc). Partial, so it holds only the failed few.
create index tasks_failed_idx on public.tasks (tenant_id, finished_at desc, id desc)
  where status = 'failed';
