-- POST /events resolved the ids of its events with a join that, in the
-- plan plpgsql caches after a few calls (a generic plan), read every event
-- of the integration: each request cost more as telemetry grew (a seq scan
-- of 5,000 rows for one event; 1,000,000 at the dashboard benchmark's
-- scale). Found profiling the event-ingest benchmark (strcoll and a hash
-- join in every call). The ids now come from one probe of the unique index
-- per key the call did not create. Otherwise the function is 000300's.

create or replace function omnilink.port_emit_events(p_key_id text, p_secret_sha256 text, p_events jsonb)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
  v_foreign_source text;
  v_created jsonb;
  v_results jsonb;
begin
  select * into v_auth from omnilink.authorize(p_key_id, p_secret_sha256, array['events:write']);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;

  select e ->> 'source' into v_foreign_source
  from jsonb_array_elements(p_events) e
  where e ? 'source' and e ->> 'source' <> v_auth.source
  limit 1;
  if v_foreign_source is not null then
    return jsonb_build_object(
      'error', 'permission_denied',
      'message', format('This key belongs to source %s; it cannot send events as %s.', v_auth.source, v_foreign_source)
    );
  end if;

  -- Within one batch the first event with a key wins; later ones are
  -- duplicates. Inserting in key order makes concurrent batches that share
  -- keys wait on each other in one order, so they cannot deadlock.
  with inserted as (
    insert into public.telemetry_events (tenant_id, integration_id, source, type, idempotency_key, occurred_at, data)
    select v_auth.tenant_id, v_auth.integration_id, v_auth.source, x.e ->> 'type', x.e ->> 'idempotency_key',
           coalesce((x.e ->> 'occurred_at')::timestamptz, now()), coalesce(x.e -> 'data', '{}'::jsonb)
    from jsonb_array_elements(p_events) with ordinality as x(e, ord)
    order by x.e ->> 'idempotency_key', x.ord
    on conflict on constraint telemetry_events_integration_idempotency_key do nothing
    returning idempotency_key, id
  )
  select coalesce(jsonb_object_agg(idempotency_key, id), '{}'::jsonb) into v_created from inserted;

  -- A separate statement takes a fresh snapshot, so it also sees rows that a
  -- concurrent request committed while this insert waited on their keys.
  with input as (
    select e ->> 'idempotency_key' as idempotency_key, ord,
           ord = min(ord) over (partition by e ->> 'idempotency_key') as first_of_key
    from jsonb_array_elements(p_events) with ordinality as x(e, ord)
  ),
  -- A duplicate's id is one probe of the (integration_id, idempotency_key)
  -- unique index, and only for keys this call did not create.
  resolved as (
    select i.ord, i.idempotency_key,
           case when i.first_of_key and v_created ? i.idempotency_key then 'created' else 'duplicate' end as status,
           coalesce(
             v_created ->> i.idempotency_key,
             (select t.id::text from public.telemetry_events t
              where t.integration_id = v_auth.integration_id and t.idempotency_key = i.idempotency_key)
           ) as id
    from input i
  )
  select jsonb_build_object(
    'created', count(*) filter (where status = 'created'),
    'duplicates', count(*) filter (where status = 'duplicate'),
    'results', jsonb_agg(jsonb_build_object('idempotency_key', idempotency_key, 'status', status, 'id', id) order by ord)
  )
  into v_results
  from resolved;
  return v_results;
end
$$;
