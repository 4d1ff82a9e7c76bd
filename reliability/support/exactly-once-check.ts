import { epochMicros, processOf, type JournalEntry } from './exactly-once-journal.ts';

export interface TaskRow {
  id: string;
  status: string;
  attempts: number;
}

/** A task_attempts row; times in µs since the epoch (Postgres's own clock and precision). */
export interface AttemptRow {
  task_id: string;
  attempt: number;
  worker_id: string;
  outcome: string | null;
  started_us: number;
  finished_us: number | null;
}

export interface ExactlyOnceInput {
  tasks: TaskRow[];
  attempts: AttemptRow[];
  journal: JournalEntry[];
  /** Worker processes the test SIGKILLed. */
  killed: ReadonlySet<number>;
}

export interface ExactlyOnceReport {
  /** Each a sentence naming the task and what is wrong; empty when every rule holds. */
  violations: string[];
  stats: {
    tasks: number;
    attempts: number;
    /** Handler runs (journal `start`). */
    executions: number;
    /** Handler runs cut off by a SIGKILL (a `start` without an `end`, in a killed process). */
    interrupted: number;
    /** Attempts ended by lease expiry. */
    reclaimed: number;
    /** ... of which the worker was alive and was told lease_lost. */
    lapsedAlive: number;
    /** Completions the port accepted, as journaled (`done`). */
    accepted: number;
    /** Accepted completions whose `done` line a SIGKILL beat (the process died after the port's answer). */
    acceptedUnjournaled: number;
    heartbeats: number;
    /** Pairs of runs of one task that overlapped in wall-clock time (allowed only across an expired lease). */
    overlaps: number;
  };
}

/** At most this many violations are listed per rule, so a broken run still prints readably. */
const LIST_LIMIT = 10;

/**
 * The exactly-once rules, checked against the database's attempt history
 * and the workers' journals:
 *
 * 1. Every task ended `succeeded`.
 * 2. A task's attempts, in the order they began, are numbered 1..n
 *    (n = tasks.attempts); the last one `succeeded`, every earlier one
 *    ended `lease_expired`. So exactly one attempt succeeded.
 * 3. Leases are exclusive: an attempt was ended as expired (finished_at,
 *    the time the database judged it) no earlier than every lease expiry
 *    the port granted to it (in its claim and in each accepted heartbeat,
 *    as its worker journaled them). Both times are the database's clock;
 *    a claim only takes a task no live lease holds, so with this no two
 *    workers ever held a live lease on one task at the same time.
 * 4. Every run a journal shows is an attempt the database handed out (same
 *    task, attempt and worker), and the attempt that succeeded ran its
 *    handler to the end in the worker the database names.
 * 5. Each reclaimed attempt is explained: its worker process was SIGKILLed,
 *    or the port told the (live) worker lease_lost.
 * 6. The port accepted exactly one completion per task, from the attempt
 *    that succeeded: at most one `done` per task, and a task without one
 *    has its successful attempt in a killed process (the kill came after
 *    the port's answer, before the journal line).
 *
 * Attempt k's finished_at is not compared with attempt k+1's started_at:
 * both are transaction start times (now()), and a claim whose transaction
 * began just before another transaction expired the lease still sees the
 * expiry in its later statements, so k+1 can "start" a moment before k
 * "finished" with nothing wrong.
 */
export function checkExactlyOnce(input: ExactlyOnceInput): ExactlyOnceReport {
  const violations: string[] = [];
  const perRule = new Map<string, number>();
  const violate = (rule: string, message: string) => {
    const count = (perRule.get(rule) ?? 0) + 1;
    perRule.set(rule, count);
    if (count <= LIST_LIMIT) violations.push(`[${rule}] ${message}`);
  };

  const attemptsByTask = groupBy(input.attempts, (row) => row.task_id);
  const journalByTask = groupBy(input.journal, (entry) => entry.task);
  const isKilled = (worker: string) => input.killed.has(processOf(worker));
  const stats: ExactlyOnceReport['stats'] = {
    tasks: input.tasks.length,
    attempts: input.attempts.length,
    executions: 0,
    interrupted: 0,
    reclaimed: 0,
    lapsedAlive: 0,
    accepted: 0,
    acceptedUnjournaled: 0,
    heartbeats: 0,
    overlaps: 0,
  };

  for (const task of input.tasks) {
    const name = `task ${task.id}`;
    if (task.status !== 'succeeded') violate('status', `${name} is ${task.status}, not succeeded`);

    const rows = [...(attemptsByTask.get(task.id) ?? [])].sort(
      (a, b) => a.started_us - b.started_us || a.attempt - b.attempt,
    );
    const numbers = rows.map((row) => row.attempt);
    const expected = Array.from({ length: task.attempts }, (_, index) => index + 1);
    if (numbers.join() !== expected.join()) {
      violate(
        'history',
        `${name} has attempts [${numbers}] in time order, but tasks.attempts = ${task.attempts}`,
      );
    }
    const entries = journalByTask.get(task.id) ?? [];
    const grants = new Map<string, number>();
    const lost = new Set<string>();
    const starts: JournalEntry[] = [];
    const ends = new Map<string, number>();
    const done: JournalEntry[] = [];
    for (const entry of entries) {
      const run = `${entry.attempt} ${entry.worker}`;
      if (entry.e === 'start' || entry.e === 'beat') {
        grants.set(run, Math.max(grants.get(run) ?? 0, epochMicros(entry.lease)));
      }
      if (entry.e === 'start') starts.push(entry);
      else if (entry.e === 'end') ends.set(run, entry.t);
      else if (entry.e === 'beat') stats.heartbeats++;
      else if (entry.e === 'lost') lost.add(run);
      else if (entry.e === 'done') done.push(entry);
    }

    rows.forEach((row, index) => {
      const run = `${row.attempt} ${row.worker_id}`;
      const last = index === rows.length - 1;
      const next = rows[index + 1];
      if (last) {
        if (row.outcome !== 'succeeded')
          violate('history', `${name}'s last attempt ${row.attempt} ended ${row.outcome}`);
        return;
      }
      stats.reclaimed++;
      if (row.outcome !== 'lease_expired') {
        violate(
          'history',
          `${name}'s attempt ${row.attempt} of ${rows.length} ended ${row.outcome}, not lease_expired`,
        );
      }
      const granted = grants.get(run);
      if (row.finished_us === null) {
        violate('history', `${name}'s attempt ${row.attempt} of ${rows.length} never ended`);
      } else if (granted !== undefined && row.finished_us < granted) {
        violate(
          'lease',
          `${name}'s attempt ${row.attempt} (${row.worker_id}) was ended as expired ${((granted - row.finished_us) / 1000).toFixed(1)} ms before the lease the port granted it ran out; attempt ${next!.attempt} went to ${next!.worker_id}`,
        );
      }
      if (!isKilled(row.worker_id)) {
        if (lost.has(run)) stats.lapsedAlive++;
        else {
          violate(
            'reclaim',
            `${name}'s attempt ${row.attempt} was reclaimed from ${row.worker_id}, which was neither killed nor told lease_lost`,
          );
        }
      }
    });

    const handedOut = new Set(rows.map((row) => `${row.attempt} ${row.worker_id}`));
    for (const start of starts) {
      stats.executions++;
      const run = `${start.attempt} ${start.worker}`;
      if (!handedOut.has(run)) {
        violate(
          'journal',
          `${name} ran as attempt ${start.attempt} in ${start.worker}, an attempt the database never handed out`,
        );
      }
      if (!ends.has(run) && isKilled(start.worker)) stats.interrupted++;
    }
    // Runs in start order: one still going when a later one began overlaps it.
    const ordered = [...starts].sort((a, b) => a.t - b.t);
    for (let i = 0; i < ordered.length; i++) {
      for (let j = i + 1; j < ordered.length; j++) {
        const end = ends.get(`${ordered[i]!.attempt} ${ordered[i]!.worker}`);
        if (end === undefined || end > ordered[j]!.t) stats.overlaps++;
      }
    }

    const succeeded = rows.at(-1);
    if (
      succeeded?.outcome === 'succeeded' &&
      !ends.has(`${succeeded.attempt} ${succeeded.worker_id}`)
    ) {
      violate(
        'journal',
        `${name} succeeded as attempt ${succeeded.attempt} by ${succeeded.worker_id}, whose journal shows no finished handler run of it`,
      );
    }
    stats.accepted += done.length;
    if (done.length > 1) {
      violate(
        'accepted',
        `${name}: the port accepted ${done.length} completions (${done.map((entry) => `attempt ${entry.attempt} by ${entry.worker}`).join(', ')})`,
      );
    }
    for (const entry of done) {
      if (entry.attempt !== succeeded?.attempt || entry.worker !== succeeded.worker_id) {
        violate(
          'accepted',
          `${name}: the port accepted a completion of attempt ${entry.attempt} by ${entry.worker}, but attempt ${succeeded?.attempt} by ${succeeded?.worker_id} is the one recorded as succeeded`,
        );
      }
    }
    if (done.length === 0 && succeeded?.outcome === 'succeeded') {
      if (isKilled(succeeded.worker_id)) stats.acceptedUnjournaled++;
      else {
        violate(
          'accepted',
          `${name} succeeded as attempt ${succeeded.attempt} by ${succeeded.worker_id}, a live worker that never heard the port accept it`,
        );
      }
    }
  }

  const known = new Set(input.tasks.map((task) => task.id));
  for (const taskId of journalByTask.keys()) {
    if (!known.has(taskId))
      violate('journal', `the journal names task ${taskId}, not a task of this run`);
  }
  for (const [rule, count] of perRule) {
    if (count > LIST_LIMIT) violations.push(`[${rule}] … and ${count - LIST_LIMIT} more`);
  }
  return { violations, stats };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}
