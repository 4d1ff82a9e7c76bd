-- Telemetry events sent by agents through the port: append-only, idempotent
-- per (integration, idempotency_key), streamed to OmniDash over Realtime.

create table public.telemetry_events (
  id uuid primary key default omnilink.uuid_v7(),
  tenant_id uuid not null,
  integration_id uuid not null,
  source text not null,
  type text not null
    constraint telemetry_events_type_format check (type ~ '^[a-z0-9_.:-]{1,100}$'),
  idempotency_key text not null
    constraint telemetry_events_idempotency_key_length check (char_length(idempotency_key) between 1 and 200),
  occurred_at timestamptz not null default now(),
  received_at timestamptz not null default now(),
  data jsonb not null default '{}'::jsonb
    constraint telemetry_events_data_object check (jsonb_typeof(data) = 'object'),
  constraint telemetry_events_integration_idempotency_key unique (integration_id, idempotency_key),
  constraint telemetry_events_integration_fkey foreign key (integration_id, tenant_id)
    references public.integrations (id, tenant_id) on delete cascade
);
alter table public.telemetry_events enable row level security;
-- The dashboard's reads: a tenant's recent events, and counts per type in a window.
create index telemetry_events_tenant_occurred_idx on public.telemetry_events (tenant_id, occurred_at desc);
create index telemetry_events_tenant_type_occurred_idx on public.telemetry_events (tenant_id, type, occurred_at desc);
comment on table public.telemetry_events is
  'Agent telemetry, written only by the OmniLink Port. source is copied from the key''s integration so readers can filter without a join.';

revoke all on table public.telemetry_events from anon, authenticated;
grant select on table public.telemetry_events to authenticated;

create policy telemetry_events_select_members on public.telemetry_events
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

alter publication supabase_realtime add table public.telemetry_events;

-- POST /events: p_events is a JSON array of already validated events. Returns
-- {created, duplicates, results: [{idempotency_key, status, id}]} in request
-- order, or {error, message}.
create function omnilink.port_emit_events(p_key_id text, p_secret_sha256 text, p_events jsonb)
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
  resolved as (
    select i.ord, i.idempotency_key,
           case when i.first_of_key and v_created ? i.idempotency_key then 'created' else 'duplicate' end as status,
           coalesce(v_created ->> i.idempotency_key, t.id::text) as id
    from input i
    left join public.telemetry_events t
      on t.integration_id = v_auth.integration_id and t.idempotency_key = i.idempotency_key
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

revoke execute on all functions in schema omnilink from public;
grant execute on function omnilink.port_emit_events(text, text, jsonb) to service_role;
