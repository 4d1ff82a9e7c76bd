-- Tasks (Postgres is the queue), their attempt history, the workers that
-- claim them, the port's task functions and the dashboard's task RPCs.
--
-- Status flow: queued → running → succeeded | failed (failed retryable goes
-- back to queued with backoff); waiting_approval → approved → running → …;
-- any non-final status → canceled. A running task whose lease expires goes
-- back to queued, or ends failed when its attempts are used up. A task whose
-- dependency ends failed or canceled ends canceled with dependency_failed.

create table public.tasks (
  id uuid primary key default omnilink.uuid_v7(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  target text not null
    constraint tasks_target_format check (target ~ '^[a-z0-9_.:-]{1,100}$'),
  action text not null
    constraint tasks_action_format check (action ~ '^[a-z0-9_.:-]{1,100}$'),
  params jsonb not null default '{"payload": {}}'::jsonb
    constraint tasks_params_payload_object check (jsonb_typeof(params -> 'payload') = 'object'),
  status text not null default 'queued'
    constraint tasks_status_check check (
      status in ('queued', 'waiting_approval', 'approved', 'running', 'succeeded', 'failed', 'canceled')
    ),
  priority smallint not null default 5
    constraint tasks_priority_range check (priority between 1 and 10),
  run_at timestamptz,
  require_approval boolean not null default false,
  attempts integer not null default 0
    constraint tasks_attempts_nonnegative check (attempts >= 0),
  max_attempts integer not null default 3
    constraint tasks_max_attempts_range check (max_attempts between 1 and 20),
  claimed_by text,
  lease_expires_at timestamptz,
  lease_seconds integer,
  output jsonb,
  output_truncated boolean not null default false,
  error text,
  progress jsonb,
  depends_on uuid[] not null default '{}',
  has_dependents boolean not null default false,
  idempotency_key text
    constraint tasks_idempotency_key_length check (char_length(idempotency_key) between 1 and 200),
  created_by uuid references auth.users (id) on delete set null,
  created_by_integration_id uuid references public.integrations (id) on delete set null,
  approved_by uuid references auth.users (id) on delete set null,
  approved_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tasks_tenant_idempotency_key unique (tenant_id, idempotency_key)
);
alter table public.tasks enable row level security;
-- Claim order within a target, matching the claim's ORDER BY exactly so a
-- claim reads only the rows it takes. Partial, so finished tasks leave it.
create index tasks_ready_idx on public.tasks (tenant_id, target, priority desc, created_at, id)
  where status in ('queued', 'approved');
create index tasks_running_lease_idx on public.tasks (tenant_id, target, lease_expires_at)
  where status = 'running';
create index tasks_tenant_created_idx on public.tasks (tenant_id, created_at desc);
-- Finding a task's dependents when it finishes.
create index tasks_depends_on_idx on public.tasks using gin (depends_on);
comment on table public.tasks is
  'Work for agents. Workers of the integration whose source equals target claim it through the port (FOR UPDATE SKIP LOCKED).';
comment on column public.tasks.params is 'The task''s input, {"payload": {...}} as the port contract shows it.';
comment on column public.tasks.depends_on is 'Tasks of the same tenant that must succeed before this one is claimed.';
comment on column public.tasks.has_dependents is 'Some task depends on this one; lets a finishing task skip the dependents lookup when none does.';
comment on column public.tasks.lease_seconds is 'Lease length of the current claim; a heartbeat without lease_seconds extends by this.';
comment on column public.tasks.output is 'The result; {"truncated": true, "preview": ...} when it was over 16 KiB (output_truncated).';

create table public.task_attempts (
  id uuid primary key default omnilink.uuid_v7(),
  task_id uuid not null references public.tasks (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  attempt integer not null,
  worker_id text not null,
  integration_id uuid references public.integrations (id) on delete set null,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  outcome text
    constraint task_attempts_outcome_check check (outcome in ('succeeded', 'failed', 'lease_expired', 'canceled')),
  error text
);
alter table public.task_attempts enable row level security;
create index task_attempts_task_started_idx on public.task_attempts (task_id, started_at desc);
comment on table public.task_attempts is
  'One row per claim of a task: which worker ran it, when, and how it ended. An operator''s retry starts the task''s attempt count again, so attempt numbers can repeat; started_at orders them.';

create table public.workers (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null,
  integration_id uuid not null,
  source text not null,
  worker_id text not null,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  last_claim_at timestamptz,
  constraint workers_integration_worker_key unique (integration_id, worker_id),
  constraint workers_integration_fkey foreign key (integration_id, tenant_id)
    references public.integrations (id, tenant_id) on delete cascade
);
alter table public.workers enable row level security;
create index workers_tenant_last_seen_idx on public.workers (tenant_id, last_seen_at desc);
comment on table public.workers is
  'Agent worker processes, as seen by the port on claims and heartbeats (updated at most every 5 seconds each).';

revoke all on table public.tasks, public.task_attempts, public.workers from anon, authenticated;
grant select on table public.tasks, public.task_attempts, public.workers to authenticated;

create policy tasks_select_members on public.tasks
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

create policy task_attempts_select_members on public.task_attempts
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

create policy workers_select_members on public.workers
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

alter publication supabase_realtime add table public.tasks, public.workers;

-- Shared pieces -----------------------------------------------------------

-- The contract's Task object.
create function omnilink.task_json(t public.tasks) returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'id', t.id,
    'target', t.target,
    'action', t.action,
    'params', t.params,
    'status', t.status,
    'priority', t.priority,
    'run_at', t.run_at,
    'require_approval', t.require_approval,
    'attempts', t.attempts,
    'max_attempts', t.max_attempts,
    'claimed_by', t.claimed_by,
    'lease_expires_at', t.lease_expires_at,
    'output', t.output,
    'output_truncated', t.output_truncated,
    'error', t.error,
    'depends_on', to_jsonb(t.depends_on),
    'progress', t.progress,
    'created_at', t.created_at,
    'updated_at', t.updated_at
  )
$$;

create function omnilink.lease_lost(p_status text) returns jsonb
language sql immutable
as $$
  select jsonb_build_object(
    'error', 'lease_lost',
    'message', format('This worker no longer holds the lease on this task; the task is %s.', p_status),
    'status', p_status
  )
$$;

create function omnilink.task_not_found() returns jsonb
language sql immutable
as $$
  select jsonb_build_object('error', 'not_found', 'message', 'No task with this id in your tenant.')
$$;

-- Wakes long-polling claims (LISTEN omnilink_task_ready, payload
-- "<tenant_id> <target>") and keeps dependency chains consistent.
create function omnilink.on_task_status_change() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.status in ('queued', 'approved') then
    perform pg_notify('omnilink_task_ready', new.tenant_id::text || ' ' || new.target);
  elsif not new.has_dependents then
    return null;
  elsif new.status = 'succeeded' then
    -- Dependents may have become claimable.
    perform pg_notify('omnilink_task_ready', new.tenant_id::text || ' ' || d.target)
    from (
      select distinct t.target from public.tasks t
      where t.tenant_id = new.tenant_id and t.depends_on @> array[new.id]
        and t.status in ('queued', 'approved')
    ) d;
  elsif new.status in ('failed', 'canceled') then
    -- Fires this trigger again for each dependent, so the cancel is transitive.
    update public.tasks t
    set status = 'canceled', error = 'dependency_failed', lease_expires_at = null,
        finished_at = now(), updated_at = now()
    where t.tenant_id = new.tenant_id and t.depends_on @> array[new.id]
      and t.status in ('queued', 'waiting_approval', 'approved');
  end if;
  return null;
end
$$;

create trigger tasks_after_insert
after insert on public.tasks
for each row when (new.status in ('queued', 'approved'))
execute function omnilink.on_task_status_change();

create trigger tasks_after_status_change
after update of status on public.tasks
for each row when (old.status is distinct from new.status)
execute function omnilink.on_task_status_change();

-- Creates a task from a validated spec (the port's CreateTaskRequestBody, or
-- the dashboard RPC's arguments). Returns {status: created|duplicate, task}
-- or {error: invalid_request, message, issues}.
create function omnilink.insert_task(
  p_tenant_id uuid,
  p_spec jsonb,
  p_created_by uuid default null,
  p_created_by_integration_id uuid default null
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_key text := p_spec ->> 'idempotency_key';
  v_depends_on uuid[] := array(
    select distinct d::uuid from jsonb_array_elements_text(coalesce(p_spec -> 'depends_on', '[]'::jsonb)) d
  );
  v_found uuid[];
  v_dependency_ended boolean := false;
  v_status text;
  v_task public.tasks;
begin
  if v_key is not null then
    select * into v_task from public.tasks t where t.tenant_id = p_tenant_id and t.idempotency_key = v_key;
    if found then
      return jsonb_build_object('status', 'duplicate', 'task', omnilink.task_json(v_task));
    end if;
  end if;

  if cardinality(v_depends_on) > 0 then
    select coalesce(array_agg(t.id), '{}') into v_found
    from public.tasks t
    where t.tenant_id = p_tenant_id and t.id = any (v_depends_on);
    if cardinality(v_found) < cardinality(v_depends_on) then
      return jsonb_build_object(
        'error', 'invalid_request',
        'message', 'depends_on lists tasks that do not exist in your tenant.',
        'issues', (
          select jsonb_agg(jsonb_build_object('path', 'depends_on.' || (x.ord - 1), 'message', 'no task with this id in your tenant') order by x.ord)
          from jsonb_array_elements_text(p_spec -> 'depends_on') with ordinality as x(id, ord)
          where x.id::uuid <> all (v_found)
        )
      );
    end if;
    -- Marking the dependencies locks them: a dependency finishing right now
    -- is waited for (and its final status read), and one finishing later
    -- sees has_dependents, so its cascade can never miss this task.
    with marked as (
      update public.tasks t set has_dependents = true
      where t.tenant_id = p_tenant_id and t.id = any (v_depends_on)
      returning t.status
    )
    select coalesce(bool_or(m.status in ('failed', 'canceled')), false) into v_dependency_ended
    from marked m;
  end if;

  v_status := case
    when v_dependency_ended then 'canceled'
    when coalesce((p_spec ->> 'require_approval')::boolean, false) then 'waiting_approval'
    else 'queued'
  end;

  insert into public.tasks (
    tenant_id, target, action, params, status, priority, run_at, require_approval, max_attempts,
    depends_on, idempotency_key, error, finished_at, created_by, created_by_integration_id
  ) values (
    p_tenant_id,
    p_spec ->> 'target',
    p_spec ->> 'action',
    jsonb_build_object('payload', coalesce(p_spec -> 'payload', '{}'::jsonb)),
    v_status,
    coalesce((p_spec ->> 'priority')::smallint, 5),
    (p_spec ->> 'run_at')::timestamptz,
    coalesce((p_spec ->> 'require_approval')::boolean, false),
    coalesce((p_spec ->> 'max_attempts')::integer, 3),
    v_depends_on,
    v_key,
    case when v_dependency_ended then 'dependency_failed' end,
    case when v_dependency_ended then now() end,
    p_created_by,
    p_created_by_integration_id
  )
  on conflict on constraint tasks_tenant_idempotency_key do nothing
  returning * into v_task;

  if v_task.id is null then
    -- A concurrent request created it first; this statement sees its commit.
    select * into v_task from public.tasks t where t.tenant_id = p_tenant_id and t.idempotency_key = v_key;
    return jsonb_build_object('status', 'duplicate', 'task', omnilink.task_json(v_task));
  end if;
  return jsonb_build_object('status', 'created', 'task', omnilink.task_json(v_task));
end
$$;

-- Ends expired leases of one target (or one task): back to queued, or failed
-- when the attempts are used up. Runs inside claims, heartbeats and
-- completions so correctness never depends on a background sweeper.
create function omnilink.expire_leases(p_tenant_id uuid, p_target text, p_task_id uuid default null)
returns integer
language plpgsql security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  with expired as (
    select t.id from public.tasks t
    where t.tenant_id = p_tenant_id and t.target = p_target and t.status = 'running'
      and t.lease_expires_at <= now() and (p_task_id is null or t.id = p_task_id)
    for update skip locked
  ),
  ended as (
    update public.tasks t
    set status = case when t.attempts >= t.max_attempts then 'failed' else 'queued' end,
        error = case when t.attempts >= t.max_attempts then 'lease_expired' else t.error end,
        finished_at = case when t.attempts >= t.max_attempts then now() end,
        lease_expires_at = null,
        updated_at = now()
    from expired
    where t.id = expired.id
    returning t.id
  )
  update public.task_attempts a
  set finished_at = now(), outcome = 'lease_expired',
      error = 'The lease expired before the worker completed the task.'
  from ended e
  where a.task_id = e.id and a.finished_at is null;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- Records that a worker is alive; at most one write per worker every 5 s.
create function omnilink.touch_worker(
  p_tenant_id uuid, p_integration_id uuid, p_source text, p_worker_id text, p_claimed boolean
) returns void
language sql security definer
set search_path = ''
as $$
  insert into public.workers as w (tenant_id, integration_id, source, worker_id, last_seen_at, last_claim_at)
  values (p_tenant_id, p_integration_id, p_source, p_worker_id, now(), case when p_claimed then now() end)
  on conflict on constraint workers_integration_worker_key do update
    set last_seen_at = now(),
        last_claim_at = case when p_claimed then now() else w.last_claim_at end
    where w.last_seen_at < now() - interval '5 seconds'
       or (p_claimed and (w.last_claim_at is null or w.last_claim_at < now() - interval '5 seconds'))
$$;

-- Whether the caller holds the task's current lease (expiry is checked
-- separately). The attempt number is optional in requests; when given it
-- must be the current one, so a delayed message about an earlier attempt
-- by the same worker cannot act on a later attempt.
create function omnilink.holds_lease(p_task public.tasks, p_source text, p_worker_id text, p_attempt integer)
returns boolean
language sql immutable
as $$
  select p_task.status = 'running'
     and p_task.claimed_by is not distinct from p_worker_id
     and p_task.target = p_source
     and (p_attempt is null or p_task.attempts = p_attempt)
$$;

-- Port functions ----------------------------------------------------------

create function omnilink.port_create_task(p_key_id text, p_secret_sha256 text, p_spec jsonb)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
begin
  select * into v_auth from omnilink.authorize(p_key_id, p_secret_sha256, array['tasks:create']);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;
  return omnilink.insert_task(v_auth.tenant_id, p_spec, null, v_auth.integration_id);
end
$$;

-- POST /tasks/claim, one round of it. Returns {tasks, tenant_id, source,
-- next_check_at}: the last three let the port's long poll know which
-- notifications concern it and when a delayed task becomes due.
-- p_first_poll = false for the repeats inside one long poll: they re-check
-- the key but do not spend its rate limit again.
create function omnilink.port_claim_tasks(
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

  with ready as (
    select t.id from public.tasks t
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
    order by t.priority desc, t.created_at, t.id
    limit p_max_tasks
    for update of t skip locked
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

create function omnilink.port_heartbeat(
  p_key_id text,
  p_secret_sha256 text,
  p_task_id uuid,
  p_worker_id text,
  p_attempt integer,
  p_lease_seconds integer,
  p_progress jsonb
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
  v_task public.tasks;
begin
  select * into v_auth from omnilink.authorize(p_key_id, p_secret_sha256, array['tasks:claim']);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;

  select * into v_task from public.tasks t
  where t.id = p_task_id and t.tenant_id = v_auth.tenant_id
  for update;
  if not found then
    return omnilink.task_not_found();
  end if;
  if not omnilink.holds_lease(v_task, v_auth.source, p_worker_id, p_attempt) then
    return omnilink.lease_lost(v_task.status);
  end if;
  if v_task.lease_expires_at <= now() then
    perform omnilink.expire_leases(v_auth.tenant_id, v_auth.source, v_task.id);
    return omnilink.lease_lost((select t.status from public.tasks t where t.id = v_task.id));
  end if;

  update public.tasks t
  set lease_seconds = coalesce(p_lease_seconds, t.lease_seconds),
      lease_expires_at = now() + make_interval(secs => coalesce(p_lease_seconds, t.lease_seconds, 300)),
      progress = coalesce(p_progress, t.progress),
      updated_at = now()
  where t.id = v_task.id
  returning * into v_task;

  perform omnilink.touch_worker(v_auth.tenant_id, v_auth.integration_id, v_auth.source, p_worker_id, false);
  return jsonb_build_object('lease_expires_at', v_task.lease_expires_at);
end
$$;

-- POST /tasks/{id}/complete. p_output arrives already cut to 16 KiB by the
-- port (p_output_truncated says whether it was).
create function omnilink.port_complete_task(
  p_key_id text,
  p_secret_sha256 text,
  p_task_id uuid,
  p_worker_id text,
  p_attempt integer,
  p_status text,
  p_output jsonb,
  p_output_truncated boolean,
  p_error text,
  p_retryable boolean
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
  v_task public.tasks;
  v_last_attempt public.task_attempts;
begin
  select * into v_auth from omnilink.authorize(p_key_id, p_secret_sha256, array['tasks:complete']);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;

  select * into v_task from public.tasks t
  where t.id = p_task_id and t.tenant_id = v_auth.tenant_id
  for update;
  if not found then
    return omnilink.task_not_found();
  end if;

  if omnilink.holds_lease(v_task, v_auth.source, p_worker_id, p_attempt) then
    if v_task.lease_expires_at <= now() then
      perform omnilink.expire_leases(v_auth.tenant_id, v_auth.source, v_task.id);
      return omnilink.lease_lost((select t.status from public.tasks t where t.id = v_task.id));
    end if;

    update public.tasks t
    set status = case
          when p_status = 'succeeded' then 'succeeded'
          when p_retryable and t.attempts < t.max_attempts then 'queued'
          else 'failed'
        end,
        -- Backoff before the next attempt: 1 s, 2 s, 4 s, … capped at 60 s.
        run_at = case
          when p_status = 'failed' and p_retryable and t.attempts < t.max_attempts
            then now() + make_interval(secs => least(60, power(2, t.attempts - 1)))
          else t.run_at
        end,
        finished_at = case
          when p_status = 'succeeded' or not p_retryable or t.attempts >= t.max_attempts then now()
        end,
        output = p_output,
        output_truncated = p_output_truncated,
        error = case when p_status = 'succeeded' then null else p_error end,
        lease_expires_at = null,
        updated_at = now()
    where t.id = v_task.id
    returning * into v_task;

    update public.task_attempts a
    set finished_at = now(), outcome = p_status, error = case when p_status = 'failed' then p_error end
    where a.task_id = v_task.id and a.finished_at is null;

    return jsonb_build_object('task', omnilink.task_json(v_task));
  end if;

  -- The same worker repeating the completion it already made gets the task.
  select * into v_last_attempt from public.task_attempts a
  where a.task_id = v_task.id
  order by a.started_at desc, a.id desc
  limit 1;
  if v_task.target = v_auth.source and v_last_attempt.worker_id = p_worker_id
     and v_last_attempt.outcome = p_status
     and (p_attempt is null or v_last_attempt.attempt = p_attempt) then
    return jsonb_build_object('task', omnilink.task_json(v_task));
  end if;
  return omnilink.lease_lost(v_task.status);
end
$$;

create function omnilink.port_get_task(p_key_id text, p_secret_sha256 text, p_task_id uuid)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
  v_task public.tasks;
begin
  select * into v_auth
  from omnilink.authorize(p_key_id, p_secret_sha256, array['tasks:create', 'tasks:claim', 'tasks:complete']);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;
  select * into v_task from public.tasks t where t.id = p_task_id and t.tenant_id = v_auth.tenant_id;
  if not found then
    return omnilink.task_not_found();
  end if;
  -- Report what the contract says has happened: an expired lease has ended.
  if v_task.status = 'running' and v_task.lease_expires_at <= now() then
    perform omnilink.expire_leases(v_task.tenant_id, v_task.target, v_task.id);
    select * into v_task from public.tasks t where t.id = p_task_id;
  end if;
  return jsonb_build_object('task', omnilink.task_json(v_task));
end
$$;

-- Dashboard RPCs ----------------------------------------------------------

create function public.create_task(
  p_tenant_id uuid,
  p_target text,
  p_action text,
  p_payload jsonb default '{}'::jsonb,
  p_require_approval boolean default false,
  p_priority integer default 5,
  p_run_at timestamptz default null,
  p_max_attempts integer default 3,
  p_depends_on uuid[] default '{}',
  p_idempotency_key text default null
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_problem text;
  v_result jsonb;
begin
  perform omnilink.require_role(p_tenant_id, 'operator');
  v_problem := case
    when p_target is null or p_target !~ '^[a-z0-9_.:-]{1,100}$'
      then 'target must be 1-100 characters of a-z, 0-9, ''_'', ''.'', '':'' or ''-''.'
    when p_action is null or p_action !~ '^[a-z0-9_.:-]{1,100}$'
      then 'action must be 1-100 characters of a-z, 0-9, ''_'', ''.'', '':'' or ''-''.'
    when p_payload is null or jsonb_typeof(p_payload) <> 'object'
      then 'payload must be a JSON object.'
    when octet_length(p_payload::text) > 16384
      then 'payload must be at most 16384 bytes of JSON.'
    when p_priority is null or p_priority not between 1 and 10
      then 'priority must be from 1 to 10.'
    when p_max_attempts is null or p_max_attempts not between 1 and 20
      then 'max_attempts must be from 1 to 20.'
    when p_idempotency_key is not null and char_length(p_idempotency_key) not between 1 and 200
      then 'idempotency_key must be 1-200 characters.'
    when cardinality(p_depends_on) > 100
      then 'depends_on may list at most 100 tasks.'
  end;
  if v_problem is not null then
    raise exception '%', v_problem using errcode = '22023';
  end if;

  v_result := omnilink.insert_task(
    p_tenant_id,
    jsonb_build_object(
      'target', p_target, 'action', p_action, 'payload', p_payload,
      'require_approval', coalesce(p_require_approval, false), 'priority', p_priority,
      'run_at', p_run_at, 'max_attempts', p_max_attempts,
      'depends_on', to_jsonb(coalesce(p_depends_on, '{}')), 'idempotency_key', p_idempotency_key
    ),
    (select auth.uid()),
    null
  );
  if v_result ? 'error' then
    raise exception '%', v_result ->> 'message'
      using errcode = '22023', detail = (v_result -> 'issues')::text;
  end if;
  return v_result;
end
$$;
comment on function public.create_task(uuid, text, text, jsonb, boolean, integer, timestamptz, integer, uuid[], text) is
  'Operators: dispatch a task to a target. Returns {status: created|duplicate, task}.';

-- Locks a task for an operator's state change, after checking the role.
create function omnilink.task_for_update_by(p_task_id uuid, p_min_role text) returns public.tasks
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant_id uuid;
  v_task public.tasks;
begin
  select t.tenant_id into v_tenant_id from public.tasks t where t.id = p_task_id;
  if v_tenant_id is null then
    raise exception 'Not found.' using errcode = 'P0002';
  end if;
  perform omnilink.require_role(v_tenant_id, p_min_role);
  select * into v_task from public.tasks t where t.id = p_task_id for update;
  return v_task;
end
$$;

create function public.approve_task(p_task_id uuid) returns public.tasks
language plpgsql security definer
set search_path = ''
as $$
declare
  v_task public.tasks := omnilink.task_for_update_by(p_task_id, 'operator');
begin
  if v_task.status <> 'waiting_approval' then
    raise exception 'The task is %; only a task waiting for approval can be approved.', v_task.status
      using errcode = 'PT409';
  end if;
  update public.tasks t
  set status = 'approved', approved_by = (select auth.uid()), approved_at = now(), updated_at = now()
  where t.id = p_task_id
  returning * into v_task;
  return v_task;
end
$$;

create function public.reject_task(p_task_id uuid, p_reason text default null) returns public.tasks
language plpgsql security definer
set search_path = ''
as $$
declare
  v_task public.tasks := omnilink.task_for_update_by(p_task_id, 'operator');
begin
  if v_task.status <> 'waiting_approval' then
    raise exception 'The task is %; only a task waiting for approval can be rejected.', v_task.status
      using errcode = 'PT409';
  end if;
  update public.tasks t
  set status = 'canceled', error = 'rejected' || coalesce(': ' || nullif(trim(p_reason), ''), ''),
      finished_at = now(), updated_at = now()
  where t.id = p_task_id
  returning * into v_task;
  return v_task;
end
$$;

create function public.cancel_task(p_task_id uuid, p_reason text default null) returns public.tasks
language plpgsql security definer
set search_path = ''
as $$
declare
  v_task public.tasks := omnilink.task_for_update_by(p_task_id, 'operator');
begin
  if v_task.status in ('succeeded', 'failed', 'canceled') then
    raise exception 'The task already ended (%); only a task that has not ended can be canceled.', v_task.status
      using errcode = 'PT409';
  end if;
  update public.tasks t
  set status = 'canceled', error = 'canceled' || coalesce(': ' || nullif(trim(p_reason), ''), ''),
      lease_expires_at = null, finished_at = now(), updated_at = now()
  where t.id = p_task_id
  returning * into v_task;
  -- A running attempt ends here; its worker learns at its next heartbeat.
  update public.task_attempts a
  set finished_at = now(), outcome = 'canceled', error = v_task.error
  where a.task_id = p_task_id and a.finished_at is null;
  return v_task;
end
$$;

-- Runs a failed task again with a fresh set of attempts (the history keeps
-- the earlier ones).
create function public.retry_task(p_task_id uuid) returns public.tasks
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
  update public.tasks t
  set status = 'queued', attempts = 0, run_at = null, error = null, output = null,
      output_truncated = false, finished_at = null, lease_expires_at = null, updated_at = now()
  where t.id = p_task_id
  returning * into v_task;
  return v_task;
end
$$;

revoke execute on function
  public.create_task(uuid, text, text, jsonb, boolean, integer, timestamptz, integer, uuid[], text),
  public.approve_task(uuid),
  public.reject_task(uuid, text),
  public.cancel_task(uuid, text),
  public.retry_task(uuid)
from public, anon;
grant execute on function
  public.create_task(uuid, text, text, jsonb, boolean, integer, timestamptz, integer, uuid[], text),
  public.approve_task(uuid),
  public.reject_task(uuid, text),
  public.cancel_task(uuid, text),
  public.retry_task(uuid)
to authenticated;

revoke execute on all functions in schema omnilink from public;
grant execute on function
  omnilink.port_create_task(text, text, jsonb),
  omnilink.port_claim_tasks(text, text, text, integer, integer, text[], boolean),
  omnilink.port_heartbeat(text, text, uuid, text, integer, integer, jsonb),
  omnilink.port_complete_task(text, text, uuid, text, integer, text, jsonb, boolean, text, boolean),
  omnilink.port_get_task(text, text, uuid)
to service_role;
