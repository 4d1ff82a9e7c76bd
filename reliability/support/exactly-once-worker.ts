/**
 * One worker process of reliability/exactly-once.test.ts: several TaskWorkers
 * of the real connector, each with its own worker id, claiming the `work`
 * tasks of the key's source through the port. Everything that matters for
 * the test's verdict is written to a journal before and after it happens
 * (see exactly-once-journal.ts), so a SIGKILL at any instant leaves a true
 * if incomplete record. Prints `workers ready` once running and
 * `progress <n>` every PROGRESS_EVERY accepted completions; SIGTERM stops
 * the workers gracefully.
 *
 * Env: OMNIHUB_BASE_URL, OMNIHUB_API_KEY, OMNIHUB_SOURCE (as any agent), and
 * EXACTLY_ONCE_JOURNAL (file), EXACTLY_ONCE_PROCESS (number),
 * EXACTLY_ONCE_WORKERS, EXACTLY_ONCE_CONCURRENCY, EXACTLY_ONCE_SEED.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  OmniHubConnector,
  OmniHubError,
  TaskWorker,
  type CallOptions,
  type CompleteInput,
  type TaskHandler,
} from '@omnihub/connector';
import type { HeartbeatResponse, Task, TaskCompletionResult } from '@omnihub/contracts';
import { seededRandom } from '@omnihub/agent-apex-sales/src/random.ts';
import {
  LEASE_SECONDS,
  LONG_TASK_EVERY,
  openJournal,
  workerId,
  type JournalEntry,
} from './exactly-once-journal.ts';

const PROGRESS_EVERY = 5;

const env = process.env;
const setting = (name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const journalPath = setting('EXACTLY_ONCE_JOURNAL');
const processNumber = Number(setting('EXACTLY_ONCE_PROCESS'));
const workers = Number(setting('EXACTLY_ONCE_WORKERS'));
const concurrency = Number(setting('EXACTLY_ONCE_CONCURRENCY'));
const seed = setting('EXACTLY_ONCE_SEED');

const record = openJournal(journalPath);
const at = () => Date.now();
let accepted = 0;

/** A success the port accepted: journaled, and counted for the test's kill schedule. */
function recordAccepted(entry: Omit<JournalEntry, 'e' | 't'>): void {
  record({ ...entry, e: 'done', t: at() });
  if (++accepted % PROGRESS_EVERY === 0) console.log(`progress ${accepted}`);
}

/** The real connector, with the port's answers on leases and completions written down. */
class JournalingConnector extends OmniHubConnector {
  override async heartbeat(
    taskId: string,
    input: { leaseSeconds?: number; progress?: Record<string, unknown>; attempt?: number } = {},
    options: CallOptions = {},
  ): Promise<HeartbeatResponse> {
    const entry = { task: taskId, attempt: input.attempt!, worker: this.config.workerId };
    try {
      const response = await super.heartbeat(taskId, input, options);
      record({ ...entry, e: 'beat', lease: response.lease_expires_at, t: at() });
      return response;
    } catch (error) {
      if (isLeaseLost(error)) record({ ...entry, e: 'lost', via: 'heartbeat', t: at() });
      throw error;
    }
  }

  override async complete(
    taskId: string,
    input: CompleteInput,
    options: CallOptions = {},
  ): Promise<Task> {
    const entry = { task: taskId, attempt: input.attempt!, worker: this.config.workerId };
    try {
      const task = await super.complete(taskId, input, options);
      if (input.status === 'succeeded') recordAccepted(entry);
      return task;
    } catch (error) {
      if (isLeaseLost(error)) record({ ...entry, e: 'lost', via: 'complete', t: at() });
      throw error;
    }
  }

  override async completeMany(
    completions: (CompleteInput & { taskId: string })[],
    options: CallOptions = {},
  ): Promise<TaskCompletionResult[]> {
    const results = await super.completeMany(completions, options);
    results.forEach((result, index) => {
      const input = completions[index]!;
      const entry = { task: input.taskId, attempt: input.attempt!, worker: this.config.workerId };
      if ('outcome' in result) {
        if (input.status === 'succeeded') recordAccepted(entry);
      } else {
        record({ ...entry, e: 'lost', via: 'complete', t: at() });
      }
    });
    return results;
  }
}

function isLeaseLost(error: unknown): boolean {
  return (
    error instanceof OmniHubError && (error.code === 'lease_lost' || error.code === 'not_found')
  );
}

/** A few ms of awaited work (seeded by task and attempt), so kills land inside handlers. */
function handlerFor(worker: string): TaskHandler {
  return async (task) => {
    const entry: Omit<JournalEntry, 'e' | 't'> = {
      task: task.id,
      attempt: task.attempts,
      worker,
    };
    record({ ...entry, e: 'start', lease: task.lease_expires_at!, t: at() });
    const sequence = Number(task.params.payload.seq);
    const random = seededRandom(`${seed}:${sequence}:${task.attempts}`)();
    await delay(sequence % LONG_TASK_EVERY === 0 ? 2_000 + random * 2_000 : random * 20);
    record({ ...entry, e: 'end', t: at() });
    return { seq: sequence, worker };
  };
}

/** Routine lines (a task done, online, stopped) are dropped; anything unusual is kept for the test's failure output. */
const ROUTINE = / succeeded in \d+ ms$| is online: |stopped$/;

const running = Array.from({ length: workers }, (_, index) => {
  const id = workerId(processNumber, index);
  const log = (line: string) => {
    if (!ROUTINE.test(line)) console.log(`${new Date().toISOString()} [${id}] ${line}`);
  };
  const connector = new JournalingConnector({ env, workerId: id, log });
  const worker = new TaskWorker(
    connector,
    { work: handlerFor(id) },
    {
      concurrency,
      leaseSeconds: LEASE_SECONDS,
      longPoll: true,
      waitMs: 10_000,
      // An empty answer is rare (the queue is full until the end): ask again soon.
      pollIntervalMs: 200,
      // Odd processes batch their completions (POST /tasks/complete), even ones
      // complete one by one: both paths run under the same kills.
      completionBatchMs: processNumber % 2 === 1 ? 5 : 0,
      log,
    },
  );
  const done = worker.run().catch((error: unknown) => {
    // Only a refused key ends a worker early: no retry can help, and the test must hear of it.
    console.error(`${id} stopped: ${String(error)}`);
    process.exit(1);
  });
  return { worker, done };
});
console.log('workers ready');

process.once('SIGTERM', () => {
  for (const { worker } of running) worker.stop();
  void Promise.all(running.map(({ done }) => done)).then(() => process.exit(0));
});
