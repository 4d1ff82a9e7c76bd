-- GET /metrics counts a tenant's events from the hourly rollups (001700)
-- instead of every event: the scrape of a tenant with 1,000,000 events took
-- 350–420 ms, ~250 ms of it counting. Same numbers: the rollups hold every
-- stored event once. Otherwise the function is 001300's, unchanged.

create or replace function omnilink.port_metrics(p_key_id text, p_secret_sha256 text)
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
        select r.source, r.type, sum(r.event_count)::bigint as n
        from public.telemetry_event_rollups r
        where r.tenant_id = v_tenant_id
        group by r.source, r.type
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
