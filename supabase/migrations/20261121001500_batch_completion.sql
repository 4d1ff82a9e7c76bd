-- Batch completion: POST /tasks/complete finishes up to 100 tasks of one
-- worker in one call and one transaction, so a busy worker pays one round
-- trip and one commit per batch instead of one per task. Each completion
-- follows exactly the rule of POST /tasks/{id}/complete
-- (omnilink.port_complete_task): only the lease holder completes, a lease
-- that ran out is ended first and reported lost, and the same worker
-- repeating a completion it already made is answered as completed.

create function omnilink.port_complete_tasks(
  p_key_id text,
  p_secret_sha256 text,
  p_worker_id text,
  -- [{task_id, attempt?, status, output?, output_truncated?, error?, retryable?}], checked by the port.
  p_completions jsonb
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
  v_expired uuid;
  v_results jsonb;
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

  -- Row locks in id order: two batches naming the same tasks wait for each
  -- other in one order instead of deadlocking.
  perform 1 from public.tasks t
  where t.tenant_id = v_auth.tenant_id
    and t.id in (select (e ->> 'task_id')::uuid from jsonb_array_elements(p_completions) e)
  order by t.id
  for update;

  -- Held leases that ran out end first (rare: a worker slower than its lease).
  for v_expired in
    select t.id from public.tasks t
    join jsonb_array_elements(p_completions) e on (e ->> 'task_id')::uuid = t.id
    where t.tenant_id = v_auth.tenant_id
      and omnilink.holds_lease(t, v_auth.source, p_worker_id, (e ->> 'attempt')::integer)
      and t.lease_expires_at <= now()
  loop
    perform omnilink.expire_leases(v_auth.tenant_id, v_auth.source, v_expired);
  end loop;

  with input as (
    select (e ->> 'task_id')::uuid as task_id,
           (e ->> 'attempt')::integer as attempt,
           e ->> 'status' as status,
           nullif(e -> 'output', 'null'::jsonb) as output,
           coalesce((e ->> 'output_truncated')::boolean, false) as output_truncated,
           e ->> 'error' as error,
           coalesce((e ->> 'retryable')::boolean, true) as retryable,
           x.ord
    from jsonb_array_elements(p_completions) with ordinality as x(e, ord)
  ),
  done as (
    update public.tasks t
    set status = case
          when i.status = 'succeeded' then 'succeeded'
          when i.retryable and t.attempts < t.max_attempts then 'queued'
          else 'failed'
        end,
        -- Backoff before the next attempt: 1 s, 2 s, 4 s, … capped at 60 s.
        run_at = case
          when i.status = 'failed' and i.retryable and t.attempts < t.max_attempts
            then now() + make_interval(secs => least(60, power(2, t.attempts - 1)))
          else t.run_at
        end,
        finished_at = case
          when i.status = 'succeeded' or not i.retryable or t.attempts >= t.max_attempts then now()
        end,
        output = i.output,
        output_truncated = i.output_truncated,
        error = case when i.status = 'succeeded' then null else i.error end,
        lease_expires_at = null,
        updated_at = now()
    from input i
    where t.id = i.task_id and t.tenant_id = v_auth.tenant_id
      and omnilink.holds_lease(t, v_auth.source, p_worker_id, i.attempt)
    returning t.id, t.status
  ),
  finished_attempts as (
    update public.task_attempts a
    set finished_at = now(), outcome = i.status,
        error = case when i.status = 'failed' then i.error end
    from done d
    join input i on i.task_id = d.id
    where a.task_id = d.id and a.finished_at is null
  )
  select jsonb_build_object('results', jsonb_agg(
    case
      when d.id is not null then
        jsonb_build_object('task_id', i.task_id, 'outcome', 'completed', 'status', d.status)
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
  from input i
  left join done d on d.id = i.task_id
  left join public.tasks t on t.id = i.task_id and t.tenant_id = v_auth.tenant_id
  left join lateral (
    select a.worker_id, a.outcome, a.attempt from public.task_attempts a
    where a.task_id = t.id
    order by a.started_at desc, a.id desc
    limit 1
  ) last on d.id is null
  into v_results;
  return v_results;
end
$$;
comment on function omnilink.port_complete_tasks(text, text, text, jsonb) is
  'POST /tasks/complete: up to 100 completions by one worker, each by the rule of port_complete_task; {results: [{task_id, outcome: completed, status} | {task_id, error, message, status?}]} in request order.';

revoke execute on function omnilink.port_complete_tasks(text, text, text, jsonb) from public;
grant execute on function omnilink.port_complete_tasks(text, text, text, jsonb) to service_role;
