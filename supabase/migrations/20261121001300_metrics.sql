-- GET /metrics (Prometheus): the scope metrics:read, the rule for "a worker
-- is online" as one function, and omnilink.port_metrics(), which returns the
-- numbers of the key's whole tenant; the port writes the exposition text.
--
-- Cost, measured on the embedded Postgres of the tests (2 cores) with a
-- tenant of 1,000,000 events in 12 (source, type) pairs and 200,000 tasks,
-- beside a tenant of 2,000,000 events and 400,000 tasks, after vacuum
-- analyze: port_metrics takes ~350-420 ms, ~250 ms of it the events count
-- (a parallel seq scan) and ~50 ms the task counts. An index on
-- (tenant_id, source, type) did not pay: the planner chose it only when
-- forced or for a third of the table, and it read as slowly (280-320 ms,
-- with heap fetches for every row), so it would only add a write to every
-- event insert; same for (tenant_id, target, status) on tasks (33 ms
-- against 52 ms, for a write on every status change of the hot table). So
-- no new index: a scrape every 15 s costs ~3% of one core at 1M events and
-- grows with the tenant's history. Past that, the path is a rollup of
-- event counts fed by omnilink.port_emit_events (also what the "all"
-- window of 20261121000800_dashboard_analytics.sql names), not an index.

-- The scope -----------------------------------------------------------------

-- The one list of scopes in SQL besides the check constraint below, which
-- must spell its values out (a test compares them with the contract's Scope).
create function omnilink.known_scopes() returns text[]
language sql immutable
set search_path = ''
as $$
  select array['events:write', 'tasks:create', 'tasks:claim', 'tasks:complete', 'metrics:read']::text[]
$$;

alter table public.api_keys drop constraint api_keys_scopes_known;
alter table public.api_keys add constraint api_keys_scopes_known check (
  cardinality(scopes) > 0
  and scopes <@ array['events:write', 'tasks:create', 'tasks:claim', 'tasks:complete', 'metrics:read']::text[]
);

-- As in 20261121000200, with the known scopes read from omnilink.known_scopes().
create or replace function omnilink.insert_api_key(
  p_integration_id uuid,
  p_key_id text,
  p_secret_sha256 bytea,
  p_scopes text[],
  p_max_rpm integer default null,
  p_expires_at timestamptz default null,
  p_name text default null,
  p_created_by uuid default null
) returns public.api_keys
language plpgsql security definer
set search_path = ''
as $$
declare
  v_known constant text[] := omnilink.known_scopes();
  v_unknown text[];
  v_key public.api_keys;
  v_tenant_id uuid;
begin
  select i.tenant_id into v_tenant_id from public.integrations i where i.id = p_integration_id;
  if v_tenant_id is null then
    raise exception 'Integration % not found.', p_integration_id using errcode = 'P0002';
  end if;
  if p_scopes is null or cardinality(p_scopes) = 0 then
    raise exception 'Give the key at least one scope (known scopes: %).', array_to_string(v_known, ', ')
      using errcode = '22023';
  end if;
  v_unknown := array(select s from unnest(p_scopes) s where s <> all (v_known));
  if cardinality(v_unknown) > 0 then
    raise exception 'Unknown scope %; known scopes: %.',
      array_to_string(v_unknown, ', '), array_to_string(v_known, ', ')
      using errcode = '22023';
  end if;
  if p_max_rpm is not null and p_max_rpm < 1 then
    raise exception 'max_rpm must be at least 1 (or null for no limit).' using errcode = '22023';
  end if;
  if p_expires_at is not null and p_expires_at <= now() then
    raise exception 'expires_at must be in the future.' using errcode = '22023';
  end if;

  insert into public.api_keys (tenant_id, integration_id, key_id, name, scopes, max_rpm, expires_at, created_by)
  values (
    v_tenant_id, p_integration_id, p_key_id, p_name,
    array(select distinct s from unnest(p_scopes) s order by s),
    p_max_rpm, p_expires_at, p_created_by
  )
  returning * into v_key;
  insert into omnilink.api_key_secrets (api_key_id, secret_sha256) values (v_key.id, p_secret_sha256);
  return v_key;
end
$$;

-- Every key may ask what it is, a metrics-only key too (as in 20261121000500,
-- with every known scope accepted).
create or replace function omnilink.port_whoami(p_key_id text, p_secret_sha256 text)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
begin
  select * into v_auth from omnilink.authorize(p_key_id, p_secret_sha256, omnilink.known_scopes());
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;
  return (
    select jsonb_build_object(
      'key_id', k.key_id,
      'source', v_auth.source,
      'tenant', jsonb_build_object('id', t.id, 'slug', t.slug, 'name', t.name),
      'integration_id', k.integration_id,
      'scopes', to_jsonb(k.scopes),
      'max_rpm', k.max_rpm,
      'expires_at', k.expires_at
    )
    from public.api_keys k join public.tenants t on t.id = k.tenant_id
    where k.id = v_auth.api_key_id
  );
end
$$;

-- GET /metrics --------------------------------------------------------------

-- The key's whole tenant: tasks per target × status (every status, zeros
-- included, for every target that has tasks, an integration or a
-- task_targets row), events per (source, type), online workers per source
-- (every integration of the tenant, zeros included), and the oldest ready
-- task's age per target that has one. Arrays of rows; the port formats them.
create function omnilink.port_metrics(p_key_id text, p_secret_sha256 text)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
  v_tenant_id uuid;
  v_tasks jsonb;
begin
  select * into v_auth from omnilink.authorize(p_key_id, p_secret_sha256, array['metrics:read']);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;
  v_tenant_id := v_auth.tenant_id;

  with counts as (
    select t.target, t.status, count(*) as n
    from public.tasks t
    where t.tenant_id = v_tenant_id
    group by t.target, t.status
  ),
  targets as (
    select c.target from counts c
    union
    select i.source from public.integrations i where i.tenant_id = v_tenant_id
    union
    select tt.target from public.task_targets tt where tt.tenant_id = v_tenant_id
  )
  select coalesce(jsonb_agg(
           jsonb_build_object('target', g.target, 'status', s.status, 'count', coalesce(c.n, 0))
           order by g.target, s.ord
         ), '[]'::jsonb)
  into v_tasks
  from targets g
  cross join unnest(
    array['queued', 'waiting_approval', 'approved', 'running', 'succeeded', 'failed', 'canceled']
  ) with ordinality as s(status, ord)
  left join counts c on c.target = g.target and c.status = s.status;

  return jsonb_build_object(
    'tasks', v_tasks,
    'events', coalesce((
      select jsonb_agg(jsonb_build_object('source', e.source, 'type', e.type, 'count', e.n)
                       order by e.source, e.type)
      from (
        select e.source, e.type, count(*) as n
        from public.telemetry_events e
        where e.tenant_id = v_tenant_id
        group by e.source, e.type
      ) e
    ), '[]'::jsonb),
    'workers_online', coalesce((
      select jsonb_agg(jsonb_build_object('source', i.source, 'count', coalesce(w.n, 0)) order by i.source)
      from public.integrations i
      left join (
        select w.source, count(*) as n
        from public.workers w
        where w.tenant_id = v_tenant_id and w.last_seen_at > omnilink.worker_online_after()
        group by w.source
      ) w on w.source = i.source
      where i.tenant_id = v_tenant_id
    ), '[]'::jsonb),
    'oldest_ready_age_seconds', coalesce((
      select jsonb_agg(jsonb_build_object('target', r.target, 'seconds', r.seconds) order by r.target)
      from (
        select t.target,
               floor(extract(epoch from now() - min(coalesce(t.run_at, t.created_at))))::bigint as seconds
        from public.tasks t
        where t.tenant_id = v_tenant_id and omnilink.task_is_ready(t.status, t.run_at)
        group by t.target
      ) r
    ), '[]'::jsonb)
  );
end
$$;

revoke execute on all functions in schema omnilink from public;
grant execute on function omnilink.port_metrics(text, text) to service_role;
