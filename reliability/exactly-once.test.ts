/**
 * Exactly once under worker crashes: 20,000 tasks, 64 TaskWorkers of the
 * real connector (8 processes × 8 workers, each running up to 4 tasks at
 * once) claiming through two port processes, with 5-second leases; 20
 * times during the run a random worker process is SIGKILLed (while its
 * handlers run) and replaced by a new one with new worker ids. Every task
 * must end `succeeded`, by exactly one accepted completion, with a
 * consistent attempt history, and no two workers may ever have held a live
 * lease on the same task at once (rules in support/exactly-once-check.ts).
 *
 * Handlers await 0–20 ms (one task in 100: 2–4 s, so heartbeats, every
 * 5/3 s, must keep its lease alive), so most kills land inside handlers.
 * Workers journal each handler run, lease grant and accepted completion
 * with synchronous writes, so the record survives the SIGKILLs. Kills are
 * scheduled by progress (accepted completions), not by time, from a
 * printed seed: EXACTLY_ONCE_SEED=<seed> replays the same schedule and the
 * same handler durations (the interleaving of course differs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@omnihub/agent-apex-sales/src/random.ts';
import {
  createTestDatabase,
  issueKey,
  startProcess,
  tsxCommand,
  type IssuedKey,
  type RunningProcess,
  type TestDatabase,
} from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkExactlyOnce, type AttemptRow, type TaskRow } from './support/exactly-once-check.ts';
import { WorkerFleet } from './support/exactly-once-fleet.ts';
import { LONG_TASK_EVERY, readJournal } from './support/exactly-once-journal.ts';

const TASKS = 20_000;
const PORTS = 2;
const PROCESSES = 8;
const WORKERS_PER_PROCESS = 8;
const CONCURRENCY = 4;
const KILLS = 20;
/** Enough for a task to survive every kill it could meet; ending `failed` would be a violation. */
const MAX_ATTEMPTS = 10;
/** Kills fall between these shares of the accepted completions. */
const KILL_WINDOW = [0.02, 0.6] as const;
/** The wait for every task to finish; the test's own timeout leaves room to stop the workers and check after it. */
const FINISH_TIMEOUT_MS = 210_000;

const SEED = process.env.EXACTLY_ONCE_SEED ?? String(Math.floor(Math.random() * 2 ** 32));
const [node, args] = tsxCommand('scripts/port-server.ts');

let db: TestDatabase;
let key: IssuedKey;
let journalDir: string;
let ports: RunningProcess[] = [];
let bases: string[] = [];
let fleet: WorkerFleet | undefined;

beforeAll(async () => {
  console.log(`exactly-once seed ${SEED} (EXACTLY_ONCE_SEED=${SEED} replays its kill schedule)`);
  db = await createTestDatabase();
  key = await issueKey(db.sql, { tenant: 'acme', source: 'exactly-once' });
  journalDir = await mkdtemp(join(tmpdir(), 'omnihub-exactly-once-'));
  ports = Array.from({ length: PORTS }, () =>
    startProcess(node, args, {
      env: { DATABASE_URL: db.url, PORT: '0', PORT_LOG: 'quiet', DB_POOL_MAX: '20' },
    }),
  );
  bases = await Promise.all(
    ports.map(async (port) => (await port.waitFor(/port ready (\S+)/, 90_000))[1]!),
  );
});

afterAll(async () => {
  await fleet?.destroy();
  for (const port of ports) port.child.kill('SIGTERM');
  await Promise.all(ports.map((port) => port.exited));
  await db?.drop();
  if (journalDir) await rm(journalDir, { recursive: true, force: true });
});

/** Which slot dies after how many accepted completions: from the seed alone. */
function killSchedule(seed: string): { after: number; slot: number }[] {
  const random = seededRandom(`${seed}:kills`);
  const [from, to] = KILL_WINDOW;
  return Array.from({ length: KILLS }, () => ({
    after: Math.floor(TASKS * (from + random() * (to - from))),
    slot: Math.floor(random() * PROCESSES),
  })).sort((a, b) => a.after - b.after);
}

describe('exactly once', () => {
  it(`runs each of ${TASKS} tasks to success exactly once while ${KILLS} worker processes are SIGKILLed`, async () => {
    await db.sql`
      insert into tasks (tenant_id, target, action, params, max_attempts)
      select ${key.tenantId}, ${key.source}, 'work',
             jsonb_build_object('payload', jsonb_build_object('seq', i)), ${MAX_ATTEMPTS}
      from generate_series(1, ${TASKS}) as i`;
    const started = Date.now();

    const schedule = killSchedule(SEED);
    const kills: { process: number; slot: number; atProgress: number }[] = [];
    const running = new WorkerFleet({
      slots: PROCESSES,
      workersPerProcess: WORKERS_PER_PROCESS,
      concurrency: CONCURRENCY,
      bases,
      env: { OMNIHUB_API_KEY: key.apiKey, OMNIHUB_SOURCE: key.source },
      journalDir,
      seed: SEED,
    });
    fleet = running;
    await running.ready();
    running.onProgress(() => {
      while (kills.length < schedule.length && running.progress >= schedule[kills.length]!.after) {
        const { slot } = schedule[kills.length]!;
        kills.push({ process: running.kill(slot), slot, atProgress: running.progress });
      }
    });

    // A run that does not finish is still checked: the rules say what went wrong.
    let unfinished: string | null = null;
    try {
      await expect
        .poll(
          async () => {
            const [row] = await db.sql`
              select count(*)::int as finished from tasks
              where tenant_id = ${key.tenantId} and status in ('succeeded', 'failed', 'canceled')`;
            return row!.finished as number;
          },
          { timeout: FINISH_TIMEOUT_MS, interval: 500 },
        )
        .toBe(TASKS);
    } catch (error) {
      unfinished = `not every task finished: ${(error as Error).message}; ${kills.length} kills so far`;
    }
    const finishedMs = Date.now() - started;
    await running.stop();

    const tasks = (await db.sql`
      select id::text, status, attempts from tasks where tenant_id = ${key.tenantId}`) as unknown as TaskRow[];
    const attempts = (await db.sql`
      select task_id::text, attempt, worker_id, outcome,
             (extract(epoch from started_at) * 1000000)::float8 as started_us,
             (extract(epoch from finished_at) * 1000000)::float8 as finished_us
      from task_attempts where tenant_id = ${key.tenantId}`) as unknown as AttemptRow[];
    const journal = running.journals.flatMap((path) => readJournal(path));
    const report = checkExactlyOnce({ tasks, attempts, journal, killed: running.killed });
    console.log(
      `exactly-once: ${TASKS} tasks ${unfinished ? 'NOT ' : ''}done in ${(finishedMs / 1000).toFixed(1)} s with ${kills.length} kills; ${JSON.stringify(report.stats)}`,
    );

    expect(report.violations, running.notes()).toEqual([]);
    expect(unfinished).toBeNull();
    expect(running.unexpectedExits).toEqual([]);
    expect(kills).toHaveLength(KILLS);
    expect(tasks).toHaveLength(TASKS);
    // One accepted completion per task: journaled, or beaten to the journal by a kill.
    expect(report.stats.accepted + report.stats.acceptedUnjournaled).toBe(TASKS);
    const [succeeded] = await db.sql`
      select count(*)::int as rows, count(distinct task_id)::int as tasks
      from task_attempts where tenant_id = ${key.tenantId} and outcome = 'succeeded'`;
    expect(succeeded).toEqual({ rows: TASKS, tasks: TASKS });
    // The run exercised what it claims to: handlers cut off by kills, their
    // tasks reclaimed after the lease, and long tasks kept alive by heartbeats.
    expect(report.stats.interrupted).toBeGreaterThan(0);
    expect(report.stats.reclaimed).toBeGreaterThanOrEqual(report.stats.interrupted);
    expect(report.stats.heartbeats).toBeGreaterThanOrEqual(TASKS / LONG_TASK_EVERY / 2);
  }, 300_000);
});
