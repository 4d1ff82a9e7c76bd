/**
 * pnpm bench:port — OmniLink Port throughput and latency, each figure next
 * to a baseline measured in the same run on the same Postgres:
 *   claim + complete: HTTP (claim batch 1 and 10, one complete per task)
 *     vs. the same omnilink.port_* functions called directly;
 *   event ingest: HTTP single events and batches of 100 vs. the same
 *     function called directly.
 * The port server and the load generator share this process (and the
 * machine's cores with Postgres), so HTTP figures include client cost.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import {
  connectDatabase,
  freePort,
  migrateDatabase,
  startEmbeddedPostgres,
  type Sql,
} from '@omnihub/database';
import { createPortApp, sha256Hex, TaskSignals } from '@omnihub/port';
import { callBudget, printTable, runLoad, type Measurement } from './measure.ts';

const TASKS_PER_RUN = 3_000;
const EVENTS_SINGLE = 3_000;
const EVENTS_BATCHED = 20_000;
const EVENT_BATCH_SIZE = 100;
const CONCURRENCY = 8;
const WARMUP_TASKS = 300;

interface Key {
  apiKey: string;
  keyId: string;
  secretSha256: string;
  tenantId: string;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'omnihub-bench-'));
  const postgres = await startEmbeddedPostgres({ dataDir, port: await freePort() });
  const sql = connectDatabase(postgres.url, { max: CONCURRENCY + 2, applicationName: 'bench' });
  const portSql = connectDatabase(postgres.url, {
    max: CONCURRENCY + 2,
    applicationName: 'bench-port',
  });
  const signals = await TaskSignals.listen(portSql);
  const app = createPortApp({ sql: portSql, signals, log: () => {} });
  const httpPort = await freePort();
  const server = serve({ fetch: app.fetch, port: httpPort, hostname: '127.0.0.1' });
  const base = `http://127.0.0.1:${httpPort}/omnilink-port`;

  try {
    await migrateDatabase(sql);
    const [{ version }] =
      (await sql`select current_setting('server_version') as version`) as unknown as [
        { version: string },
      ];
    console.log(
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; Postgres ${version} (embedded, default durability).`,
    );
    console.log(
      `Load: ${CONCURRENCY} concurrent loops; tasks per run ${TASKS_PER_RUN}; events ${EVENTS_SINGLE} single, ${EVENTS_BATCHED} batched.\n`,
    );

    const key = await issueKey(sql);
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as any;
    };

    // Claim + complete ------------------------------------------------------
    const viaHttp = (batch: number) => async (loop: number) => {
      const { tasks } = await post('/tasks/claim', { worker_id: `http-${loop}`, max_tasks: batch });
      for (const task of tasks)
        await post(`/tasks/${task.id}/complete`, {
          worker_id: `http-${loop}`,
          status: 'succeeded',
          output: { ok: true },
        });
      return tasks.length;
    };
    const viaSql = (batch: number) => async (loop: number) => {
      const [{ r }] =
        (await sql`select omnilink.port_claim_tasks(${key.keyId}, ${key.secretSha256}, ${`sql-${loop}`}, ${batch}, 300, null, true) as r`) as any;
      for (const task of r.tasks) {
        await sql`select omnilink.port_complete_task(${key.keyId}, ${key.secretSha256}, ${task.id}, ${`sql-${loop}`}, null, 'succeeded', ${sql.json({ ok: true })}::jsonb, false, null::text, true)`;
      }
      return r.tasks.length;
    };
    const taskRun = async (
      name: string,
      worker: (loop: number) => Promise<number>,
      total: number,
    ) => {
      await seedTasks(sql, key.tenantId, total);
      const measurement = await runLoad(name, 'task', CONCURRENCY, worker);
      if (measurement.operations !== total)
        throw new Error(`${name}: ${measurement.operations} of ${total} tasks done`);
      const [{ left }] =
        (await sql`select count(*)::int as left from tasks where status <> 'succeeded'`) as any;
      if (left !== 0) throw new Error(`${name}: ${left} tasks not succeeded`);
      await sql`truncate tasks cascade`;
      return measurement;
    };

    await taskRun('warm-up', viaHttp(10), WARMUP_TASKS);
    await taskRun('warm-up', viaSql(10), WARMUP_TASKS);
    const rows: { measurement: Measurement; baseline?: Measurement }[] = [];
    for (const batch of [1, 10]) {
      const baseline = await taskRun(
        `claim+complete, SQL direct, batch ${batch}`,
        viaSql(batch),
        TASKS_PER_RUN,
      );
      const http = await taskRun(
        `claim+complete, HTTP, batch ${batch}`,
        viaHttp(batch),
        TASKS_PER_RUN,
      );
      rows.push({ measurement: baseline }, { measurement: http, baseline });
    }

    // Event ingest --------------------------------------------------------------
    let counter = 0;
    const nextEvents = (n: number) =>
      Array.from({ length: n }, () => ({
        type: 'lead_ingested',
        idempotency_key: `bench-${counter++}`,
        data: { lead_id: String(counter), url: 'https://example.com', role: 'CTO', score: 0.82 },
      }));
    // Each run sends exactly `total` events in calls of `n`.
    const eventRun = (
      name: string,
      total: number,
      n: number,
      send: (events: unknown[]) => Promise<unknown>,
    ) => {
      const budget = callBudget(total / n);
      return runLoad(name, 'event', CONCURRENCY, async () => {
        if (!budget.take()) return 0;
        await send(nextEvents(n));
        return n;
      });
    };
    const direct = (events: unknown[]) =>
      sql`select omnilink.port_emit_events(${key.keyId}, ${key.secretSha256}, ${sql.json(events as never)}::jsonb)`;
    const singleBaseline = await eventRun('events, SQL direct, single', EVENTS_SINGLE, 1, direct);
    const single = await eventRun('events, HTTP, single', EVENTS_SINGLE, 1, (events) =>
      post('/events', events[0]),
    );
    const batchBaseline = await eventRun(
      `events, SQL direct, batch ${EVENT_BATCH_SIZE}`,
      EVENTS_BATCHED,
      EVENT_BATCH_SIZE,
      direct,
    );
    const batched = await eventRun(
      `events, HTTP, batch ${EVENT_BATCH_SIZE}`,
      EVENTS_BATCHED,
      EVENT_BATCH_SIZE,
      (events) => post('/events', { events }),
    );
    rows.push(
      { measurement: singleBaseline },
      { measurement: single, baseline: singleBaseline },
      { measurement: batchBaseline },
      { measurement: batched, baseline: batchBaseline },
    );

    printTable(rows);
    console.log(
      '\nLatency is per request (a claim, a completion, or one POST /events). "vs baseline" = HTTP throughput / direct SQL throughput.',
    );
  } finally {
    server.close();
    await signals.close();
    await portSql.end();
    await sql.end();
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function issueKey(sql: Sql): Promise<Key> {
  const [{ key }] = (await sql`
    select omnilink.issue_api_key(
      omnilink.ensure_integration(omnilink.ensure_tenant('bench'), 'bench-agent'),
      string_to_array('events:write,tasks:create,tasks:claim,tasks:complete', ',')
    ) as key`) as any;
  const secret = (key.api_key as string).split('.')[2]!;
  return {
    apiKey: key.api_key,
    keyId: key.key_id,
    secretSha256: await sha256Hex(secret),
    tenantId: key.tenant_id,
  };
}

async function seedTasks(sql: Sql, tenantId: string, count: number): Promise<void> {
  await sql`
    insert into tasks (tenant_id, target, action, params)
    select ${tenantId}, 'bench-agent', 'noop', '{"payload": {}}'::jsonb from generate_series(1, ${count})`;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
