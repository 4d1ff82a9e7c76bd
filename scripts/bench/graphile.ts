/**
 * graphile-worker baselines for the task benchmarks, on the Postgres the
 * OmniHub side uses: no-op throughput with graphile's batching options, and
 * add_job → task-start latency with an idle worker woken by LISTEN/NOTIFY.
 * The worker runs in its own process (graphile-worker-child.ts), so its peak
 * RSS is measured alone.
 *
 * `node --import tsx scripts/bench/graphile.ts` runs a short demonstration
 * on an embedded Postgres of its own.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connectDatabase, freePort, startEmbeddedPostgres, type Sql } from '@omnihub/database';
import type { GraphileChildOptions } from './graphile-worker-child.ts';
import { printTable, watchPeakRss, type Measurement } from './measure.ts';

const CHILD_SCRIPT = fileURLToPath(new URL('./graphile-worker-child.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
/** Set on graphile's own connections, to count them in pg_stat_activity. */
const APPLICATION_NAME = 'bench-graphile-worker';
/** How often the parent looks for jobs left while a run drains. */
const POLL_MS = 20;
/** A run that removes no job for this long has failed (it never depends on speed otherwise). */
const STALL_MS = 60_000;
/** Completions (and failures) batched for this long when batch > 1. */
const BATCH_DELAY_MS = 5;
const LATENCY_WARMUP_SAMPLES = 20;

/** Drains `jobs` no-op jobs with graphile-worker in a child process; throughput counted from "go" until the last job is gone from the database. */
export async function graphileThroughput(options: {
  databaseUrl: string;
  jobs: number;
  batch: 1 | 10 | 100;
  /** Jobs running at once (default: `batch`); the local queue still fetches `batch` at a time. */
  concurrency?: number;
  log: (line: string) => void;
}): Promise<Measurement> {
  const { databaseUrl, jobs, batch, log } = options;
  const concurrency = options.concurrency ?? batch;
  // As on the OmniHub side: `concurrency` jobs at once, fetched B at a time
  // — for B > 1 with graphile's batching: a local queue of B jobs fetched in
  // one query, and completions batched. Pool size as graphile's docs recommend:
  // max(10, concurrency + 2); the pool opens connections only on demand.
  const childOptions: GraphileChildOptions = {
    connectionString: withApplicationName(databaseUrl),
    mode: 'throughput',
    concurrency,
    maxPoolSize: Math.max(10, concurrency + 2),
    ...(batch > 1 ? { localQueueSize: batch, batchDelayMs: BATCH_DELAY_MS } : {}),
  };
  const name = [
    `graphile-worker, concurrency ${concurrency}`,
    childOptions.localQueueSize ? `localQueue ${childOptions.localQueueSize}` : 'no localQueue',
    childOptions.batchDelayMs !== undefined
      ? `completeJobBatchDelay ${childOptions.batchDelayMs} ms`
      : 'no batch completion',
    `maxPoolSize ${childOptions.maxPoolSize}`,
  ].join(', ');

  const sql = connectDatabase(databaseUrl, { max: 2, applicationName: 'bench-graphile' });
  const child = startChild(childOptions);
  try {
    await readyOnEmptyQueue(sql, child, name);

    // Warm-up through the same path: JIT, prepared statements, pool connections.
    const warmup = Math.min(jobs, Math.max(200, Math.round(jobs / 10)));
    log(`${name}: warm-up, ${warmup} jobs`);
    await drain(sql, child, warmup, name);

    log(`${name}: ${jobs} jobs`);
    const rss = watchPeakRss(() => [child.pid]);
    let peakRssMiB: number;
    let run: { seconds: number; connections: number };
    try {
      run = await drain(sql, child, jobs, name);
    } finally {
      peakRssMiB = rss.stop();
    }
    const { succeeded, failed } = await child.stop();
    if (failed !== 0 || succeeded !== warmup + jobs) {
      throw new Error(
        `${name}: handlers succeeded ${succeeded} and failed ${failed} times; expected ${warmup + jobs} successes`,
      );
    }
    log(
      `${name}: ${(jobs / run.seconds).toFixed(0)} jobs/s, up to ${run.connections} graphile connections`,
    );
    return {
      name,
      unit: 'task',
      operations: jobs,
      seconds: run.seconds,
      latencies: [],
      peakRssMiB,
    };
  } finally {
    child.kill();
    await sql.end();
  }
}

/** add-job → task-start latency, `samples` jobs one at a time (each added only after the previous one started), with graphile's worker idle and waiting on LISTEN/NOTIFY. */
export async function graphileDispatchLatency(options: {
  databaseUrl: string;
  samples: number;
  log: (line: string) => void;
}): Promise<Measurement> {
  const { databaseUrl, samples, log } = options;
  // Graphile's defaults, its low-latency setup: one worker, no local queue,
  // no batching; an idle worker wakes on NOTIFY `jobs:insert`.
  const childOptions: GraphileChildOptions = {
    connectionString: withApplicationName(databaseUrl),
    mode: 'latency',
    concurrency: 1,
    maxPoolSize: 10,
  };
  const name = 'graphile-worker add_job → task start, concurrency 1, LISTEN/NOTIFY';

  const sql = connectDatabase(databaseUrl, { max: 1, applicationName: 'bench-graphile' });
  const child = startChild(childOptions);
  try {
    await readyOnEmptyQueue(sql, child, name);

    const sample = async (): Promise<number> => {
      // The parent's and the child's clocks: wall-clock origin + monotonic offset.
      const addedAt = performance.timeOrigin + performance.now();
      const [job] = await sql<{ id: string }[]>`select id from graphile_worker.add_job('noop')`;
      const [, startedId, startedAt] = await child.next(/^started (\d+) (\S+)$/);
      if (startedId !== String(job!.id))
        throw new Error(`${name}: job ${startedId} started, expected ${job!.id}`);
      // Idle again (its next fetch found nothing) before the next add.
      await child.next(/^idle$/);
      return Number(startedAt) - addedAt;
    };

    log(`${name}: warm-up, ${LATENCY_WARMUP_SAMPLES} samples`);
    for (let i = 0; i < LATENCY_WARMUP_SAMPLES; i++) await sample();

    log(`${name}: ${samples} samples`);
    const latencies: number[] = [];
    const rss = watchPeakRss(() => [child.pid]);
    const started = performance.now();
    let peakRssMiB: number;
    try {
      for (let i = 0; i < samples; i++) latencies.push(await sample());
    } finally {
      peakRssMiB = rss.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    const { succeeded, failed } = await child.stop();
    if (failed !== 0 || succeeded !== LATENCY_WARMUP_SAMPLES + samples)
      throw new Error(`${name}: handlers succeeded ${succeeded} and failed ${failed} times`);
    const after = await jobsLeft(sql);
    if (after.left !== 0) throw new Error(`${name}: ${after.left} graphile jobs left`);
    return { name, unit: 'task', operations: samples, seconds, latencies, peakRssMiB };
  } finally {
    child.kill();
    await sql.end();
  }
}

/**
 * Adds `jobs` no-op jobs in one transaction while the worker is idle, and
 * commits it as the "go": the jobs become visible and graphile's NOTIFY is
 * delivered at commit, so the worker starts already connected and warm, and
 * seeding is not timed. Returns the seconds from commit until no job is left.
 */
async function drain(
  sql: Sql,
  child: Child,
  jobs: number,
  name: string,
): Promise<{ seconds: number; connections: number }> {
  const seeding = await sql.reserve();
  let go: number;
  try {
    await seeding`begin`;
    await seeding`
      select count(*) from graphile_worker.add_jobs(array(
        select row('noop', null, null, null, null, null, null, null)::graphile_worker.job_spec
        from generate_series(1, ${jobs}::int)
      ))`;
    go = performance.now();
    await seeding`commit`;
  } finally {
    seeding.release();
  }

  let connections = 0;
  let last = { left: jobs, at: performance.now() };
  for (;;) {
    const state = await jobsLeft(sql);
    const now = performance.now();
    connections = Math.max(connections, state.connections);
    if (state.failed > 0) throw new Error(`${name}: ${state.failed} graphile jobs failed`);
    if (state.left === 0) return { seconds: (now - go) / 1000, connections };
    if (state.left !== last.left) last = { left: state.left, at: now };
    else if (now - last.at > STALL_MS)
      throw new Error(`${name}: ${state.left} jobs left, none done for ${STALL_MS} ms`);
    if (child.exitCode() !== null) throw new Error(`${name}: worker exited:\n${child.output()}`);
    await delay(POLL_MS);
  }
}

/** Jobs still in graphile's table (done jobs are deleted), those with an error, and graphile's connections. */
async function jobsLeft(sql: Sql): Promise<{ left: number; failed: number; connections: number }> {
  const [state] = await sql<{ left: number; failed: number; connections: number }[]>`
    select
      count(*)::int as left,
      (count(*) filter (where last_error is not null))::int as failed,
      (select count(*)::int from pg_stat_activity where application_name = ${APPLICATION_NAME}) as connections
    from graphile_worker._private_jobs`;
  return state!;
}

function withApplicationName(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', APPLICATION_NAME);
  return url.toString();
}

interface Child {
  pid: number;
  /** The next stdout line (after those already consumed) matching `pattern`; earlier lines are skipped. */
  next(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Asks for a graceful stop; resolves with the handler counts it prints. */
  stop(): Promise<{ succeeded: number; failed: number }>;
  kill(): void;
  exitCode(): number | string | null;
  /** stderr and the last stdout lines, for error messages. */
  output(): string;
}

/** Waits for the child's ready line and checks no job is left from before, so a run counts only its own. */
async function readyOnEmptyQueue(sql: Sql, child: Child, name: string): Promise<void> {
  await child.next(/^graphile ready/);
  const before = await jobsLeft(sql);
  if (before.left !== 0) throw new Error(`${name}: ${before.left} graphile jobs left from before`);
}

function startChild(options: GraphileChildOptions): Child {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, CHILD_SCRIPT, JSON.stringify(options)],
    // NO_LOG_SUCCESS: graphile's switch for its per-job "Completed task" log line.
    { env: { ...process.env, NO_LOG_SUCCESS: '1' }, stdio: 'pipe' },
  );
  const lines: string[] = [];
  let cursor = 0;
  let stderr = '';
  let exit: number | string | null = null;
  const wake = new Set<() => void>();
  const notify = () => {
    for (const listener of [...wake]) listener();
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    notify();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  child.on('exit', (code, signal) => {
    exit = code ?? signal ?? -1;
    notify();
  });
  child.on('error', (error) => {
    stderr += `\n${error.message}`;
    exit = exit ?? -1;
    notify();
  });
  const output = () => `${stderr}\n${lines.slice(-20).join('\n')}`;

  const next = (pattern: RegExp, timeoutMs = STALL_MS) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        while (cursor < lines.length) {
          const match = lines[cursor++]!.match(pattern);
          if (match) return done(() => resolve(match));
        }
        if (exit !== null)
          done(() =>
            reject(new Error(`graphile worker exited (${exit}) before ${pattern}:\n${output()}`)),
          );
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`timed out waiting for ${pattern}:\n${output()}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        wake.delete(check);
        settle();
      };
      wake.add(check);
      check();
    });

  return {
    pid: child.pid!,
    next,
    async stop() {
      child.stdin!.write('stop\n');
      const [, succeeded, failed] = await next(/^graphile stopped succeeded (\d+) failed (\d+)$/);
      return { succeeded: Number(succeeded), failed: Number(failed) };
    },
    kill() {
      if (exit === null) child.kill('SIGKILL');
    },
    exitCode: () => exit,
    output,
  };
}

/** Demonstration: the baselines on an embedded Postgres of their own. */
async function main(): Promise<void> {
  const jobs = Number(process.env.GRAPHILE_BENCH_JOBS ?? 5_000);
  const samples = Number(process.env.GRAPHILE_BENCH_SAMPLES ?? 200);
  const log = (line: string) => console.error(line);
  const dataDir = await mkdtemp(join(tmpdir(), 'omnihub-bench-graphile-'));
  const postgres = await startEmbeddedPostgres({ dataDir, port: await freePort() });
  try {
    const rows: Measurement[] = [];
    for (const batch of [1, 10, 100] as const)
      rows.push(await graphileThroughput({ databaseUrl: postgres.url, jobs, batch, log }));
    rows.push(await graphileDispatchLatency({ databaseUrl: postgres.url, samples, log }));
    printTable(rows.map((measurement) => ({ measurement })));
  } finally {
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
