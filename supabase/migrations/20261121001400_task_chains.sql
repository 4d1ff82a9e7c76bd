-- Task chains (product note 004's Discovery → Enrichment → Scoring): a
-- read of the chain a task belongs to, and the creation of a whole chain in
-- one step.
--
-- A chain is what depends_on links. Cycles cannot form: insert_task accepts
-- only ids of tasks that already exist, a task's own id does not exist
-- before its insert, and nothing updates depends_on afterwards (members
-- have no UPDATE on tasks; no function writes the column). So a task's
-- upstream and downstream are disjoint and both recursions below end.

-- Every task upstream of p_task_id (what it waits for, transitively) and
-- downstream (what waits for it, transitively), and the task itself. At
-- most 200 upstream and 200 downstream, the nearest first: the recursions
-- are read lazily, breadth first, so the limit also bounds the work.
-- security invoker: tasks' RLS decides what is seen, so a non-member, or a
-- task id of another tenant, gets no rows, exactly like an id that names
-- no task.
create function public.task_chain(p_tenant_id uuid, p_task_id uuid)
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
language sql stable security invoker
set search_path = ''
as $$
  with recursive
  root as (
    select t.id, t.depends_on from public.tasks t
    where t.tenant_id = p_tenant_id and t.id = p_task_id
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
comment on function public.task_chain(uuid, uuid) is
  'Members (viewer and up): the task (relation task), every task it depends on transitively (upstream) and every task depending on it transitively (downstream), at most 200 of each, the nearest first. No rows when the task is not the caller''s to read.';
revoke execute on function public.task_chain(uuid, uuid) from public, anon;
grant execute on function public.task_chain(uuid, uuid) to authenticated;

-- The chain's step count, and the fields a step may have.
create function omnilink.chain_step_problem(p_step jsonb) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v_unknown text;
  v_number numeric;
  v_field text;
begin
  if jsonb_typeof(p_step) is distinct from 'object' then
    return 'must be a JSON object with target, action and optionally payload, priority and max_attempts.';
  end if;
  select k into v_unknown
  from jsonb_object_keys(p_step) k
  where k not in ('target', 'action', 'payload', 'priority', 'max_attempts')
  order by k
  limit 1;
  if v_unknown = 'depends_on' then
    return 'depends_on is not a step field: each step depends on the step before it.';
  elsif v_unknown is not null then
    return format('%s is not a step field; a step has target, action, payload, priority and max_attempts.', v_unknown);
  end if;
  -- A number would pass the text checks as its digits ("5"): say what is wrong with it.
  foreach v_field in array array['target', 'action'] loop
    if p_step ? v_field and jsonb_typeof(p_step -> v_field) <> 'string' then
      return format('%s must be a string.', v_field);
    end if;
  end loop;
  foreach v_field in array array['priority', 'max_attempts'] loop
    if p_step ? v_field then
      if jsonb_typeof(p_step -> v_field) <> 'number' then
        return format('%s must be a whole number.', v_field);
      end if;
      v_number := (p_step ->> v_field)::numeric;
      if v_number <> trunc(v_number) then
        return format('%s must be a whole number.', v_field);
      end if;
    end if;
  end loop;
  return null;
end
$$;

-- Operators: creates the steps as tasks, each depending on the one before,
-- all or none. Each step is checked as create_task checks a task
-- (omnilink.task_spec_problem); a problem raises 22023 naming the step and
-- creates nothing. With p_idempotency_key, step n gets the key
-- "<p_idempotency_key>:<n>", and a repeat returns the chain it created
-- (status duplicate). Returns {status: created|duplicate, tasks: [Task, …]}
-- in step order.
create function public.create_task_chain(
  p_tenant_id uuid,
  p_steps jsonb,
  p_idempotency_key text default null
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_count integer;
  v_step jsonb;
  v_index integer;
  v_problem text;
  v_priority integer;
  v_max_attempts integer;
  v_result jsonb;
  v_previous uuid;
  v_tasks jsonb := '[]'::jsonb;
  v_statuses text[] := '{}';
begin
  perform omnilink.require_role(p_tenant_id, 'operator');
  if p_steps is null or jsonb_typeof(p_steps) <> 'array' then
    raise exception 'steps must be a JSON array of 2 to 20 steps.' using errcode = '22023';
  end if;
  v_count := jsonb_array_length(p_steps);
  if v_count not between 2 and 20 then
    raise exception 'steps must list 2 to 20 steps; it lists %.', v_count using errcode = '22023';
  end if;
  if p_idempotency_key is not null and char_length(p_idempotency_key) not between 1 and 190 then
    raise exception 'idempotency_key must be 1-190 characters (each step adds ":<n>").'
      using errcode = '22023';
  end if;

  -- Every step is checked before any is created.
  for v_step, v_index in select s.value, s.ord from jsonb_array_elements(p_steps) with ordinality s(value, ord) loop
    v_problem := omnilink.chain_step_problem(v_step);
    if v_problem is null then
      -- Out-of-range whole numbers become 0, which task_spec_problem names.
      v_priority := case when (v_step ->> 'priority')::numeric between 1 and 10
        then (v_step ->> 'priority')::integer when v_step ? 'priority' then 0 else 5 end;
      v_max_attempts := case when (v_step ->> 'max_attempts')::numeric between 1 and 20
        then (v_step ->> 'max_attempts')::integer when v_step ? 'max_attempts' then 0 else 3 end;
      v_problem := omnilink.task_spec_problem(
        v_step ->> 'target', v_step ->> 'action', coalesce(v_step -> 'payload', '{}'::jsonb),
        v_priority, v_max_attempts
      );
    end if;
    if v_problem is not null then
      raise exception 'Step % of %: %', v_index, v_count, v_problem using errcode = '22023';
    end if;
  end loop;

  for v_step, v_index in select s.value, s.ord from jsonb_array_elements(p_steps) with ordinality s(value, ord) loop
    v_result := omnilink.insert_task(
      p_tenant_id,
      jsonb_build_object(
        'target', v_step ->> 'target',
        'action', v_step ->> 'action',
        'payload', coalesce(v_step -> 'payload', '{}'::jsonb),
        -- Checked above: whole numbers in range, possibly written as 5.0.
        'priority', coalesce((v_step ->> 'priority')::numeric::integer, 5),
        'max_attempts', coalesce((v_step ->> 'max_attempts')::numeric::integer, 3),
        'depends_on', case when v_previous is null then '[]'::jsonb else jsonb_build_array(v_previous) end,
        'idempotency_key', p_idempotency_key || ':' || v_index
      ),
      (select auth.uid()),
      null
    );
    if v_result ? 'error' then
      raise exception 'Step % of %: %', v_index, v_count, v_result ->> 'message'
        using errcode = '22023', detail = (v_result -> 'issues')::text;
    end if;
    v_previous := (v_result -> 'task' ->> 'id')::uuid;
    v_tasks := v_tasks || jsonb_build_array(v_result -> 'task');
    v_statuses := v_statuses || (v_result ->> 'status');
  end loop;

  -- A repeat finds every step; finding only some means the key named other tasks.
  if 'duplicate' = any (v_statuses) and 'created' = any (v_statuses) then
    raise exception 'idempotency_key was already used for other tasks; use a new key for a new chain.'
      using errcode = '22023';
  end if;
  return jsonb_build_object('status', v_statuses[1], 'tasks', v_tasks);
end
$$;
comment on function public.create_task_chain(uuid, jsonb, text) is
  'Operators: create 2-20 tasks at once, each depending on the one before (steps: [{target, action, payload?, priority?, max_attempts?}]). All or none. Returns {status: created|duplicate, tasks}.';
revoke execute on function public.create_task_chain(uuid, jsonb, text) from public, anon;
grant execute on function public.create_task_chain(uuid, jsonb, text) to authenticated;
revoke execute on function omnilink.chain_step_problem(jsonb) from public;
