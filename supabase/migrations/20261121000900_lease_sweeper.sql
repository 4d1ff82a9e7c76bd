-- Expired leases of every tenant, swept in the background. Correctness does
-- not depend on this: claims, heartbeats, completions and task reads expire
-- the leases they touch (omnilink.expire_leases). The sweep only makes the
-- queue tell the truth sooner when no worker of a target is asking: a task
-- whose worker died shows queued (or failed) in the dashboard within a
-- sweep, not at the next claim.
--
-- In production pg_cron runs it every 30 seconds; the migration schedules it
-- only where the extension can be had (Supabase has it; a bare Postgres,
-- like the local stack's embedded one, does not, and there the local stack
-- runs the same function on a timer).

create function omnilink.reclaim_expired_leases() returns integer
language plpgsql security definer
set search_path = ''
as $$
declare
  v_pair record;
  v_total integer := 0;
begin
  -- Per (tenant, target), as the claim does it, through the running-lease index.
  for v_pair in
    select distinct t.tenant_id, t.target
    from public.tasks t
    where t.status = 'running' and t.lease_expires_at <= now()
  loop
    v_total := v_total + omnilink.expire_leases(v_pair.tenant_id, v_pair.target);
  end loop;
  return v_total;
end
$$;
comment on function omnilink.reclaim_expired_leases() is
  'Ends every expired lease (back to queued, or failed with lease_expired when the attempts are used up) and closes its attempt; returns how many attempts it closed. Run by pg_cron in production and by the local stack on a timer.';
revoke execute on function omnilink.reclaim_expired_leases() from public;
grant execute on function omnilink.reclaim_expired_leases() to service_role;

do $$
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron') then
    -- pg_cron also needs to be preloaded; where it is installed but not, say
    -- so and go on: the sweep is an aid, not what keeps leases correct.
    begin
      create extension if not exists pg_cron;
      perform cron.schedule(
        'omnilink-reclaim-expired-leases',
        '30 seconds',
        'select omnilink.reclaim_expired_leases()'
      );
    exception when others then
      raise warning 'pg_cron could not be used (%); schedule omnilink.reclaim_expired_leases() another way, or rely on claims to reclaim expired leases.', sqlerrm;
    end;
  end if;
end
$$;
