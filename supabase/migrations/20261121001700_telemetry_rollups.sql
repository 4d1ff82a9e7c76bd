-- Event counts per hour, so OmniDash's panels and chart stop counting raw
-- events: public.telemetry_event_rollups holds, per tenant, UTC hour, source
-- and type, how many events there are and when the latest occurred.
-- agent_panel_stats and event_series (20261121000800) now add up those hours
-- and count raw rows only for the part of the window before its first whole
-- hour. With 1,000,000 events over 30 days the "all" window reads ~7,200
-- rollup rows instead of a million events.
--
-- Fed by a statement-level trigger on telemetry_events rather than by
-- omnilink.port_emit_events: every path that stores events (the port, the
-- benchmarks' and tests' bulk inserts, a repair by hand) keeps the rollup
-- right, each statement costs one call whatever its row count, and the
-- transition table holds only the rows actually inserted (ON CONFLICT DO
-- NOTHING leaves duplicates out). Deletes and updates recount the hours they
-- touch from the raw rows, so the rollup always equals a count of
-- telemetry_events.
--
-- Contention: with one row per key, every writer of that (tenant, hour,
-- source, type) would update the same row and hold its lock until its
-- commit is flushed, so concurrent single-event requests would commit one
-- at a time (measured with the event-ingest benchmark: plain inserts of one
-- event from 8 connections fell from ~2,000 to ~700/s). So a key may have
-- several rows ("shards"): a writer adds to the first row of the key that
-- no one else holds and makes a new one when all are held. A key gets at
-- most as many rows as writers held it at once; the readers add them up.

create table public.telemetry_event_rollups (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- date_bin('1 hour', occurred_at, 2001-01-01 UTC): whole UTC hours, on the
  -- same origin as event_series' buckets.
  hour timestamptz not null,
  source text not null,
  type text not null,
  -- Which row of the key: made from the pid of the backend that made it (0
  -- for the backfill and recounts); meaningless beyond that.
  shard integer not null,
  event_count bigint not null,
  last_occurred_at timestamptz not null,
  primary key (tenant_id, hour, source, type, shard)
);
alter table public.telemetry_event_rollups enable row level security;
comment on table public.telemetry_event_rollups is
  'How many telemetry_events each tenant has per UTC hour, source and type (summed over shard), kept by triggers on telemetry_events. Read by agent_panel_stats and event_series.';

revoke all on table public.telemetry_event_rollups from anon, authenticated;
grant select on table public.telemetry_event_rollups to authenticated;

create policy telemetry_event_rollups_select_members on public.telemetry_event_rollups
  for select to authenticated
  using (tenant_id in (select omnilink.member_tenant_ids()));

-- Adds a statement's inserted events, one (tenant, hour, source, type) at a
-- time. It never waits for another writer: it takes the first row of the
-- key that no one holds (SKIP LOCKED) or makes one only it can make, so
-- concurrent ingests neither queue behind each other's commits nor
-- deadlock. Security definer: the rollup has no write grants.
create function omnilink.telemetry_rollup_add() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  g record;
begin
  for g in
    select n.tenant_id,
           pg_catalog.date_bin(interval '1 hour', n.occurred_at, timestamptz '2001-01-01 00:00:00+00') as hour,
           n.source, n.type, count(*) as n, max(n.occurred_at) as last
    from new_rows n
    group by 1, 2, 3, 4
    order by 1, 2, 3, 4
  loop
    update public.telemetry_event_rollups r
    set event_count = r.event_count + g.n,
        last_occurred_at = greatest(r.last_occurred_at, g.last)
    where r.tenant_id = g.tenant_id and r.hour = g.hour and r.source = g.source and r.type = g.type
      and r.shard = (
        select s.shard from public.telemetry_event_rollups s
        where s.tenant_id = g.tenant_id and s.hour = g.hour and s.source = g.source and s.type = g.type
        order by s.shard
        limit 1
        for update skip locked
      );
    if not found then
      -- No row, or all held by others: a new one, whose shard no other
      -- writer can be making or updating, or the insert would wait for it.
      -- This backend's shards are its pid plus multiples of 2^22 (pids stay
      -- below that): no other running backend makes them, and the next one
      -- above those that exist (a former backend's with the same pid, or
      -- held) is free.
      insert into public.telemetry_event_rollups
        (tenant_id, hour, source, type, shard, event_count, last_occurred_at)
      select g.tenant_id, g.hour, g.source, g.type,
             coalesce(max(s.shard), pg_catalog.pg_backend_pid() - 4194304) + 4194304, g.n, g.last
      from public.telemetry_event_rollups s
      where s.tenant_id = g.tenant_id and s.hour = g.hour and s.source = g.source and s.type = g.type
        and s.shard % 4194304 = pg_catalog.pg_backend_pid();
    end if;
  end loop;
  return null;
end
$$;

-- Counts the given keys again from telemetry_events, as one row each (none
-- when no event is left). For deletes and updates, which only a tenant's or
-- an integration's deletion does (events are append-only): those hold the
-- integration's row, so no insert of the same events runs meanwhile.
create function omnilink.telemetry_rollup_recount(
  p_tenant_ids uuid[], p_hours timestamptz[], p_sources text[], p_types text[]
) returns void
language plpgsql security definer
set search_path = ''
as $$
begin
  delete from public.telemetry_event_rollups r
  using unnest(p_tenant_ids, p_hours, p_sources, p_types) as k(tenant_id, hour, source, type)
  where r.tenant_id = k.tenant_id and r.hour = k.hour and r.source = k.source and r.type = k.type;

  insert into public.telemetry_event_rollups
    (tenant_id, hour, source, type, shard, event_count, last_occurred_at)
  select k.tenant_id, k.hour, k.source, k.type, 0, c.n, c.last
  from (
    select distinct * from unnest(p_tenant_ids, p_hours, p_sources, p_types) as k(tenant_id, hour, source, type)
  ) k
  cross join lateral (
    select count(*) as n, max(e.occurred_at) as last
    from public.telemetry_events e
    where e.tenant_id = k.tenant_id and e.type = k.type and e.source = k.source
      -- The hour's range, closed so that an hour of ±infinity holds its own events.
      and e.occurred_at >= k.hour and e.occurred_at <= k.hour + interval '1 hour'
      and pg_catalog.date_bin(interval '1 hour', e.occurred_at, timestamptz '2001-01-01 00:00:00+00') = k.hour
  ) c
  where c.n > 0;
end
$$;

create function omnilink.telemetry_rollup_recount_deleted() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform omnilink.telemetry_rollup_recount(
    array_agg(k.tenant_id), array_agg(k.hour), array_agg(k.source), array_agg(k.type))
  from (
    select distinct o.tenant_id,
           pg_catalog.date_bin(interval '1 hour', o.occurred_at, timestamptz '2001-01-01 00:00:00+00') as hour,
           o.source, o.type
    from old_rows o
  ) k;
  return null;
end
$$;

create function omnilink.telemetry_rollup_recount_updated() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform omnilink.telemetry_rollup_recount(
    array_agg(k.tenant_id), array_agg(k.hour), array_agg(k.source), array_agg(k.type))
  from (
    select x.tenant_id,
           pg_catalog.date_bin(interval '1 hour', x.occurred_at, timestamptz '2001-01-01 00:00:00+00') as hour,
           x.source, x.type
    from old_rows x
    union
    select x.tenant_id,
           pg_catalog.date_bin(interval '1 hour', x.occurred_at, timestamptz '2001-01-01 00:00:00+00') as hour,
           x.source, x.type
    from new_rows x
  ) k;
  return null;
end
$$;

create function omnilink.telemetry_rollup_clear() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  delete from public.telemetry_event_rollups;
  return null;
end
$$;

-- Made before the backfill, in the same transaction: creating a trigger
-- waits for running inserts and holds off new ones until commit, so the
-- backfill below sees every event and none is counted twice.
create trigger telemetry_events_rollup_insert
after insert on public.telemetry_events
referencing new table as new_rows
for each statement execute function omnilink.telemetry_rollup_add();

create trigger telemetry_events_rollup_delete
after delete on public.telemetry_events
referencing old table as old_rows
for each statement execute function omnilink.telemetry_rollup_recount_deleted();

create trigger telemetry_events_rollup_update
after update on public.telemetry_events
referencing old table as old_rows new table as new_rows
for each statement execute function omnilink.telemetry_rollup_recount_updated();

create trigger telemetry_events_rollup_truncate
after truncate on public.telemetry_events
for each statement execute function omnilink.telemetry_rollup_clear();

insert into public.telemetry_event_rollups
  (tenant_id, hour, source, type, shard, event_count, last_occurred_at)
select e.tenant_id,
       pg_catalog.date_bin(interval '1 hour', e.occurred_at, timestamptz '2001-01-01 00:00:00+00'),
       e.source, e.type, 0, count(*), max(e.occurred_at)
from public.telemetry_events e
group by 1, 2, 3, 4;

-- The readers -----------------------------------------------------------------
--
-- As in 20261121000800 (same signatures, results, security invoker and
-- per-call plans), from whole hours of the rollup plus the raw events from
-- p_since up to the next whole hour (at most an hour of rows, a range of
-- telemetry_events_tenant_occurred_idx). RLS applies to both tables, so a
-- caller who is no member still gets no rows.

create or replace function public.agent_panel_stats(p_tenant_id uuid, p_since timestamptz default null)
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
declare
  v_since constant timestamptz := coalesce(p_since, '-infinity'::timestamptz);
  -- The first whole hour at or after v_since.
  v_hours timestamptz := pg_catalog.date_bin(interval '1 hour', v_since, timestamptz '2001-01-01 00:00:00+00');
begin
  if v_hours < v_since then
    v_hours := v_hours + interval '1 hour';
  end if;

  return query
  select g.source, g.type, g.event_count, g.last_occurred_at, l.data
  from (
    select c.source, c.type, sum(c.n)::bigint as event_count, max(c.last) as last_occurred_at
    from (
      select r.source, r.type, r.event_count as n, r.last_occurred_at as last
      from public.telemetry_event_rollups r
      where r.tenant_id = p_tenant_id and r.hour >= v_hours
      union all
      select e.source, e.type, 1, e.occurred_at
      from public.telemetry_events e
      where e.tenant_id = p_tenant_id and e.occurred_at >= v_since and e.occurred_at < v_hours
    ) c
    group by c.source, c.type
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

create or replace function public.event_series(p_tenant_id uuid, p_since timestamptz, p_bucket interval)
returns table (bucket_start timestamptz, source text, event_count bigint)
language plpgsql stable security invoker
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
declare
  -- Buckets start at whole multiples of p_bucket from 2001-01-01 00:00 UTC
  -- (a Monday), so the same bucket covers the same time in every call. A
  -- bucket under a minute is taken as one minute: a chart has no use for
  -- finer ones, and "all" in seconds would return a row per event.
  v_bucket constant interval := greatest(p_bucket, interval '1 minute');
  v_since constant timestamptz := coalesce(p_since, '-infinity'::timestamptz);
  v_hours timestamptz := pg_catalog.date_bin(interval '1 hour', v_since, timestamptz '2001-01-01 00:00:00+00');
begin
  -- A bucket of whole hours (no months: date_bin refuses those) on the same
  -- origin holds whole rollup hours. Anything else (5 minutes for the last
  -- hour, say) counts raw events, as a window that short has few.
  if extract(year from v_bucket) <> 0 or extract(month from v_bucket) <> 0
     or extract(epoch from v_bucket) % 3600 <> 0 then
    return query
    select pg_catalog.date_bin(v_bucket, e.occurred_at, timestamptz '2001-01-01 00:00:00+00') as bucket_start,
           e.source,
           count(*) as event_count
    from public.telemetry_events e
    where e.tenant_id = p_tenant_id and e.occurred_at >= v_since
    group by 1, 2
    order by 1, 2;
    return;
  end if;

  if v_hours < v_since then
    v_hours := v_hours + interval '1 hour';
  end if;
  return query
  select pg_catalog.date_bin(v_bucket, c.at, timestamptz '2001-01-01 00:00:00+00') as bucket_start,
         c.source,
         sum(c.n)::bigint as event_count
  from (
    select r.hour as at, r.source, r.event_count as n
    from public.telemetry_event_rollups r
    where r.tenant_id = p_tenant_id and r.hour >= v_hours
    union all
    select e.occurred_at, e.source, 1
    from public.telemetry_events e
    where e.tenant_id = p_tenant_id and e.occurred_at >= v_since and e.occurred_at < v_hours
  ) c
  group by 1, 2
  order by 1, 2;
end
$$;

revoke execute on all functions in schema omnilink from public;
