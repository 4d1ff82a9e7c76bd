-- POST /events in groups: the port hands the database every event request
-- that arrived while its previous call was running, as one call, instead of
-- one call (and one commit) per request. For one-event requests the call's
-- fixed costs were most of the work: a group of 8 costs Postgres about a
-- fifth of the CPU per request that 8 separate calls did (the event-ingest
-- benchmark), because the events of the whole group are inserted by one
-- statement (one rollup trigger call) and committed once.
--
-- Each request keeps its own outcome, as if the requests had been run one
-- after another in the order given: its key is checked (omnilink.authorize)
-- and it is counted against the key's rate limit (admit_requests, the one
-- rule, counting a key's requests of the group at once: the earliest are
-- admitted), a refused request stores nothing, and when requests of the
-- group share an idempotency key the earlier one creates the event and the
-- later ones are duplicates.
--
-- Locks are taken in one order whatever the arrival order, so two groups
-- running at once cannot deadlock: keys (their rate-limit rows and
-- last_used_at) by key id, events by (integration, idempotency key), as
-- every other writer of events does.
--
-- port_emit_events, a single request, is now a group of one: one
-- implementation of the rules.

-- Counts requests of a key against its rate limit: the first `admitted` of
-- p_requests are within the key's max_rpm (all of them without a limit),
-- the rest are refused with error, message and retry_after_seconds. Notes
-- the key's use (last_used_at, at most once a minute) when any is admitted.
-- The one rate-limit rule: omnilink.authorize counts one request with it,
-- a group of event requests counts each key's requests at once.
create function omnilink.admit_requests(
  p_api_key_id uuid,
  p_requests integer,
  out admitted integer,
  out error text,
  out message text,
  out retry_after_seconds integer
)
language plpgsql security definer
set search_path = ''
as $$
declare
  v_max_rpm integer;
  v_last_used_at timestamptz;
  v_window_started_at timestamptz;
  v_count integer;
begin
  select k.max_rpm, k.last_used_at into v_max_rpm, v_last_used_at
  from public.api_keys k where k.id = p_api_key_id;

  if v_max_rpm is null then
    admitted := p_requests;
  else
    -- The row lock serialises requests of one key across all port
    -- instances, which is what makes the count exact.
    insert into omnilink.api_key_rate_windows (api_key_id, window_started_at, request_count)
    values (p_api_key_id, now(), 0)
    on conflict on constraint api_key_rate_windows_pkey do nothing;
    select w.window_started_at, w.request_count into v_window_started_at, v_count
    from omnilink.api_key_rate_windows w where w.api_key_id = p_api_key_id
    for update;
    if v_window_started_at <= now() - interval '1 minute' then
      v_window_started_at := now();
      v_count := 0;
    end if;
    admitted := greatest(0, least(p_requests, v_max_rpm - v_count));
    if admitted > 0 then
      update omnilink.api_key_rate_windows w
      set window_started_at = v_window_started_at, request_count = v_count + admitted
      where w.api_key_id = p_api_key_id;
    end if;
    if admitted < p_requests then
      error := 'rate_limited';
      message := format('This API key may make %s requests per minute; wait before sending more.', v_max_rpm);
      retry_after_seconds := greatest(
        1, ceil(extract(epoch from (v_window_started_at + interval '1 minute' - now())))::integer
      );
    end if;
  end if;

  if admitted > 0 and (v_last_used_at is null or v_last_used_at < now() - interval '1 minute') then
    update public.api_keys k set last_used_at = now()
    where k.id = p_api_key_id and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
  end if;
end
$$;

-- authorize as in 20261121000200, counting its request with admit_requests.
create or replace function omnilink.authorize(
  p_key_id text,
  p_secret_sha256 text,
  p_scopes text[],
  p_count_request boolean default true,
  out error text,
  out message text,
  out required_scope text,
  out retry_after_seconds integer,
  out api_key_id uuid,
  out tenant_id uuid,
  out integration_id uuid,
  out source text
)
language plpgsql security definer
set search_path = ''
as $$
declare
  v_key record;
begin
  select k.id, k.tenant_id, k.integration_id, i.source, k.scopes, k.max_rpm, k.expires_at,
         k.revoked_at, k.last_used_at, s.secret_sha256, coalesce(ts.omnilink_enabled, true) as enabled
  into v_key
  from public.api_keys k
  join omnilink.api_key_secrets s on s.api_key_id = k.id
  join public.integrations i on i.id = k.integration_id
  left join public.tenant_settings ts on ts.tenant_id = k.tenant_id
  where k.key_id = p_key_id;

  -- Written to fail closed: a NULL or malformed hash never matches.
  if not found or p_secret_sha256 is null or p_secret_sha256 !~ '^[0-9a-f]{64}$'
     or v_key.secret_sha256 is distinct from decode(p_secret_sha256, 'hex') then
    error := 'unauthorized';
    message := 'The API key is not valid. Check OMNIHUB_API_KEY: it must be a key created in OmniDash or with `pnpm omnihub keys create`.';
    return;
  end if;
  if v_key.revoked_at is not null then
    error := 'unauthorized';
    message := 'This API key was revoked. Create a new one in OmniDash → Integrations.';
    return;
  end if;
  if v_key.expires_at is not null and v_key.expires_at <= now() then
    error := 'unauthorized';
    message := 'This API key has expired. Create a new one in OmniDash → Integrations.';
    return;
  end if;
  if not v_key.enabled then
    error := 'omnilink_disabled';
    message := 'OmniLink is switched off for this tenant. An admin can switch it back on in OmniDash → Settings.';
    return;
  end if;
  if p_scopes is null or not coalesce(v_key.scopes && p_scopes, false) then
    error := 'permission_denied';
    required_scope := array_to_string(p_scopes, ' or ');
    message := format('This API key lacks the scope this endpoint needs (%s). Its scopes: %s.',
      required_scope, array_to_string(v_key.scopes, ', '));
    return;
  end if;

  if p_count_request then
    select a.error, a.message, a.retry_after_seconds into error, message, retry_after_seconds
    from omnilink.admit_requests(v_key.id, 1) a;
    if error is not null then
      return;
    end if;
  end if;

  api_key_id := v_key.id;
  tenant_id := v_key.tenant_id;
  integration_id := v_key.integration_id;
  source := v_key.source;
end
$$;

create function omnilink.port_emit_event_requests(p_requests jsonb)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_key record;
  v_auth record;
  v_admit record;
  v_n integer;
  v_foreign_source text;
  -- Per request number (1-based, as given): its refusal, or whose events it may store.
  v_refusals jsonb := '{}';
  v_accepted jsonb := '[]';
  v_created jsonb;
  v_results jsonb;
begin
  if jsonb_typeof(p_requests) is distinct from 'array' then
    raise exception 'p_requests must be a JSON array of {key_id, secret_sha256, events}.' using errcode = '22023';
  end if;

  -- Each key is checked once and its requests counted together; a request
  -- the rate limit cuts off, or with a bad key, stores nothing.
  for v_key in
    select r.value ->> 'key_id' as key_id, r.value ->> 'secret_sha256' as secret_sha256,
           array_agg(r.ordinality::integer order by r.ordinality) as numbers
    from jsonb_array_elements(p_requests) with ordinality r
    group by 1, 2
    order by 1, 2
  loop
    select * into v_auth
    from omnilink.authorize(v_key.key_id, v_key.secret_sha256, array['events:write'], p_count_request => false);
    if v_auth.error is null then
      select * into v_admit from omnilink.admit_requests(v_auth.api_key_id, cardinality(v_key.numbers));
    end if;

    for i in 1 .. cardinality(v_key.numbers) loop
      v_n := v_key.numbers[i];
      if v_auth.error is not null then
        v_refusals := v_refusals || jsonb_build_object(v_n::text, jsonb_strip_nulls(to_jsonb(v_auth)));
        continue;
      end if;
      if i > v_admit.admitted then
        v_refusals := v_refusals || jsonb_build_object(v_n::text, jsonb_strip_nulls(jsonb_build_object(
          'error', v_admit.error, 'message', v_admit.message, 'retry_after_seconds', v_admit.retry_after_seconds
        )));
        continue;
      end if;

      select e ->> 'source' into v_foreign_source
      from jsonb_array_elements(p_requests -> (v_n - 1) -> 'events') e
      where e ? 'source' and e ->> 'source' <> v_auth.source
      limit 1;
      if v_foreign_source is not null then
        v_refusals := v_refusals || jsonb_build_object(v_n::text, jsonb_build_object(
          'error', 'permission_denied',
          'message', format('This key belongs to source %s; it cannot send events as %s.', v_auth.source, v_foreign_source)
        ));
        continue;
      end if;

      v_accepted := v_accepted || jsonb_build_array(jsonb_build_object(
        'n', v_n, 'tenant_id', v_auth.tenant_id, 'integration_id', v_auth.integration_id,
        'source', v_auth.source, 'events', p_requests -> (v_n - 1) -> 'events'
      ));
    end loop;
  end loop;

  -- Within the group the first event with a key wins (request order, then
  -- event order); later ones are duplicates. Key order makes concurrent
  -- inserts that share keys wait on each other in one order.
  with inserted as (
    insert into public.telemetry_events (tenant_id, integration_id, source, type, idempotency_key, occurred_at, data)
    select (a ->> 'tenant_id')::uuid, (a ->> 'integration_id')::uuid, a ->> 'source',
           x.e ->> 'type', x.e ->> 'idempotency_key',
           coalesce((x.e ->> 'occurred_at')::timestamptz, now()), coalesce(x.e -> 'data', '{}'::jsonb)
    from jsonb_array_elements(v_accepted) a
    cross join lateral jsonb_array_elements(a -> 'events') with ordinality as x(e, ord)
    order by a ->> 'integration_id', x.e ->> 'idempotency_key', (a ->> 'n')::int, x.ord
    on conflict on constraint telemetry_events_integration_idempotency_key do nothing
    returning integration_id, idempotency_key, id
  )
  select coalesce(jsonb_object_agg(integration_id::text || ' ' || idempotency_key, id), '{}'::jsonb)
  into v_created
  from inserted;

  -- A separate statement takes a fresh snapshot, so it also sees rows that a
  -- concurrent request committed while this insert waited on their keys.
  with input as (
    select (a ->> 'n')::int as n, x.ord, a ->> 'integration_id' as integration_id,
           x.e ->> 'idempotency_key' as idempotency_key,
           row_number() over (partition by a ->> 'integration_id', x.e ->> 'idempotency_key'
                              order by (a ->> 'n')::int, x.ord) = 1 as first_of_key
    from jsonb_array_elements(v_accepted) a
    cross join lateral jsonb_array_elements(a -> 'events') with ordinality as x(e, ord)
  ),
  -- A duplicate's id is one probe of the (integration_id, idempotency_key)
  -- unique index, and only for keys this call did not create.
  resolved as (
    select i.n, i.ord, i.idempotency_key,
           case when i.first_of_key and v_created ? (i.integration_id || ' ' || i.idempotency_key)
                then 'created' else 'duplicate' end as status,
           coalesce(
             v_created ->> (i.integration_id || ' ' || i.idempotency_key),
             (select t.id::text from public.telemetry_events t
              where t.integration_id = i.integration_id::uuid and t.idempotency_key = i.idempotency_key)
           ) as id
    from input i
  ),
  per_request as (
    select n, jsonb_build_object(
      'created', count(*) filter (where status = 'created'),
      'duplicates', count(*) filter (where status = 'duplicate'),
      'results', jsonb_agg(jsonb_build_object('idempotency_key', idempotency_key, 'status', status, 'id', id) order by ord)
    ) as result
    from resolved
    group by n
  )
  select jsonb_agg(
           coalesce(v_refusals -> g.n::text, p.result,
                    jsonb_build_object('created', 0, 'duplicates', 0, 'results', '[]'::jsonb))
           order by g.n)
  into v_results
  from generate_series(1, jsonb_array_length(p_requests)) g(n)
  left join per_request p on p.n = g.n;
  return coalesce(v_results, '[]'::jsonb);
end
$$;

revoke execute on all functions in schema omnilink from public;
grant execute on function omnilink.port_emit_event_requests(jsonb) to service_role;

create or replace function omnilink.port_emit_events(p_key_id text, p_secret_sha256 text, p_events jsonb)
returns jsonb
language sql security definer
set search_path = ''
as $$
  select omnilink.port_emit_event_requests(jsonb_build_array(jsonb_build_object(
    'key_id', p_key_id, 'secret_sha256', p_secret_sha256, 'events', p_events
  ))) -> 0
$$;
