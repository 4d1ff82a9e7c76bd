/**
 * Task benchmarks: throughput of no-op tasks claimed and completed through
 * the port by the connector's TaskWorker (batch 1, 10, 100), and dispatch
 * latency (task created → handler started), each next to graphile-worker on
 * the same Postgres and, for throughput, the same SQL functions called
 * directly.
 */
import { createInterface } from 'node:readline';
import { startProcess, type RunningProcess } from '@omnihub/database/testing';
import type { Sql } from '@omnihub/database';
import { graphileDispatchLatency, graphileThroughput } from './graphile.ts';
import {
  latencyPercentiles,
  runLoad,
  throughput,
  watchPeakRss,
  type Benchmark,
  type BenchRow,
  type Measurement,
} from './measure.ts';
import {
  benchProcessCommand,
  cpuMeter,
  issueBenchPortKey,
  startPortStack,
  type BenchPortKey,
  type PortStack,
} from './port-stack.ts';
import type { TaskWorkerChildOptions } from './task-worker-child.ts';

const BATCHES = [1, 10, 100] as const;
/** TaskWorkers in the worker process: each claims up to `batch` tasks at a time. */
const WORKERS = 4;
/** TaskWorker's completionBatchMs for batch > 1. */
const COMPLETION_BATCH_MS = 2;
const POLL_MS = 20;

/** A worker process (task-worker-child.ts) that can be told to stop, and read line by line. */
function startWorkerChild(options: TaskWorkerChildOptions): RunningProcess {
  const [node, args] = benchProcessCommand('scripts/bench/task-worker-child.ts');
  return startProcess(node, [...args, JSON.stringify(options)]);
}

async function stopWorkerChild(child: RunningProcess): Promise<number> {
  child.child.stdin!.write('stop\n');
  const [, handled] = await child.waitFor(/stopped handled (\d+)/, 60_000);
  await child.exited;
  return Number(handled);
}

async function seedTasks(sql: Sql, key: BenchPortKey, count: number): Promise<void> {
  await sql`
    insert into tasks (tenant_id, target, action, params)
    select ${key.tenantId}, ${key.source}, 'noop', '{"payload": {}}'::jsonb
    from generate_series(1, ${count}::int)`;
}

/**
 * Seeds `count` tasks in one transaction while the workers wait (its commit
 * is the "go": the tasks appear at once and the port's long polls wake), and
 * returns the seconds until none is queued or running.
 */
async function drain(sql: Sql, key: BenchPortKey, count: number): Promise<number> {
  await sql.begin((tx) => seedTasks(tx as unknown as Sql, key, count));
  const started = performance.now();
  for (;;) {
    // exists, not count: the poll stays cheap while thousands of tasks are left.
    const [row] = await sql`
      select exists (
        select 1 from tasks where tenant_id = ${key.tenantId} and status in ('queued', 'running')
      ) as busy`;
    if (!row!.busy) return (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Every task succeeded with exactly one attempt; then the tables are emptied for the next run. */
async function checkAndReset(sql: Sql, name: string, expected: number): Promise<void> {
  const [row] = await sql`
    select count(*) filter (where status = 'succeeded')::int as succeeded,
           count(*)::int as total,
           (select count(*)::int from task_attempts) as attempts
    from tasks`;
  if (row!.succeeded !== expected || row!.total !== expected || row!.attempts !== expected) {
    throw new Error(
      `${name}: ${row!.succeeded} of ${row!.total} tasks succeeded with ${row!.attempts} attempts; expected ${expected} each`,
    );
  }
  await sql.begin(async (tx) => {
    // A claim still polling locks task_attempts before tasks (its lease
    // sweep updates the attempts); taking them in that order first means
    // the truncate waits for it instead of deadlocking with it.
    await tx`lock table task_attempts, task_schedules, tasks in access exclusive mode`;
    await tx`truncate tasks cascade`;
  });
}

/** Where a run's CPU went, per process group, as /proc counts it: what "profile first" looked at. */
const cpuNotes: string[] = [];

async function viaTaskWorker(
  stack: PortStack,
  key: BenchPortKey,
  batch: number,
  tasks: number,
  log: (line: string) => void,
  completionBatchMs = batch > 1 ? COMPLETION_BATCH_MS : 0,
): Promise<Measurement> {
  const name = `TaskWorker via port, ${WORKERS} workers × batch ${batch}${completionBatchMs ? `, completions batched ${completionBatchMs} ms` : ''}`;
  const child = startWorkerChild({
    baseUrl: stack.functionsUrl,
    apiKey: key.apiKey,
    workers: WORKERS,
    batch,
    completionBatchMs,
    report: false,
  });
  try {
    await child.waitFor(/^ready$/m);
    const warmup = Math.max(200, Math.round(tasks / 10));
    await drain(stack.sql, key, warmup);
    await checkAndReset(stack.sql, `${name} (warm-up)`, warmup);
    log(`${name}: ${tasks} tasks`);
    const rss = watchPeakRss(() => [child.child.pid!, stack.port.child.pid!]);
    const cpu = await cpuMeter(stack, { worker: child.child.pid! });
    let seconds: number;
    let peakRssMiB: number;
    try {
      seconds = await drain(stack.sql, key, tasks);
    } finally {
      peakRssMiB = rss.stop();
    }
    const perTask = await cpu.perOperation(tasks);
    cpuNotes.push(
      `batch ${batch}${completionBatchMs ? '' : ', completions one by one'}: CPU per task ${perTask.postgres} µs in Postgres, ${perTask.port} µs in the port, ${perTask.worker!} µs in the worker process`,
    );
    await checkAndReset(stack.sql, name, tasks);
    const handled = await stopWorkerChild(child);
    if (handled !== warmup + tasks) throw new Error(`${name}: ${handled} handler runs`);
    return { name, unit: 'task', operations: tasks, seconds, latencies: [], peakRssMiB };
  } finally {
    child.child.kill('SIGKILL');
  }
}

/** The same SQL functions the port calls, from `WORKERS` loops in this process: the ceiling of the database side. */
async function viaSql(
  sql: Sql,
  key: BenchPortKey,
  batch: number,
  tasks: number,
  log: (line: string) => void,
): Promise<Measurement> {
  const name = `SQL functions direct, ${WORKERS} loops × batch ${batch}`;
  const loop = async (worker: number) => {
    const workerId = `sql-${worker}`;
    const [{ r }] = (await sql`
      select omnilink.port_claim_tasks(${key.keyId}, ${key.secretSha256}, ${workerId}, ${batch}, 300, null, true) as r`) as unknown as [
      { r: { tasks: { id: string; attempts: number }[] } },
    ];
    if (r.tasks.length === 0) return 0;
    if (batch === 1) {
      const [task] = r.tasks;
      await sql`select omnilink.port_complete_task(${key.keyId}, ${key.secretSha256}, ${task!.id}, ${workerId}, ${task!.attempts}, 'succeeded', null::jsonb, false, null::text, true)`;
    } else {
      const completions = r.tasks.map((task) => ({
        task_id: task.id,
        attempt: task.attempts,
        status: 'succeeded',
        output: null,
        output_truncated: false,
        error: null,
        retryable: true,
      }));
      await sql`select omnilink.port_complete_tasks(${key.keyId}, ${key.secretSha256}, ${workerId}, ${sql.json(completions)})`;
    }
    return r.tasks.length;
  };
  const warmup = Math.max(200, Math.round(tasks / 10));
  await seedTasks(sql, key, warmup);
  await runLoad(name, 'task', WORKERS, loop);
  await checkAndReset(sql, `${name} (warm-up)`, warmup);
  log(`${name}: ${tasks} tasks`);
  await seedTasks(sql, key, tasks);
  const measurement = await runLoad(name, 'task', WORKERS, loop);
  await checkAndReset(sql, name, tasks);
  // Latencies here are per claim+complete cycle, not per task: left out, as for the other rows.
  return { ...measurement, latencies: [] };
}

export const taskThroughput: Benchmark = {
  name: 'task-throughput',
  async run({ quick, log }) {
    const stack = await startPortStack();
    const rows: BenchRow[] = [];
    const targets = [];
    try {
      const key = await issueBenchPortKey(stack.sql, 'bench', 'bench-agent');
      for (const batch of BATCHES) {
        const tasks = quick
          ? [1_000, 4_000, 10_000][BATCHES.indexOf(batch)]!
          : [4_000, 20_000, 50_000][BATCHES.indexOf(batch)]!;
        const direct = await viaSql(stack.sql, key, batch, tasks, log);
        const graphile = await graphileThroughput({
          databaseUrl: stack.databaseUrl,
          jobs: tasks,
          batch,
          concurrency: WORKERS * batch,
          log,
        });
        const omnihub = await viaTaskWorker(stack, key, batch, tasks, log);
        rows.push(
          { measurement: { ...direct, label: 'SQL direct' } },
          { measurement: { ...graphile, label: 'graphile-worker' } },
          {
            measurement: omnihub,
            baselines: [
              { ...direct, label: 'SQL direct' },
              { ...graphile, label: 'graphile-worker' },
            ],
          },
        );
        if (batch === 100) {
          // What batched completions buy: the same workers completing one task per request.
          const unbatched = await viaTaskWorker(stack, key, batch, tasks, log, 0);
          rows.push({ measurement: unbatched, baselines: [{ ...omnihub, label: 'batched' }] });
          targets.push(
            {
              what: '≥ 12,000 tasks/s at batch 100',
              measured: `${Math.round(throughput(omnihub)).toLocaleString('en-US')} tasks/s`,
              met: throughput(omnihub) >= 12_000,
            },
            {
              what: '≥ 0.5× graphile-worker batched',
              measured: `${(throughput(omnihub) / throughput(graphile)).toFixed(2)}×`,
              met: throughput(omnihub) >= 0.5 * throughput(graphile),
            },
          );
        }
      }
    } finally {
      await stack.close();
    }
    return {
      title: 'Task throughput',
      method: `No-op tasks seeded in one transaction while the workers wait in long polls; the commit is the start, the end is when none is queued or running (polled every ${POLL_MS} ms); every task is checked to have succeeded with exactly one attempt. OmniHub: one worker process with ${WORKERS} connector TaskWorkers, each claiming up to the batch size through the port (a separate process) and, for batches over 1, sending completions through POST /tasks/complete gathered for ${COMPLETION_BATCH_MS} ms. Baselines on the same Postgres in the same run: the port's SQL functions called directly from ${WORKERS} loops (claim, then complete), and graphile-worker in its own process with the same number of concurrent jobs and its batching options. Peak RSS: port + worker processes for OmniHub, the worker process for graphile-worker.`,
      rows,
      targets,
      notes: cpuNotes.splice(0),
    };
  },
};

export const dispatchLatency: Benchmark = {
  name: 'dispatch-latency',
  async run({ quick, log }) {
    const samples = quick ? 100 : 500;
    const stack = await startPortStack();
    const rows: BenchRow[] = [];
    let omnihub: Measurement;
    try {
      const key = await issueBenchPortKey(stack.sql, 'bench', 'bench-agent');
      const graphile = await graphileDispatchLatency({
        databaseUrl: stack.databaseUrl,
        samples,
        log,
      });
      omnihub = await dispatchViaTaskWorker(stack, key, samples, log);
      rows.push({ measurement: graphile }, { measurement: omnihub });
    } finally {
      await stack.close();
    }
    const { p50, p99 } = latencyPercentiles(omnihub);
    return {
      title: 'Dispatch latency',
      method: `One task at a time, created by an SQL insert (as graphile-worker's add_job is an SQL call), timed from just before the insert is sent to the handler's first line, on one shared clock (performance.timeOrigin + now() in both processes); the next task is created once the previous one succeeded. OmniHub: one TaskWorker (batch 1) waiting in a long poll at the port, woken by LISTEN/NOTIFY. graphile-worker: concurrency 1, its LISTEN/NOTIFY wake-up. ${samples} samples each after a warm-up.`,
      rows,
      targets: [
        { what: 'p50 ≤ 10 ms', measured: `${p50.toFixed(1)} ms`, met: p50 <= 10 },
        { what: 'p99 ≤ 50 ms', measured: `${p99.toFixed(1)} ms`, met: p99 <= 50 },
      ],
    };
  },
};

async function dispatchViaTaskWorker(
  stack: Awaited<ReturnType<typeof startPortStack>>,
  key: BenchPortKey,
  samples: number,
  log: (line: string) => void,
): Promise<Measurement> {
  const name = 'TaskWorker via port, insert → handler start, long poll';
  const child = startWorkerChild({
    baseUrl: stack.functionsUrl,
    apiKey: key.apiKey,
    workers: 1,
    batch: 1,
    completionBatchMs: 0,
    report: true,
  });
  // Lines the child printed, for a sample to await by task id.
  const seen = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  const lines = createInterface({ input: child.child.stdout! });
  lines.on('line', (line) => {
    const match =
      /^started (\S+) (\S+)$/.exec(line) ?? /task (\S+) noop: (succeeded) in/.exec(line);
    if (!match) return;
    const event = `${match[2] === 'succeeded' ? 'done' : 'started'} ${match[1]}`;
    const at = Number(match[2]);
    const waiter = waiters.get(event);
    if (waiter) waiter(at);
    else seen.set(event, at);
  });
  const next = (event: string) =>
    new Promise<number>((resolve) => {
      const at = seen.get(event);
      if (at !== undefined) resolve(at);
      else waiters.set(event, resolve);
    });
  try {
    await child.waitFor(/^ready$/m);
    const sample = async () => {
      const addedAt = performance.timeOrigin + performance.now();
      const [row] = await stack.sql`
        insert into tasks (tenant_id, target, action, params)
        values (${key.tenantId}, ${key.source}, 'noop', '{"payload": {}}'::jsonb)
        returning id`;
      const id = row!.id as string;
      const at = await next(`started ${id}`);
      // Recorded (and the worker back in its long poll) before the next task.
      await next(`done ${id}`);
      return at - addedAt;
    };
    for (let i = 0; i < 20; i++) await sample();
    log(`${name}: ${samples} samples`);
    const latencies: number[] = [];
    const rss = watchPeakRss(() => [child.child.pid!, stack.port.child.pid!]);
    const t0 = performance.now();
    let peakRssMiB: number;
    try {
      for (let i = 0; i < samples; i++) latencies.push(await sample());
    } finally {
      peakRssMiB = rss.stop();
    }
    const seconds = (performance.now() - t0) / 1000;
    await stopWorkerChild(child);
    return { name, unit: 'task', operations: samples, seconds, latencies, peakRssMiB };
  } finally {
    lines.close();
    child.child.kill('SIGKILL');
  }
}
