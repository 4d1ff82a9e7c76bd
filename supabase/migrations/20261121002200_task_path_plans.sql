-- Task calls whose cost grew with the number of tasks. plpgsql caches a
-- plan per statement and connection after a few calls and keeps it until
-- the table is next analyzed; a plan made while the tenant had few tasks
-- (a fresh queue, or one just emptied) scanned the whole table or the
-- tenant's tasks, and kept doing so as a burst of tasks arrived. Found with
-- pg_stat_statements and auto_explain under the task benchmark: at 60,000
-- tasks POST /tasks/complete cost ~490 µs of Postgres CPU per completed
-- task (the row locks and the update each read the tenant's tasks through
-- a bitmap scan, a sequential scan, or the partial index of every running
-- task), and throughput swung between ~1,300 and ~7,000 tasks/s from run
-- to run as plans happened to be cached. Results are unchanged.

-- 1. The port's task calls find tasks by index only: a task id, a claim's
--    ready index, a lease's running index. None of their statements is
--    ever right as a sequential scan of tasks, which is what a plan cached
--    while the table was small can be; off for these calls, so the plan
--    kept is an index plan whatever the statistics said then.
alter function omnilink.port_claim_tasks(text, text, text, integer, integer, text[], boolean)
  set enable_seqscan = off;
alter function omnilink.port_complete_task(text, text, uuid, text, integer, text, jsonb, boolean, text, boolean)
  set enable_seqscan = off;
alter function omnilink.port_heartbeat(text, text, uuid, text, integer, integer, jsonb)
  set enable_seqscan = off;
alter function omnilink.port_get_task(text, text, uuid)
  set enable_seqscan = off;
alter function omnilink.port_release_claim(text, text, text, uuid[])
  set enable_seqscan = off;
alter function omnilink.port_create_task(text, text, jsonb)
  set enable_seqscan = off;

-- 2. POST /tasks/complete, each statement with no plan but the intended
--    one, so no cached plan can read more than the named tasks:
--    * each row is locked by one primary-key probe, in id order; the
--      tenant is a filter written `is not distinct from`, which no index
--      serves, so no tenant-wide index is a candidate;
--    * which leases this worker holds is read by `id = any (ids)` and
--      tested outside WHERE (a status condition there makes the partial
--      index of running tasks a candidate);
--    * the update addresses exactly those row versions by ctid (a TID
--      scan: a row locked FOR UPDATE keeps its ctid until this
--      transaction changes it) and takes each task's completion from a
--      map by task id, not from a join, which a cached plan could serve
--      with a whole-index scan; the attempts are found by task id;
--    * the usual answer (every completion accepted) comes from the
--      update's own RETURNING. The rule is 001500's.
create or replace function omnilink.port_complete_tasks(
  p_key_id text,
  p_secret_sha256 text,
  p_worker_id text,
  -- [{task_id, attempt?, status, output?, output_truncated?, error?, retryable?}], checked by the port.
  p_completions jsonb
) returns jsonb
language plpgsql security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_auth record;
  v_ids uuid[];
  v_input jsonb;
  v_held tid[];
  v_done uuid[];
  v_expired uuid[];
  v_task_id uuid;
  v_results jsonb;
  v_completed integer;
begin
  select * into v_auth from omnilink.authorize(p_key_id, p_secret_sha256, array['tasks:complete']);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;
  if p_completions is null or jsonb_typeof(p_completions) <> 'array'
     or jsonb_array_length(p_completions) not between 1 and 100
     or (select count(distinct e ->> 'task_id') from jsonb_array_elements(p_completions) e)
        <> jsonb_array_length(p_completions) then
    return jsonb_build_object(
      'error', 'invalid_request',
      'message', 'completions must hold 1 to 100 completions of different tasks.'
    );
  end if;
  v_ids := array(select (e ->> 'task_id')::uuid from jsonb_array_elements(p_completions) e);
  -- Each completion by task id, with its place in the request.
  v_input := (
    select jsonb_object_agg((x.e ->> 'task_id')::uuid::text, x.e || jsonb_build_object('ord', x.ord))
    from jsonb_array_elements(p_completions) with ordinality as x(e, ord)
  );

  -- Row locks in id order: two batches naming the same tasks wait for each
  -- other in one order instead of deadlocking. One primary-key probe each:
  -- a single statement would need ORDER BY, and a plan cached while the
  -- table was small may serve that by reading the whole key index.
  foreach v_task_id in array array(select x from unnest(v_ids) x order by x) loop
    perform 1 from public.tasks t
    where t.id = v_task_id and t.tenant_id is not distinct from v_auth.tenant_id
    for update;
  end loop;
  -- The leases this worker holds (the rows are locked: their ctids stay).
  -- Tested in the aggregates, not in WHERE: a status condition there would
  -- make the partial index of running tasks a candidate plan.
  select coalesce(array_agg(t.ctid) filter (where l.held and t.lease_expires_at > now()), '{}'),
         coalesce(array_agg(t.id) filter (where l.held and t.lease_expires_at <= now()), '{}')
  into v_held, v_expired
  from public.tasks t,
       omnilink.holds_lease(
         t, v_auth.source, p_worker_id, (v_input -> t.id::text ->> 'attempt')::integer
       ) as l(held)
  where t.id = any (v_ids) and t.tenant_id is not distinct from v_auth.tenant_id;

  -- Held leases that ran out end first (rare: a worker slower than its lease).
  foreach v_task_id in array v_expired loop
    perform omnilink.expire_leases(v_auth.tenant_id, v_auth.source, v_task_id);
  end loop;

  -- No join below: the tasks by ctid, their attempts by task id.
  with done as (
    update public.tasks t
    set (status, run_at, finished_at, output, output_truncated, error, lease_expires_at, updated_at) = (
      select
        case
          when c.status = 'succeeded' then 'succeeded'
          when c.retryable and t.attempts < t.max_attempts then 'queued'
          else 'failed'
        end,
        -- Backoff before the next attempt: 1 s, 2 s, 4 s, … capped at 60 s.
        case
          when c.status = 'failed' and c.retryable and t.attempts < t.max_attempts
            then now() + make_interval(secs => least(60, power(2, t.attempts - 1)))
          else t.run_at
        end,
        case
          when c.status = 'succeeded' or not c.retryable or t.attempts >= t.max_attempts then now()
        end,
        c.output,
        c.output_truncated,
        case when c.status = 'succeeded' then null else c.error end,
        null::timestamptz,
        now()
      from (
        select r.status, r.output, coalesce(r.output_truncated, false) as output_truncated,
               r.error, coalesce(r.retryable, true) as retryable
        from jsonb_to_record(v_input -> t.id::text) as r(
          status text, output jsonb, output_truncated boolean, error text, retryable boolean
        )
      ) c
    )
    where t.ctid = any (v_held)
    returning t.id, t.status
  )
  select coalesce(array_agg(d.id), '{}'),
         jsonb_agg(
           jsonb_build_object('task_id', d.id, 'outcome', 'completed', 'status', d.status)
           order by (v_input -> d.id::text ->> 'ord')::integer
         ),
         count(*)
  into v_done, v_results, v_completed
  from done d;

  update public.task_attempts a
  set finished_at = now(),
      outcome = v_input -> a.task_id::text ->> 'status',
      error = case
        when v_input -> a.task_id::text ->> 'status' = 'failed' then v_input -> a.task_id::text ->> 'error'
      end
  where a.task_id = any (v_done) and a.finished_at is null;

  if v_completed = jsonb_array_length(p_completions) then
    return jsonb_build_object('results', v_results);
  end if;

  -- Some were not completed (rare: a repeat, a lost lease, an unknown id):
  -- say why for each of those, in request order.
  select jsonb_build_object('results', jsonb_agg(
    case
      when d.result is not null then d.result
      when t.id is null then
        jsonb_build_object('task_id', i.task_id) || omnilink.task_not_found()
      -- The same worker repeating the completion it already made.
      when t.target = v_auth.source and last.worker_id = p_worker_id and last.outcome = i.status
           and (i.attempt is null or last.attempt = i.attempt) then
        jsonb_build_object('task_id', i.task_id, 'outcome', 'completed', 'status', t.status)
      else
        jsonb_build_object('task_id', i.task_id) || omnilink.lease_lost(t.status)
    end
    order by i.ord
  ))
  from rows from (
    jsonb_to_recordset(p_completions) as (task_id uuid, attempt integer, status text)
  ) with ordinality as i(task_id, attempt, status, ord)
  left join jsonb_array_elements(coalesce(v_results, '[]'::jsonb)) as d(result)
    on (d.result ->> 'task_id')::uuid = i.task_id
  left join public.tasks t
    on t.id = any (v_ids) and t.id = i.task_id and t.tenant_id is not distinct from v_auth.tenant_id
  left join lateral (
    select a.worker_id, a.outcome, a.attempt from public.task_attempts a
    where d.result is null and a.task_id = t.id
    order by a.started_at desc, a.id desc
    limit 1
  ) last on true
  into v_results;
  return v_results;
end
$$;
