-- Schedules (product note 004's "Scheduled (Cron schedule)" trigger): a
-- cron expression and time zone that create a task of a target and action
-- at each due time.
--
-- Postgres keeps the schedules and decides, under a row lock, which due
-- time has been fired; the due times themselves are computed by the
-- scheduler (packages/scheduler, with the croner library) because a cron
-- expression in a time zone with daylight saving is a library's job, not
-- plpgsql's. The scheduler runs anywhere and any number of times at once:
-- every step it takes is a compare-and-set on the schedule's revision and
-- next_run_at, so two schedulers ticking the same due time create one task.

create table public.task_schedules (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null
    constraint task_schedules_name_length check (char_length(name) between 1 and 100),
  -- Normalised (single spaces) by save_schedule, which also checks the syntax.
  cron text not null
    constraint task_schedules_cron_length check (char_length(cron) between 1 and 200),
  timezone text not null default 'UTC',
  target text not null
    constraint task_schedules_target_format check (target ~ '^[a-z0-9_.:-]{1,100}$'),
  action text not null
    constraint task_schedules_action_format check (action ~ '^[a-z0-9_.:-]{1,100}$'),
  payload jsonb not null default '{}'::jsonb
    constraint task_schedules_payload_object check (jsonb_typeof(payload) = 'object'),
  priority smallint not null default 5
    constraint task_schedules_priority_range check (priority between 1 and 10),
  max_attempts integer not null default 3
    constraint task_schedules_max_attempts_range check (max_attempts between 1 and 20),
  enabled boolean not null default true,
  -- Bumped by every change an operator makes; the scheduler's writes check it,
  -- so a tick that read the schedule before an edit cannot act on the old one.
  revision bigint not null default 1,
  -- The next due time, written by the scheduler; null until it has looked
  -- (the first due time is then the first after revised_at) and while disabled.
  next_run_at timestamptz,
  last_run_at timestamptz,
  last_task_id uuid references public.tasks (id) on delete set null,
  -- Why the scheduler disabled it (an expression that never matches a date,
  -- a time zone it does not know); cleared by the next save.
  last_error text,
  revised_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  created_by uuid references auth.users (id) on delete set null,
  updated_by uuid references auth.users (id) on delete set null,
  constraint task_schedules_tenant_name unique (tenant_id, name)
);
alter table public.task_schedules enable row level security;
comment on table public.task_schedules is
  'Cron schedules: each due time of cron (in timezone) creates one task of target and action. Managed with save_schedule, set_schedule_enabled and delete_schedule; fired by the scheduler.';

-- What a scheduler asks every tick: enabled schedules with no due time yet or one that has come.
create index task_schedules_due_idx on public.task_schedules (next_run_at nulls first)
  where enabled;
create index task_schedules_tenant_idx on public.task_schedules (tenant_id, name);

revoke all on table public.task_schedules from anon, authenticated;
grant select on table public.task_schedules to authenticated;

create policy task_schedules_select_members on public.task_schedules
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

alter publication supabase_realtime add table public.task_schedules;

-- The task fields a schedule shares with create_task, checked once for both.
create function omnilink.task_spec_problem(
  p_target text, p_action text, p_payload jsonb, p_priority integer, p_max_attempts integer
) returns text
language sql immutable
set search_path = ''
as $$
  select case
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
  end
$$;

create or replace function public.create_task(
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
  v_problem := coalesce(
    omnilink.task_spec_problem(p_target, p_action, p_payload, p_priority, p_max_attempts),
    case
      when p_idempotency_key is not null and char_length(p_idempotency_key) not between 1 and 200
        then 'idempotency_key must be 1-200 characters.'
      when cardinality(p_depends_on) > 100
        then 'depends_on may list at most 100 tasks.'
    end
  );
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

-- Standard five-field cron (minute hour day-of-month month day-of-week:
-- numbers, month and day names, *, ranges, steps and lists) or one of the
-- @ shorthands. This is the gate for what a schedule may hold; the
-- scheduler's library (croner) accepts all of it and computes the times,
-- and a test keeps the two in agreement. Returns null when valid.
create function omnilink.cron_problem(p_cron text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  c_fields constant text[] := array['minute', 'hour', 'day of month', 'month', 'day of week'];
  c_low constant integer[] := array[0, 0, 1, 1, 0];
  c_high constant integer[] := array[59, 23, 31, 12, 7];
  -- croner's limit on steps: the number of values the field has.
  c_max_step constant integer[] := array[60, 24, 31, 12, 7];
  c_months constant text[] := array['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
  c_days constant text[] := array['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  v_fields text[];
  v_item text;
  v_token text;
  v_parts text[];
  v_values integer[];
  v_value integer;
  v_step integer;
  v_hint constant text := ' Use five fields (minute hour day-of-month month day-of-week) of numbers, names, *, ranges (a-b), steps (*/n, a-b/n) and lists (a,b), or @hourly, @daily, @weekly, @monthly, @yearly.';
begin
  if p_cron is null or btrim(p_cron) = '' then
    return 'cron must not be empty.' || v_hint;
  end if;
  if lower(p_cron) in ('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly') then
    return null;
  end if;
  v_fields := regexp_split_to_array(btrim(p_cron), '\s+');
  if cardinality(v_fields) <> 5 then
    return format('cron must have 5 fields, not %s.', cardinality(v_fields)) || v_hint;
  end if;
  for f in 1..5 loop
    foreach v_item in array string_to_array(v_fields[f], ',') loop
      -- a, a-b, *, each optionally /n; names only for month and day of week.
      v_parts := regexp_match(lower(v_item), '^(\*|[0-9]{1,2}|[a-z]{3})(?:-([0-9]{1,2}|[a-z]{3}))?(?:/([0-9]{1,3}))?$');
      if v_parts is null or (v_parts[1] = '*' and v_parts[2] is not null)
        or (v_parts[3] is not null and v_parts[1] <> '*' and v_parts[2] is null) then
        return format('cron''s %s field has "%s", which is not a value, range or step.', c_fields[f], v_item) || v_hint;
      end if;
      v_values := '{}';
      foreach v_token in array array_remove(array[v_parts[1], v_parts[2]], null) loop
        continue when v_token = '*';
        if v_token ~ '^[0-9]+$' then
          v_value := v_token::integer;
        elsif f = 4 and v_token = any (c_months) then
          v_value := array_position(c_months, v_token);
        elsif f = 5 and v_token = any (c_days) then
          v_value := array_position(c_days, v_token) - 1;
        else
          return format('cron''s %s field has "%s", which is not a %s.', c_fields[f], v_token,
            case f when 4 then 'month (1-12 or jan-dec)' when 5 then 'day of week (0-7 or sun-sat)' else 'number' end) || v_hint;
        end if;
        if v_value not between c_low[f] and c_high[f] then
          return format('cron''s %s field must be from %s to %s, not %s.', c_fields[f], c_low[f], c_high[f], v_value);
        end if;
        v_values := v_values || v_value;
      end loop;
      if cardinality(v_values) = 2 and v_values[1] > v_values[2] then
        return format('cron''s %s field has the range %s, which runs backwards.', c_fields[f], v_fields[f]);
      end if;
      if v_parts[3] is not null then
        v_step := v_parts[3]::integer;
        if v_step not between 1 and c_max_step[f] then
          return format('cron''s %s field steps by %s; a step must be from 1 to %s.', c_fields[f], v_step, c_max_step[f]);
        end if;
      end if;
    end loop;
  end loop;
  return null;
end
$$;

-- Creates (p_schedule_id null) or changes a schedule. A change of cron, time
-- zone or enabled starts its timing afresh (next_run_at null: the scheduler
-- takes the first due time after now); other changes keep the next due time.
create function public.save_schedule(
  p_tenant_id uuid,
  p_schedule_id uuid,
  p_name text,
  p_cron text,
  p_timezone text,
  p_target text,
  p_action text,
  p_payload jsonb default '{}'::jsonb,
  p_priority integer default 5,
  p_max_attempts integer default 3,
  p_enabled boolean default true
) returns public.task_schedules
language plpgsql security definer
set search_path = ''
as $$
declare
  v_cron text := regexp_replace(btrim(coalesce(p_cron, '')), '\s+', ' ', 'g');
  v_name text := btrim(coalesce(p_name, ''));
  v_problem text;
  v_row public.task_schedules;
begin
  perform omnilink.require_role(p_tenant_id, 'operator');
  v_problem := coalesce(
    case
      when char_length(v_name) not between 1 and 100 then 'name must be 1-100 characters.'
      when p_enabled is null then 'enabled must be true or false.'
      when p_timezone is null
        or not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = p_timezone)
        then format('timezone must be an IANA time zone name such as UTC or Europe/London, not %s.',
          coalesce('"' || p_timezone || '"', 'null'))
    end,
    omnilink.cron_problem(v_cron),
    omnilink.task_spec_problem(p_target, p_action, p_payload, p_priority, p_max_attempts)
  );
  if v_problem is not null then
    raise exception '%', v_problem using errcode = '22023';
  end if;
  if exists (
    select 1 from public.task_schedules s
    where s.tenant_id = p_tenant_id and s.name = v_name and s.id is distinct from p_schedule_id
  ) then
    raise exception 'A schedule named "%" already exists; choose another name.', v_name
      using errcode = '22023';
  end if;

  if p_schedule_id is null then
    insert into public.task_schedules (
      tenant_id, name, cron, timezone, target, action, payload, priority, max_attempts, enabled,
      created_by, updated_by
    ) values (
      p_tenant_id, v_name, v_cron, p_timezone, p_target, p_action, p_payload, p_priority,
      p_max_attempts, p_enabled, (select auth.uid()), (select auth.uid())
    )
    returning * into v_row;
    return v_row;
  end if;

  update public.task_schedules s
  set name = v_name, cron = v_cron, timezone = p_timezone, target = p_target, action = p_action,
      payload = p_payload, priority = p_priority, max_attempts = p_max_attempts, enabled = p_enabled,
      next_run_at = case
        when s.cron = v_cron and s.timezone = p_timezone and s.enabled = p_enabled then s.next_run_at
      end,
      last_error = null, revision = s.revision + 1, revised_at = now(), updated_by = (select auth.uid())
  where s.id = p_schedule_id and s.tenant_id = p_tenant_id
  returning * into v_row;
  if v_row.id is null then
    raise exception 'Not found.' using errcode = 'PT404';
  end if;
  return v_row;
end
$$;
comment on function public.save_schedule(uuid, uuid, text, text, text, text, text, jsonb, integer, integer, boolean) is
  'Operators: create (p_schedule_id null) or change a schedule. Changing cron, timezone or enabled restarts its timing from now.';

-- Locks a schedule for an operator's change, after checking the role.
create function omnilink.schedule_for_update_by(p_schedule_id uuid, p_min_role text)
returns public.task_schedules
language plpgsql security definer
set search_path = ''
as $$
declare
  v_row public.task_schedules;
begin
  perform omnilink.require_role(
    (select s.tenant_id from public.task_schedules s where s.id = p_schedule_id), p_min_role
  );
  select * into v_row from public.task_schedules s where s.id = p_schedule_id for update;
  return v_row;
end
$$;

create function public.set_schedule_enabled(p_schedule_id uuid, p_enabled boolean)
returns public.task_schedules
language plpgsql security definer
set search_path = ''
as $$
declare
  v_row public.task_schedules := omnilink.schedule_for_update_by(p_schedule_id, 'operator');
begin
  if p_enabled is null then
    raise exception 'enabled must be true or false.' using errcode = '22023';
  end if;
  if v_row.enabled = p_enabled then
    return v_row;
  end if;
  update public.task_schedules s
  set enabled = p_enabled, next_run_at = null, last_error = null, revision = s.revision + 1,
      revised_at = now(), updated_by = (select auth.uid())
  where s.id = p_schedule_id
  returning * into v_row;
  return v_row;
end
$$;
comment on function public.set_schedule_enabled(uuid, boolean) is
  'Operators: turn a schedule on (its first due time is the first after now) or off.';

create function public.delete_schedule(p_schedule_id uuid) returns public.task_schedules
language plpgsql security definer
set search_path = ''
as $$
declare
  v_row public.task_schedules := omnilink.schedule_for_update_by(p_schedule_id, 'operator');
begin
  delete from public.task_schedules s where s.id = p_schedule_id;
  return v_row;
end
$$;
comment on function public.delete_schedule(uuid) is
  'Operators: delete a schedule. Tasks it already created stay.';

-- The scheduler's side (service_role). Each function is one compare-and-set:
-- it acts only if the schedule is still at the revision and next_run_at the
-- caller read, under the row lock, so concurrent schedulers cannot both act.

-- Enabled schedules that have no due time yet or whose due time has come.
create function omnilink.due_schedules(p_now timestamptz, p_limit integer)
returns table (
  id uuid, revision bigint, cron text, timezone text, next_run_at timestamptz, revised_at timestamptz
)
language sql stable security definer
set search_path = ''
as $$
  select s.id, s.revision, s.cron, s.timezone, s.next_run_at, s.revised_at
  from public.task_schedules s
  where s.enabled and (s.next_run_at is null or s.next_run_at <= p_now)
  order by s.next_run_at nulls first
  limit p_limit
$$;

-- Creates the task of one due time and moves the schedule on to p_next_run_at
-- (null: there is none, so the schedule is disabled with a reason). Returns
-- the task's id, or null when the schedule changed or another scheduler fired
-- this due time first. The task's idempotency key names the due time too, so
-- the same due time can never make a second task.
create function omnilink.fire_schedule(
  p_schedule_id uuid,
  p_revision bigint,
  p_seen_next_run_at timestamptz,
  p_due_at timestamptz,
  p_next_run_at timestamptz
) returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_row public.task_schedules;
  v_result jsonb;
  v_task_id uuid;
begin
  select * into v_row from public.task_schedules s where s.id = p_schedule_id for update;
  -- Compared to the millisecond: the caller's clock (JavaScript's) has no finer grain.
  if not found or not v_row.enabled or v_row.revision <> p_revision
    or date_trunc('milliseconds', v_row.next_run_at) is distinct from p_seen_next_run_at then
    return null;
  end if;
  v_result := omnilink.insert_task(
    v_row.tenant_id,
    jsonb_build_object(
      'target', v_row.target, 'action', v_row.action, 'payload', v_row.payload,
      'priority', v_row.priority, 'max_attempts', v_row.max_attempts,
      'idempotency_key', format('schedule:%s:%s', v_row.id,
        to_char(p_due_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
    ),
    null,
    null
  );
  v_task_id := (v_result -> 'task' ->> 'id')::uuid;
  update public.task_schedules s
  set next_run_at = p_next_run_at, last_run_at = p_due_at, last_task_id = v_task_id,
      enabled = p_next_run_at is not null,
      last_error = case when p_next_run_at is null then 'The expression has no further due time.' end
  where s.id = p_schedule_id;
  return v_task_id;
end
$$;

-- Records the first due time of a schedule the scheduler has not timed yet,
-- or (p_error) turns it off with the reason it cannot be timed.
create function omnilink.time_schedule(
  p_schedule_id uuid, p_revision bigint, p_next_run_at timestamptz, p_error text
) returns boolean
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.task_schedules s
  set next_run_at = case when p_error is null then p_next_run_at end,
      enabled = p_error is null,
      last_error = p_error
  where s.id = p_schedule_id and s.revision = p_revision and s.enabled and s.next_run_at is null;
  return found;
end
$$;

revoke execute on function
  public.save_schedule(uuid, uuid, text, text, text, text, text, jsonb, integer, integer, boolean),
  public.set_schedule_enabled(uuid, boolean),
  public.delete_schedule(uuid)
from public, anon;
grant execute on function
  public.save_schedule(uuid, uuid, text, text, text, text, text, jsonb, integer, integer, boolean),
  public.set_schedule_enabled(uuid, boolean),
  public.delete_schedule(uuid)
to authenticated;

revoke execute on function
  omnilink.task_spec_problem(text, text, jsonb, integer, integer),
  omnilink.cron_problem(text),
  omnilink.schedule_for_update_by(uuid, text),
  omnilink.due_schedules(timestamptz, integer),
  omnilink.fire_schedule(uuid, bigint, timestamptz, timestamptz, timestamptz),
  omnilink.time_schedule(uuid, bigint, timestamptz, text)
from public;
grant execute on function
  omnilink.due_schedules(timestamptz, integer),
  omnilink.fire_schedule(uuid, bigint, timestamptz, timestamptz, timestamptz),
  omnilink.time_schedule(uuid, bigint, timestamptz, text)
to service_role;
