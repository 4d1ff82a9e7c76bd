-- Read-only telemetry aggregates for OmniDash's Local agents screen: counts
-- per (source, type) for the Lead-Gen and APEX-Sales panels, and counts per
-- time bucket and source for the events chart, so the browser receives a
-- few rows instead of every event of the window.
--
-- Both functions are `security invoker` and `stable`: they run as the
-- caller, so telemetry_events' RLS policy decides which rows are counted (a
-- member of another tenant, or an id that names no tenant, gets no rows
-- rather than an error that would tell the two apart), and PostgREST runs
-- them in a read-only transaction. Executable by authenticated only.
--
-- No new index. Both functions filter on tenant_id and a lower bound of
-- occurred_at, a range scan of telemetry_events_tenant_occurred_idx; the
-- latest queue_seeded is one probe of telemetry_events_tenant_type_occurred_idx.
-- That range scan needs a plan made for the actual p_since: a plan for an
-- unknown bound assumes a third of the tenant's rows match and reads them
-- all (measured with 500,000 events: 105 ms for the last hour, against
-- 4 ms with a plan for the bound, 8 ms for 24 hours, 180 ms for all). So
-- they are plpgsql with plan_cache_mode = force_custom_plan, which plans
-- each call with its values; a plain SQL function cannot be told to.
-- The window "all" reads the tenant's whole history; when that grows too
-- large, the path is a rollup table fed by the port, not another index.

create function public.agent_panel_stats(p_tenant_id uuid, p_since timestamptz default null)
returns table (
  source text,
  type text,
  event_count bigint,
  last_occurred_at timestamptz,
  last_data jsonb
)
language plpgsql stable security invoker
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
begin
  return query
  select g.source, g.type, g.event_count, g.last_occurred_at, l.data
  from (
    select e.source, e.type, count(*) as event_count, max(e.occurred_at) as last_occurred_at
    from public.telemetry_events e
    where e.tenant_id = p_tenant_id
      and e.occurred_at >= coalesce(p_since, '-infinity'::timestamptz)
    group by e.source, e.type
  ) g
  -- Only queue_seeded carries a value a tile shows (its queue_size); other
  -- types' data can be up to 16 KiB each and no panel needs it.
  left join lateral (
    select e.data
    from public.telemetry_events e
    where g.type = 'queue_seeded'
      and e.tenant_id = p_tenant_id and e.type = g.type and e.source = g.source
      and e.occurred_at = g.last_occurred_at
    -- Two at the same instant: the one stored last (ids are time-ordered).
    order by e.id desc
    limit 1
  ) l on true
  order by g.source, g.type;
end
$$;
comment on function public.agent_panel_stats(uuid, timestamptz) is
  'OmniDash panels: how many events of each (source, type) the tenant has with occurred_at at or after p_since (null: all time), when the latest occurred, and for queue_seeded the latest event''s data. Counts only rows the caller may read.';
revoke execute on function public.agent_panel_stats(uuid, timestamptz) from public, anon;
grant execute on function public.agent_panel_stats(uuid, timestamptz) to authenticated;

create function public.event_series(p_tenant_id uuid, p_since timestamptz, p_bucket interval)
returns table (bucket_start timestamptz, source text, event_count bigint)
language plpgsql stable security invoker
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
begin
  -- Buckets start at whole multiples of p_bucket from 2001-01-01 00:00 UTC
  -- (a Monday), so the same bucket covers the same time in every call. A
  -- bucket under a minute is taken as one minute: a chart has no use for
  -- finer ones, and "all" in seconds would return a row per event.
  return query
  select pg_catalog.date_bin(
           greatest(p_bucket, interval '1 minute'), e.occurred_at, timestamptz '2001-01-01 00:00:00+00'
         ) as bucket_start,
         e.source,
         count(*) as event_count
  from public.telemetry_events e
  where e.tenant_id = p_tenant_id
    and e.occurred_at >= coalesce(p_since, '-infinity'::timestamptz)
  group by 1, 2
  order by 1, 2;
end
$$;
comment on function public.event_series(uuid, timestamptz, interval) is
  'OmniDash chart: the tenant''s events with occurred_at at or after p_since (null: all time) counted per source and per p_bucket-long bucket (at least a minute, aligned to 2001-01-01 UTC); only buckets with events. Counts only rows the caller may read.';
revoke execute on function public.event_series(uuid, timestamptz, interval) from public, anon;
grant execute on function public.event_series(uuid, timestamptz, interval) to authenticated;
