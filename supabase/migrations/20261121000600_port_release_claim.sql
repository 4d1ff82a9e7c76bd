-- Lets the port hand back tasks it claimed for a caller that hung up before
-- the answer left: the claim never reached a worker, so the tasks go back to
-- where they were (queued, or approved) and the attempt is not counted.

create function omnilink.port_release_claim(
  p_key_id text,
  p_secret_sha256 text,
  p_worker_id text,
  p_task_ids uuid[]
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
  v_released integer;
begin
  -- Part of the claim it undoes: checks the key, spends no rate limit.
  select * into v_auth from omnilink.authorize(p_key_id, p_secret_sha256, array['tasks:claim'], false);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;
  with released as (
    update public.tasks t
    set status = case when t.require_approval then 'approved' else 'queued' end,
        attempts = t.attempts - 1,
        lease_expires_at = null,
        updated_at = now()
    where t.id = any (p_task_ids) and t.tenant_id = v_auth.tenant_id and t.target = v_auth.source
      and t.status = 'running' and t.claimed_by = p_worker_id
    returning t.id, t.attempts + 1 as attempt
  ),
  forgotten as (
    delete from public.task_attempts a
    using released r
    where a.task_id = r.id and a.attempt = r.attempt and a.finished_at is null
  )
  select count(*) into v_released from released;
  return jsonb_build_object('released', v_released);
end
$$;

revoke execute on all functions in schema omnilink from public;
grant execute on function omnilink.port_release_claim(text, text, text, uuid[]) to service_role;
