-- Read-only port endpoints for agents and their operators: GET /whoami
-- (what the presented key is, for `pnpm omnihub doctor`) and GET /stats (the
-- key's target: task counts by status, recent throughput, the oldest ready
-- task, workers seen in the last minute).

create function omnilink.port_whoami(p_key_id text, p_secret_sha256 text)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
begin
  -- Any scope will do: every key may ask what it is.
  select * into v_auth from omnilink.authorize(
    p_key_id, p_secret_sha256, array['events:write', 'tasks:create', 'tasks:claim', 'tasks:complete']
  );
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

create function omnilink.port_stats(p_key_id text, p_secret_sha256 text)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_auth record;
  v_counts jsonb;
begin
  select * into v_auth
  from omnilink.authorize(p_key_id, p_secret_sha256, array['tasks:create', 'tasks:claim', 'tasks:complete']);
  if v_auth.error is not null then
    return jsonb_strip_nulls(to_jsonb(v_auth));
  end if;

  select jsonb_object_agg(s.status, coalesce(c.n, 0))
  into v_counts
  from unnest(array['queued', 'waiting_approval', 'approved', 'running', 'succeeded', 'failed', 'canceled']) as s(status)
  left join (
    select t.status, count(*) as n from public.tasks t
    where t.tenant_id = v_auth.tenant_id and t.target = v_auth.source
    group by t.status
  ) c on c.status = s.status;

  return jsonb_build_object(
    'target', v_auth.source,
    'tasks', v_counts,
    'finished_last_5m', (
      select count(*) from public.tasks t
      where t.tenant_id = v_auth.tenant_id and t.target = v_auth.source and t.finished_at > now() - interval '5 minutes'
    ),
    'oldest_ready_age_seconds', (
      select floor(extract(epoch from now() - min(coalesce(t.run_at, t.created_at))))::integer
      from public.tasks t
      where t.tenant_id = v_auth.tenant_id and t.target = v_auth.source
        and t.status in ('queued', 'approved') and (t.run_at is null or t.run_at <= now())
    ),
    'workers', coalesce((
      select jsonb_agg(
        jsonb_build_object('worker_id', w.worker_id, 'last_seen_at', w.last_seen_at, 'last_claim_at', w.last_claim_at)
        order by w.last_seen_at desc
      )
      from public.workers w
      where w.tenant_id = v_auth.tenant_id and w.source = v_auth.source and w.last_seen_at > now() - interval '1 minute'
    ), '[]'::jsonb),
    'generated_at', now()
  );
end
$$;

revoke execute on all functions in schema omnilink from public;
grant execute on function
  omnilink.port_whoami(text, text),
  omnilink.port_stats(text, text)
to service_role;
