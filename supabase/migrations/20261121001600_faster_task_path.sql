-- Speed of the hot paths (claim, complete, event ingest), found by
-- profiling the Postgres backends under `pnpm bench` (scripts/bench and
-- docs/benchmarks.md say what each change bought). Behaviour is unchanged.

-- 1. Format checks without counted repetition. CHECK constraints run on
--    every UPDATE of a row, whatever columns change, and `{1,100}` makes the
--    regex engine build a 100-state automaton on each call: it was ~15% of a
--    claim's CPU. The same rule, as a length and a one-state regex.
alter table public.tasks
  drop constraint tasks_target_format,
  add constraint tasks_target_format
    check (char_length(target) between 1 and 100 and target ~ '^[a-z0-9_.:-]+$'),
  drop constraint tasks_action_format,
  add constraint tasks_action_format
    check (char_length(action) between 1 and 100 and action ~ '^[a-z0-9_.:-]+$');
alter table public.telemetry_events
  drop constraint telemetry_events_type_format,
  add constraint telemetry_events_type_format
    check (char_length(type) between 1 and 100 and type ~ '^[a-z0-9_.:-]+$');

-- 2. The status trigger only where it has work: a task becoming ready
--    (notify waiting claims) or one that others depend on finishing. It
--    returned at once for every other change, but the call itself cost a
--    claim and a completion each a plpgsql invocation per task.
drop trigger tasks_after_status_change on public.tasks;
create trigger tasks_after_status_change
after update of status on public.tasks
for each row
when (old.status is distinct from new.status and (new.status in ('queued', 'approved') or new.has_dependents))
execute function omnilink.on_task_status_change();

-- 3. An attempt's tenant is its task's: the task's own foreign key (with
--    cascade) already ties it to the tenant, and checking the tenant again
--    locked the tenant row FOR KEY SHARE once per claimed task.
alter table public.task_attempts drop constraint task_attempts_tenant_id_fkey;

-- 4. An empty claim asks when a delayed task becomes due; without this index
--    that was a scan of the tenant's whole task history.
create index tasks_scheduled_idx on public.tasks (tenant_id, target, run_at)
  where status in ('queued', 'approved') and run_at is not null;

-- 5. Room on each page for an attempt's one update (at its end), so the
--    update can stay on the page without new index entries (a HOT update).
alter table public.task_attempts set (fillfactor = 80);
