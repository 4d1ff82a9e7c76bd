-- Dashboard query speed at scale (issue 7): the runner screen, GET /stats
-- and GET /metrics, and the task chain, at 200,000 tasks in a tenant.
-- Results are unchanged; scripts/bench/dashboard-queries.ts measures them.
--
-- 1. The "ready" and "online" rules become inlinable again. Postgres never
--    inlines a function that has a SET clause, so `set search_path = ''`
--    made task_is_ready a per-row call: no index could serve a query using
--    it, and every target's oldest ready task read all of its tasks. Every
--    name in the bodies is schema-qualified (operators too), so the SET was
--    not needed: an inlined body is parsed in its caller's context, and the
--    callers that matter (target_stats, port_metrics) pin search_path.
-- 2. One index, tasks (tenant_id, target, status, finished_at), makes a
--    target's counts by status and its recent finishes index-only reads, and
--    lets the runner screen find a tenant's targets with a few index probes
--    instead of reading every task. It costs an entry on each task write
--    that is not HOT (status changes: create, claim, completion); no existing
--    index could serve instead (the task list needs (tenant_id, created_at),
--    dead letters need (tenant_id, finished_at) across targets, and the
--    claim's indexes are partial). Measured on a shared 2-core machine:
--    the task-throughput benchmark's Postgres CPU per task stayed within
--    its noise (batch 100: 200-217 us before, 193-204 us after); a bulk
--    status update of 5,000 of 220,000 tasks took ~10-15% longer. The
--    counts stay exact, so they still read one index entry per task:
--    ~10-15 ms per 100,000 tasks once the visibility map is set.
-- 3. task_chain runs as its owner with an explicit membership check: under
--    RLS the operator `@>` on depends_on is not leakproof, so the GIN index
--    could not be used and every level of the recursion read the tenant's
--    tasks.

-- 1. Inlinable rules ----------------------------------------------------------

create or replace function omnilink.worker_online_after() returns timestamptz
language sql stable
as $$
  select pg_catalog.now() operator(pg_catalog.-) '1 minute'::pg_catalog.interval
$$;

create or replace function omnilink.task_is_ready(p_status text, p_run_at timestamptz) returns boolean
language sql stable
as $$
  select p_status operator(pg_catalog.=) any (array['queued', 'approved']::pg_catalog.text[])
    and (p_run_at is null or p_run_at operator(pg_catalog.<=) pg_catalog.now())
$$;
comment on function omnilink.task_is_ready(text, timestamptz) is
  'A task a worker could claim now, dependencies and pauses aside: queued or approved, and due. Inlined SQL (no SET clause), so queries using it keep their index conditions.';

-- 2. A target's stats from the index ----------------------------------------

create index tasks_target_status_idx on public.tasks (tenant_id, target, status, finished_at);

-- As in 20261121001200, reading tasks_target_status_idx, tasks_ready_idx
-- and tasks_scheduled_idx instead of the target's every task.
create or replace function omnilink.target_stats(p_tenant_id uuid, p_target text)
returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'target', p_target,
    -- One count per status: seven index-only ranges, a third faster than
    -- grouping the target's whole range by status.
    'tasks', (
      select jsonb_object_agg(s.status, (
        select count(*) from public.tasks t
        where t.tenant_id = p_tenant_id and t.target = p_target and t.status = s.status
      ))
      from unnest(array['queued', 'waiting_approval', 'approved', 'running', 'succeeded', 'failed', 'canceled']) as s(status)
    ),
    -- Every status is named (all that tasks_status_check allows), so the
    -- index is read as one short range of finished_at per status.
    'finished_last_5m', (
      select count(*) from public.tasks t
      where t.tenant_id = p_tenant_id and t.target = p_target
        and t.status in ('queued', 'waiting_approval', 'approved', 'running', 'succeeded', 'failed', 'canceled')
        and t.finished_at > now() - interval '5 minutes'
    ),
    -- The oldest ready task without reading every ready one: a task without
    -- run_at is as old as created_at, and within each priority (1 to 10,
    -- tasks_priority_range) tasks_ready_idx lists those oldest first; a
    -- scheduled one is as old as run_at, which tasks_scheduled_idx orders.
    'oldest_ready_age_seconds', (
      select floor(extract(epoch from now() - least(
        (
          select min(o.created_at)
          from generate_series(1, 10) as p(priority)
          cross join lateral (
            select t.created_at from public.tasks t
            where t.tenant_id = p_tenant_id and t.target = p_target and t.priority = p.priority
              and t.run_at is null and omnilink.task_is_ready(t.status, t.run_at)
            order by t.created_at
            limit 1
          ) o
        ),
        (
          select min(t.run_at) from public.tasks t
          where t.tenant_id = p_tenant_id and t.target = p_target
            and t.run_at <= now() and omnilink.task_is_ready(t.status, t.run_at)
        )
      )))::integer
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

-- As in 20261121001200; the targets that have tasks are found by a "loose
-- index scan" of tasks_target_status_idx (each probe jumps to the next
-- target), not by reading every task of the tenant.
create or replace function public.runner_stats(p_tenant_id uuid)
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
        with recursive task_target (target) as (
          (select t.target from public.tasks t where t.tenant_id = p_tenant_id order by t.target limit 1)
          union all
          select (
            select t.target from public.tasks t
            where t.tenant_id = p_tenant_id and t.target > n.target
            order by t.target
            limit 1
          )
          from task_target n
          where n.target is not null
        )
        select n.target from task_target n where n.target is not null
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

-- 3. The chain with its index ------------------------------------------------

-- As in 20261121001400, as the owner: membership is checked once, on the
-- root, so a non-member, or a task id of another tenant, still gets no rows,
-- exactly like an id that names no task (upstream and downstream start from
-- the root, and every member is read within p_tenant_id).
create or replace function public.task_chain(p_tenant_id uuid, p_task_id uuid)
returns table (
  relation text,
  id uuid,
  target text,
  action text,
  status text,
  depends_on uuid[],
  error text,
  created_at timestamptz,
  updated_at timestamptz,
  finished_at timestamptz
)
language sql stable security definer
set search_path = ''
as $$
  with recursive
  root as (
    select t.id, t.depends_on from public.tasks t
    where t.tenant_id = p_tenant_id and t.id = p_task_id
      and p_tenant_id in (select omnilink.member_tenant_ids())
  ),
  upstream (id) as (
    select unnest(r.depends_on) from root r
    union
    select unnest(t.depends_on)
    from upstream u join public.tasks t on t.id = u.id
    where t.tenant_id = p_tenant_id
  ),
  -- tasks_depends_on_idx (gin) finds each level's dependents.
  downstream (id) as (
    select t.id from root r join public.tasks t
      on t.tenant_id = p_tenant_id and t.depends_on @> array[r.id]
    union
    select t.id from downstream d join public.tasks t
      on t.tenant_id = p_tenant_id and t.depends_on @> array[d.id]
  ),
  members (relation, id) as (
    select 'upstream', u.id from (select u.id from upstream u limit 200) u
    union all
    select 'task', r.id from root r
    union all
    select 'downstream', d.id from (select d.id from downstream d limit 200) d
  )
  select m.relation, t.id, t.target, t.action, t.status, t.depends_on, t.error,
         t.created_at, t.updated_at, t.finished_at
  from members m join public.tasks t on t.id = m.id and t.tenant_id = p_tenant_id
  order by case m.relation when 'upstream' then 0 when 'task' then 1 else 2 end, t.created_at, t.id
$$;
revoke execute on function public.task_chain(uuid, uuid) from public, anon;
grant execute on function public.task_chain(uuid, uuid) to authenticated;
