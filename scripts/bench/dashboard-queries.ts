/**
 * The dashboard at scale: OmniDash's own data functions (apps/omnidash/src/data)
 * through the real supabase-js client, signed in as an operator, against
 * the local stack (its PostgREST stand-in and RPCs under RLS) on a Postgres
 * holding 1,000,000 events and 200,000 tasks for the tenant, and a second
 * tenant's rows beside them.
 */
import { pathToFileURL } from 'node:url';
import {
  connectDatabase,
  freePort,
  migrateDatabase,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
  type Sql,
} from '@omnihub/database';
import { startLocalStack, type LocalStack } from '@omnihub/local-stack';
import type { SupabaseClient } from '@supabase/supabase-js';
import { fetchDeadLetters } from '../../apps/omnidash/src/data/runner/dead-letters-query.ts';
import { fetchRunnerStats } from '../../apps/omnidash/src/data/runner/runner-stats-query.ts';
import { fetchTaskAttempts } from '../../apps/omnidash/src/data/tasks/tasks-attempts-query.ts';
import { fetchTaskChain } from '../../apps/omnidash/src/data/tasks/tasks-chain-query.ts';
import { fetchTask } from '../../apps/omnidash/src/data/tasks/tasks-detail-query.ts';
import { fetchTasks } from '../../apps/omnidash/src/data/tasks/tasks-query.ts';
import { fetchTelemetryEvents } from '../../apps/omnidash/src/data/telemetry/telemetry-events-query.ts';
import { fetchTelemetrySeries } from '../../apps/omnidash/src/data/telemetry/telemetry-series-query.ts';
import { fetchTelemetryStats } from '../../apps/omnidash/src/data/telemetry/telemetry-stats-query.ts';
import {
  timeWindow,
  windowSince,
  type TimeWindowId,
} from '../../apps/omnidash/src/data/telemetry/time-window.ts';
import { fetchWorkers } from '../../apps/omnidash/src/data/workers/workers-query.ts';
import {
  latencyPercentiles,
  renderSection,
  type Benchmark,
  type BenchOptions,
  type BenchSection,
  type Measurement,
} from './measure.ts';
import {
  insertMember,
  issueBenchKey,
  latencyTarget,
  signedInClient,
  tempDir,
} from './stack-support.ts';

const TARGET_P95_MS = 50;
/** Rows per insert statement: progress to show, and a bound on one statement's memory. */
const EVENT_CHUNK = 100_000;
/** A multiple of 10, so no chain (10 tasks: 3 linked, 7 alone) straddles two chunks. */
const TASK_CHUNK = 50_000;

interface Scale {
  events: number;
  tasks: number;
  repetitions: number;
  /** A slow query stops early once it has minRepetitions and has run this long. */
  budgetMs: number;
  minRepetitions: number;
}

const FULL: Scale = {
  events: 1_000_000,
  tasks: 200_000,
  repetitions: 100,
  budgetMs: 15_000,
  minRepetitions: 20,
};
const QUICK: Scale = {
  events: 50_000,
  tasks: 10_000,
  repetitions: 15,
  budgetMs: 1_500,
  minRepetitions: 5,
};

interface Tenant {
  id: string;
  integrations: { 'lead-gen': string; 'apex-sales': string };
}

async function run({ quick, log }: BenchOptions): Promise<BenchSection> {
  const scale = quick ? QUICK : FULL;
  const dir = await tempDir('dashboard');
  let postgres: EmbeddedPostgresHandle | undefined;
  let admin: Sql | undefined;
  let stack: LocalStack | undefined;
  try {
    postgres = await startEmbeddedPostgres({ dataDir: dir.path, port: await freePort() });
    admin = connectDatabase(postgres.url, { max: 4, applicationName: 'bench-dashboard' });
    await migrateDatabase(admin);

    const tenant = await arrangeTenant(admin, 'bench-dashboard');
    const other = await arrangeTenant(admin, 'bench-other');

    let t0 = performance.now();
    await loadEvents(admin, tenant, other, scale.events, (done) =>
      log(`dashboard-queries: ${done.toLocaleString('en-US')} events loaded…`),
    );
    const eventSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await loadTasks(admin, tenant, other, scale.tasks, (done) =>
      log(`dashboard-queries: ${done.toLocaleString('en-US')} tasks loaded…`),
    );
    await loadAttemptsAndWorkers(admin, [tenant, other]);
    const taskSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    // What autovacuum does within a minute or so of a bulk load: statistics,
    // and the visibility map that lets counts be index-only. Measuring before
    // it would time a state no running system stays in.
    await admin`vacuum analyze`;
    const analyzeSeconds = (performance.now() - t0) / 1000;
    log(
      `dashboard-queries: loaded in ${(eventSeconds + taskSeconds).toFixed(1)} s, vacuum analyze ${analyzeSeconds.toFixed(1)} s`,
    );

    // Started after the load: Realtime's slot begins now, so the load is not streamed.
    stack = await startLocalStack({
      dataDir: dir.path,
      port: await freePort(),
      databaseUrl: postgres.url,
      log: () => {},
    });
    const operator = await insertMember(admin, tenant.id, 'operator');
    const client = await signedInClient(stack.apiUrl, stack.anonKey, operator);
    const task = await pickTasks(admin, tenant.id);

    const rows: Measurement[] = [];
    for (const [name, query] of screenQueries(client, tenant.id, task)) {
      const measurement = await timeQuery(name, query, scale);
      log(
        `dashboard-queries: ${name}: ${measurement.operations} × p50 ${latencyPercentiles(measurement).p50.toFixed(1)} ms`,
      );
      rows.push(measurement);
    }

    return {
      title: 'Dashboard queries at scale',
      method:
        `A fresh embedded Postgres (default settings) with the migrations holds ${scale.events.toLocaleString('en-US')} events and ` +
        `${scale.tasks.toLocaleString('en-US')} tasks for one tenant and a tenth as many for another, interleaved in arrival order ` +
        `(set-based SQL: occurred_at / created_at moving forward over 30 days; 10 (source, type) pairs over 2 sources; tasks over 2 targets ` +
        `in all 7 statuses, unfinished ones only among the latest fifth, 3 of every 10 in a depends_on chain; one attempt per started task; then ANALYZE). ` +
        `The local stack runs in this process on that database; OmniDash's own data functions (apps/omnidash/src/data) are called ` +
        `through supabase-js signed in as an operator of the tenant (RLS applies), one call at a time, each ${scale.repetitions} times after ` +
        `5 warm-up calls (a query past ${scale.budgetMs / 1000} s in all stops at ${scale.minRepetitions}). Latency is the data function's ` +
        `call, HTTP and the REST stand-in included; windows start at the minute, as the screen's do.`,
      rows: rows.map((measurement) => ({ measurement })),
      targets: rows.map((m) => latencyTarget(m.name, m, 'p95', TARGET_P95_MS)),
      notes: [
        `Load: events ${eventSeconds.toFixed(1)} s, tasks, attempts and workers ${taskSeconds.toFixed(1)} s, VACUUM ANALYZE ${analyzeSeconds.toFixed(1)} s (as autovacuum would soon after such a load).`,
      ],
    };
  } finally {
    await stack?.stop();
    await admin?.end({ timeout: 2 });
    await postgres?.stop();
    await dir.remove();
  }
}

async function arrangeTenant(sql: Sql, slug: string): Promise<Tenant> {
  const leadGen = await issueBenchKey(sql, slug, 'lead-gen');
  const apexSales = await issueBenchKey(sql, slug, 'apex-sales');
  return {
    id: leadGen.tenantId,
    integrations: { 'lead-gen': leadGen.integrationId, 'apex-sales': apexSales.integrationId },
  };
}

/**
 * Rows are numbered in the order they arrive: every OTHER_EVERY-th row (or
 * group of 10 tasks) is the other tenant's, and time moves forward with the
 * number over the last 30 days (with up to a minute of jitter), so the
 * table's pages hold a period's rows together, as a live system's do.
 */
const OTHER_EVERY = 11;

/**
 * The tenant's `count` events and the other tenant's count / 10 among them,
 * half per source, five types each (ten (source, type) pairs; lead_ingested
 * and call_attempted twice as common as the rest).
 */
async function loadEvents(
  sql: Sql,
  tenant: Tenant,
  other: Tenant,
  count: number,
  progress: (done: number) => void,
): Promise<void> {
  const total = Math.round((count * OTHER_EVERY) / (OTHER_EVERY - 1));
  for (let from = 0; from < total; from += EVENT_CHUNK) {
    const to = Math.min(total, from + EVENT_CHUNK) - 1;
    await sql`
      with g as (
        select n, random() as r, (n / ${OTHER_EVERY}::int) % 2 = 0 as lead_gen,
          n % ${OTHER_EVERY}::int = ${OTHER_EVERY - 1}::int as other,
          now() - interval '30 days' * (1 - n::float8 / ${total}::int) - random() * interval '1 minute' as at
        from generate_series(${from}::int, ${to}::int) n
      ),
      typed as (
        select g.*,
          case when lead_gen
            then (array['lead_ingested', 'lead_ingested', 'lead_qualified', 'lead_enriched', 'queue_seeded', 'error'])[1 + floor(r * 6)::int]
            else (array['call_attempted', 'call_attempted', 'call_connected', 'call_failed', 'meeting_booked', 'error'])[1 + floor(r * 6)::int]
          end as type
        from g
      )
      insert into public.telemetry_events
        (tenant_id, integration_id, source, type, idempotency_key, occurred_at, received_at, data)
      select case when other then ${other.id}::uuid else ${tenant.id}::uuid end,
        case
          when other and lead_gen then ${other.integrations['lead-gen']}::uuid
          when other then ${other.integrations['apex-sales']}::uuid
          when lead_gen then ${tenant.integrations['lead-gen']}::uuid
          else ${tenant.integrations['apex-sales']}::uuid
        end,
        case when lead_gen then 'lead-gen' else 'apex-sales' end,
        type,
        'load-' || n,
        at, at,
        case when type = 'queue_seeded'
          then jsonb_build_object('queue_size', floor(r * 50)::int, 'qualified_leads', floor(r * 50)::int)
          else jsonb_build_object('lead_id', n::text, 'url', 'https://example.com/' || n, 'score', round(r::numeric, 2))
        end
      from typed`;
    progress(to + 1);
  }
}

/**
 * The tenant's `count` tasks and the other tenant's count / 10 among them,
 * in groups of 10 of one tenant and target: the 2nd depends on the 1st and
 * the 3rd on the 2nd. The latest fifth has every status (30% queued, 10%
 * running, 10% waiting for approval, 10% approved, 25% succeeded, 10%
 * failed, 5% canceled); older tasks have finished (85% succeeded, 10%
 * failed, 5% canceled).
 */
async function loadTasks(
  sql: Sql,
  tenant: Tenant,
  other: Tenant,
  count: number,
  progress: (done: number) => void,
): Promise<void> {
  const total = Math.round((count * OTHER_EVERY) / (OTHER_EVERY - 1) / 10) * 10;
  for (let from = 0; from < total; from += TASK_CHUNK) {
    const to = Math.min(total, from + TASK_CHUNK) - 1;
    await sql`
      with g as materialized (
        select n, omnilink.uuid_v7() as id, random() as r,
          (n / 10) % ${OTHER_EVERY}::int = ${OTHER_EVERY - 1}::int as other,
          case when (n / 10) % 2 = 0 then 'lead-gen' else 'apex-sales' end as target,
          n::float8 / ${total}::int >= 0.8 as recent,
          now() - interval '30 days' * (1 - n::float8 / ${total}::int) - random() * interval '1 minute' as created
        from generate_series(${from}::int, ${to}::int) n
      ),
      linked as (
        select g.*, lag(id) over (order by n) as previous,
          case
            when recent then case when r < 0.30 then 'queued' when r < 0.40 then 'running'
              when r < 0.50 then 'waiting_approval' when r < 0.60 then 'approved'
              when r < 0.85 then 'succeeded' when r < 0.95 then 'failed' else 'canceled' end
            else case when r < 0.85 then 'succeeded' when r < 0.95 then 'failed' else 'canceled' end
          end as status
        from g
      )
      insert into public.tasks
        (id, tenant_id, target, action, params, status, priority, require_approval, attempts, max_attempts,
         claimed_by, lease_expires_at, output, error, depends_on, has_dependents,
         approved_at, finished_at, created_at, updated_at)
      select id, case when other then ${other.id}::uuid else ${tenant.id}::uuid end, target,
        (array['discover', 'enrich', 'score'])[1 + least(n % 10, 2)],
        jsonb_build_object('payload', jsonb_build_object('n', n)),
        status, 1 + (n % 10), status in ('waiting_approval', 'approved'),
        case status when 'succeeded' then 1 when 'failed' then 3 when 'running' then 1 else 0 end, 3,
        case when status = 'running' then 'worker-' || (n % 4) end,
        case when status = 'running' then now() + interval '5 minutes' end,
        case when status = 'succeeded' then '{"ok": true}'::jsonb end,
        case status when 'failed' then 'upstream answered 500' when 'canceled' then 'canceled by an operator' end,
        case when n % 10 in (1, 2) then array[previous] else '{}'::uuid[] end,
        n % 10 in (0, 1),
        case when status = 'approved' then created + interval '1 minute' end,
        case when status in ('succeeded', 'failed', 'canceled') then created + interval '2 minutes' end,
        created,
        created + case when status in ('queued', 'waiting_approval') then interval '0' else interval '2 minutes' end
      from linked`;
    progress(to + 1);
  }
}

/** One attempt per started task (its last), and four workers per source seen just now. */
async function loadAttemptsAndWorkers(sql: Sql, tenants: Tenant[]): Promise<void> {
  const ids = tenants.map((tenant) => tenant.id);
  await sql`
    insert into public.task_attempts (task_id, tenant_id, attempt, worker_id, started_at, finished_at, outcome, error)
    select t.id, t.tenant_id, t.attempts, 'worker-' || (abs(hashtext(t.id::text)) % 4), t.created_at + interval '1 minute',
           t.finished_at, case t.status when 'succeeded' then 'succeeded' when 'failed' then 'failed' end, t.error
    from public.tasks t
    where t.tenant_id = any(${ids}::uuid[]) and t.attempts > 0`;
  for (const tenant of tenants) {
    for (const [source, integration] of Object.entries(tenant.integrations)) {
      await sql`
        insert into public.workers (tenant_id, integration_id, source, worker_id, first_seen_at, last_seen_at, last_claim_at)
        select ${tenant.id}::uuid, ${integration}::uuid, ${source}, 'worker-' || n, now() - interval '1 day', now(), now()
        from generate_series(0, 3) n`;
    }
  }
}

/** Tasks the detail screen would open: the middle of a chain (upstream and downstream), and any. */
async function pickTasks(sql: Sql, tenantId: string): Promise<{ chainMiddle: string }> {
  const [row] = await sql`
    select t.id from public.tasks t
    where t.tenant_id = ${tenantId} and cardinality(t.depends_on) = 1 and t.has_dependents
    order by t.created_at desc limit 1`;
  if (!row) throw new Error('the load made no chains');
  return { chainMiddle: row.id as string };
}

/** The screens' reads, named as the table shows them. */
function screenQueries(
  client: SupabaseClient,
  tenantId: string,
  task: { chainMiddle: string },
): [string, () => Promise<unknown>][] {
  const now = Date.now();
  const since = (id: TimeWindowId) => windowSince(timeWindow(id), now);
  const bucket = (id: TimeWindowId) => timeWindow(id).bucket;
  const windows: [TimeWindowId, string][] = [
    ['24h', '24 h'],
    ['7d', '7 d'],
    ['all', 'all time (30 d)'],
  ];
  return [
    ...windows.map(([id, label]): [string, () => Promise<unknown>] => [
      `agent panel stats, ${label}`,
      () => fetchTelemetryStats(client, tenantId, since(id)),
    ]),
    ...windows.map(([id, label]): [string, () => Promise<unknown>] => [
      `event chart series, ${label} by ${bucket(id)}`,
      () => fetchTelemetrySeries(client, tenantId, since(id), bucket(id)),
    ]),
    [
      'recent events, 24 h, page 1',
      () =>
        fetchTelemetryEvents(client, tenantId, {
          since: since('24h'),
          source: null,
          type: null,
          page: 0,
        }),
    ],
    [
      'recent events, all time, type call_connected, page 20',
      () =>
        fetchTelemetryEvents(client, tenantId, {
          since: null,
          source: null,
          type: 'call_connected',
          page: 19,
        }),
    ],
    ['workers', () => fetchWorkers(client, tenantId)],
    [
      'task list, page 1',
      () => fetchTasks(client, tenantId, { status: null, target: null, page: 0 }),
    ],
    [
      'task list, page 100',
      () => fetchTasks(client, tenantId, { status: null, target: null, page: 99 }),
    ],
    [
      'task list, status failed, page 1',
      () => fetchTasks(client, tenantId, { status: 'failed', target: null, page: 0 }),
    ],
    [
      'task list, status queued + target apex-sales, page 1',
      () => fetchTasks(client, tenantId, { status: 'queued', target: 'apex-sales', page: 0 }),
    ],
    ['runner stats', () => fetchRunnerStats(client, tenantId)],
    ['dead letters, page 1', () => fetchDeadLetters(client, tenantId, { target: null, page: 0 })],
    [
      'dead letters, target lead-gen, page 5',
      () => fetchDeadLetters(client, tenantId, { target: 'lead-gen', page: 4 }),
    ],
    ['task detail', () => fetchTask(client, tenantId, task.chainMiddle)],
    ['task attempts', () => fetchTaskAttempts(client, tenantId, task.chainMiddle)],
    ['task chain', () => fetchTaskChain(client, tenantId, task.chainMiddle)],
  ];
}

async function timeQuery(
  name: string,
  query: () => Promise<unknown>,
  scale: Scale,
): Promise<Measurement> {
  for (let i = 0; i < 5; i++) await query();
  const latencies: number[] = [];
  const started = performance.now();
  while (latencies.length < scale.repetitions) {
    const t0 = performance.now();
    await query();
    latencies.push(performance.now() - t0);
    if (latencies.length >= scale.minRepetitions && performance.now() - started > scale.budgetMs)
      break;
  }
  return {
    name,
    unit: 'call',
    operations: latencies.length,
    seconds: (performance.now() - started) / 1000,
    latencies,
  };
}

export const dashboardQueries: Benchmark = { name: 'dashboard-queries', run };

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const section = await dashboardQueries.run({
    quick: process.argv.includes('--quick'),
    log: console.log,
  });
  console.log(`\n${renderSection(section)}`);
}
