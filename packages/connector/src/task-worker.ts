import { MAX_JSON_DEPTH, jsonDepth, type Task } from '@omnihub/contracts';
import { CompletionBatcher } from './completion-batcher.ts';
import type { CompleteInput, OmniHubConnector } from './connector.ts';
import { ConfigError, OmniHubError } from './errors.ts';
import { consoleLog, type LogLine } from './log.ts';

/** What a handler gets besides the task. */
export interface TaskContext {
  /** Aborted when the task is lost (lease lost or canceled) or the worker is shutting down past its grace period. */
  signal: AbortSignal;
  connector: OmniHubConnector;
  /** Reports progress (shown in OmniDash) and extends the lease now. */
  heartbeat(progress?: Record<string, unknown>): Promise<void>;
  log: LogLine;
}

/** Runs one task; its return value (any JSON) becomes the task's output. Throw to fail it. */
export type TaskHandler = (task: Task, context: TaskContext) => unknown | Promise<unknown>;
export type TaskHandlers = Record<string, TaskHandler>;

export interface TaskWorkerOptions {
  /** Tasks run at once, 1–100 (the notes' runner runs 3). */
  concurrency: number;
  /** Optional lower limits per action, e.g. { call_lead: 1 }. */
  actionConcurrency: Record<string, number>;
  /** 5–3600 seconds. */
  leaseSeconds: number;
  /** Claim with a long poll (the port holds the request until a task is ready). */
  longPoll: boolean;
  /** How long one long-poll claim may wait, 0–25000 ms. */
  waitMs: number;
  /** Between claims when not long polling, or when the port answers at once with nothing. */
  pollIntervalMs: number;
  /** After a stop, how long running handlers may take to finish before they are aborted. */
  shutdownGraceMs: number;
  /** How often to say "still watching" while idle. */
  idleLogIntervalMs: number;
  /**
   * 0 (default): each completion is sent as its handler finishes. Above 0:
   * completions are gathered for this many milliseconds (at most 100) and
   * sent in one POST /tasks/complete — for workers finishing many short
   * tasks a second, at the cost of that delay per completion.
   */
  completionBatchMs: number;
  log: LogLine;
}

export const DEFAULT_WORKER_OPTIONS: Omit<TaskWorkerOptions, 'log'> = {
  concurrency: 3,
  actionConcurrency: {},
  leaseSeconds: 300,
  longPoll: true,
  waitMs: 20_000,
  pollIntervalMs: 5_000,
  shutdownGraceMs: 30_000,
  idleLogIntervalMs: 30_000,
  completionBatchMs: 0,
};

/** Why a handler's signal was aborted. */
export class TaskAbandoned extends Error {
  constructor(
    readonly reason: 'lease_lost' | 'shutdown' | 'finished',
    message: string,
  ) {
    super(message);
    this.name = 'TaskAbandoned';
  }
}

/**
 * Claims tasks of the connector's source and runs them with their handlers:
 * up to `concurrency` at once, heartbeats every third of the lease while a
 * handler runs, completion with the handler's result (or its error,
 * retryable unless it throws a NonRetryableError). An action without a
 * handler fails at once with `unknown_action`. `stop()` (or an abort of
 * `run`'s signal) stops claiming and lets running handlers finish within
 * the grace period.
 */
export class TaskWorker {
  readonly options: TaskWorkerOptions;
  readonly #connector: OmniHubConnector;
  readonly #handlers: TaskHandlers;
  /** Keyed by task and attempt: the same task can come back to this worker while an old run still winds down. */
  readonly #running = new Map<string, { action: string; settled: Promise<void> }>();
  readonly #stopping = new AbortController();
  /** Ends the current idle wait early (a task finished). */
  #wakeUp: (() => void) | null = null;
  #fatal: OmniHubError | null = null;
  #lastActivity = Date.now();
  readonly #batcher: CompletionBatcher | null;

  constructor(
    connector: OmniHubConnector,
    handlers: TaskHandlers,
    options: Partial<TaskWorkerOptions> = {},
  ) {
    this.#connector = connector;
    this.#handlers = handlers;
    this.options = {
      ...DEFAULT_WORKER_OPTIONS,
      log: consoleLog(connector.config.workerId),
      ...options,
    };
    checkOptions(this.options);
    this.#batcher =
      this.options.completionBatchMs > 0
        ? new CompletionBatcher(connector, this.options.completionBatchMs)
        : null;
  }

  /** Tasks being handled right now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** Stops claiming; running handlers get the grace period to finish. */
  stop(): void {
    this.#stopping.abort(new TaskAbandoned('shutdown', 'the worker is stopping'));
  }

  /**
   * Runs until stopped. Resolves when every handler has finished (or was
   * abandoned after the grace period); rejects only when the key itself is
   * refused (401/403), since no retry can fix that.
   */
  async run(signal?: AbortSignal): Promise<void> {
    const onAbort = () => this.stop();
    if (signal?.aborted) this.stop();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const { log } = this.options;
    const { workerId } = this.#connector.config;
    const source = this.#connector.config.source ?? "its key's";
    log(
      `🟢 ${workerId} is online: claiming ${source} tasks (${Object.keys(this.#handlers).join(', ') || 'no handlers'}), up to ${this.options.concurrency} at once`,
    );
    const idleTimer = setInterval(() => {
      if (
        this.#running.size === 0 &&
        Date.now() - this.#lastActivity >= this.options.idleLogIntervalMs
      ) {
        log(`still watching for ${source} tasks`);
        this.#lastActivity = Date.now();
      }
    }, this.options.idleLogIntervalMs);

    try {
      while (!this.#stopping.signal.aborted) {
        await this.#claimRound();
      }
    } finally {
      clearInterval(idleTimer);
      signal?.removeEventListener('abort', onAbort);
      await this.#drain();
    }
    if (this.#fatal) throw this.#fatal;
    log(`${workerId} stopped`);
  }

  async #claimRound(): Promise<void> {
    const plan = this.#claimPlan();
    if (plan === null) {
      await this.#idle();
      return;
    }
    const { actions, maxTasks } = plan;
    // A claim filtered by a per-action limit does not wait at the port: when
    // nothing is there, the worker idles until a task of its own finishes (or
    // the poll interval ends) and then asks again for every action. Waiting at
    // the port could not be cut short without risking tasks it just leased.
    const waitMs = this.options.longPoll && actions.length === 0 ? this.options.waitMs : 0;
    const started = Date.now();
    let tasks: Task[];
    try {
      tasks = await this.#connector.claim({
        maxTasks,
        waitMs,
        leaseSeconds: this.options.leaseSeconds,
        ...(actions.length > 0 ? { actions } : {}),
        signal: this.#stopping.signal,
      });
    } catch (error) {
      if (this.#stopping.signal.aborted) return;
      if (
        error instanceof OmniHubError &&
        (error.code === 'unauthorized' || error.code === 'permission_denied')
      ) {
        this.options.log(`✖ the port refused this worker's key: ${error.message}. Stopping.`);
        this.#fatal = error;
        this.stop();
        return;
      }
      this.options.log(
        `claim failed (${error instanceof Error ? error.message : String(error)}); trying again in ${this.options.pollIntervalMs / 1000} s`,
      );
      await this.#idle(this.options.pollIntervalMs);
      return;
    }
    for (const task of tasks) this.#start(task);
    // Without a long poll, or if the port did not hold the request, wait before asking again.
    if (tasks.length === 0 && (waitMs === 0 || Date.now() - started < waitMs / 2)) {
      await this.#idle(this.options.pollIntervalMs);
    }
  }

  /**
   * What to ask for, or null when nothing may start now. A batch may hold
   * several tasks of one action, so it is never larger than the room left
   * under any per-action limit it could include; actions at their limit are
   * filtered out of the claim.
   */
  #claimPlan(): { actions: string[]; maxTasks: number } | null {
    let maxTasks = this.options.concurrency - this.#running.size;
    const limits = Object.entries(this.options.actionConcurrency);
    const full = new Set(
      limits
        .filter(([action, limit]) => this.#countRunning(action) >= limit)
        .map(([action]) => action),
    );
    for (const [action, limit] of limits) {
      if (!full.has(action)) maxTasks = Math.min(maxTasks, limit - this.#countRunning(action));
    }
    // [] claims any action (so tasks without a handler get answered too).
    const actions =
      full.size === 0 ? [] : Object.keys(this.#handlers).filter((action) => !full.has(action));
    if (maxTasks <= 0 || (full.size > 0 && actions.length === 0)) return null;
    return { actions, maxTasks };
  }

  #countRunning(action: string): number {
    let count = 0;
    for (const running of this.#running.values()) if (running.action === action) count++;
    return count;
  }

  #start(task: Task): void {
    const slot = `${task.id}#${task.attempts}`;
    const settled = this.#execute(task).finally(() => {
      this.#running.delete(slot);
      this.#lastActivity = Date.now();
      this.#wakeUp?.();
    });
    this.#running.set(slot, { action: task.action, settled });
  }

  async #execute(task: Task): Promise<void> {
    const { log, leaseSeconds } = this.options;
    const started = Date.now();
    const finish = (outcome: string, recorded = true) =>
      log(
        `task ${task.id} ${task.action}: ${outcome} in ${Date.now() - started} ms${recorded ? '' : ' (not recorded: the port did not take the completion; the task runs again after its lease)'}`,
      );
    const handler = Object.hasOwn(this.#handlers, task.action)
      ? this.#handlers[task.action]
      : undefined;
    if (!handler) {
      const recorded = await this.#complete(task, {
        status: 'failed',
        error: 'unknown_action',
        retryable: false,
      });
      finish(`failed (unknown_action: no handler for "${task.action}")`, recorded);
      return;
    }

    const abandon = new AbortController();
    // Past the grace period a stopping worker aborts its handlers too.
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const onShutdown = () => {
      graceTimer = setTimeout(
        () =>
          abandon.abort(
            new TaskAbandoned('shutdown', 'the worker stopped before the task finished'),
          ),
        this.options.shutdownGraceMs,
      );
    };
    if (this.#stopping.signal.aborted) onShutdown();
    else this.#stopping.signal.addEventListener('abort', onShutdown, { once: true });
    const heartbeat = async (progress?: Record<string, unknown>) => {
      try {
        await this.#connector.heartbeat(
          task.id,
          { attempt: task.attempts, leaseSeconds, ...(progress ? { progress } : {}) },
          { signal: abandon.signal },
        );
      } catch (error) {
        if (
          error instanceof OmniHubError &&
          (error.code === 'lease_lost' || error.code === 'not_found')
        ) {
          abandon.abort(
            new TaskAbandoned(
              'lease_lost',
              `the task is no longer this worker's (${error.body?.status ?? error.code})`,
            ),
          );
        } else if (!abandon.signal.aborted) {
          log(`heartbeat for task ${task.id} failed: ${(error as Error).message}`);
        }
      }
    };
    const beat = setInterval(() => void heartbeat(), (leaseSeconds * 1000) / 3);

    try {
      const output = await Promise.race([
        handler(task, { signal: abandon.signal, connector: this.#connector, heartbeat, log }),
        abandoned(abandon.signal),
      ]);
      clearInterval(beat);
      const problem = unstorable(output);
      if (problem) {
        // Retrying would produce the same result: fail for good, and say why.
        const error = `the handler's result cannot be stored: ${problem}`;
        finish(
          `failed (not retryable): ${error}`,
          await this.#complete(task, { status: 'failed', error, retryable: false }),
        );
        return;
      }
      const recorded = await this.#complete(task, {
        status: 'succeeded',
        output: output === undefined ? null : output,
      });
      finish('succeeded', recorded);
    } catch (error) {
      clearInterval(beat);
      const reason = abandon.signal.reason;
      if (
        abandon.signal.aborted &&
        reason instanceof TaskAbandoned &&
        reason.reason === 'lease_lost'
      ) {
        finish(`abandoned: ${reason.message}`);
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      const retryable = !(
        typeof error === 'object' &&
        error !== null &&
        (error as { retryable?: unknown }).retryable === false
      );
      const recorded = await this.#complete(task, { status: 'failed', error: message, retryable });
      finish(`failed${retryable ? '' : ' (not retryable)'}: ${message}`, recorded);
    } finally {
      clearTimeout(graceTimer);
      this.#stopping.signal.removeEventListener('abort', onShutdown);
      // Ends a heartbeat still in flight (and its retries): the task is settled.
      if (!abandon.signal.aborted) abandon.abort(FINISHED);
    }
  }

  /** True when the port recorded the completion. */
  async #complete(task: Task, input: Omit<CompleteInput, 'attempt'>): Promise<boolean> {
    const completion = { ...input, attempt: task.attempts };
    try {
      if (!this.#batcher) {
        await this.#connector.complete(task.id, completion);
        return true;
      }
      const result = await this.#batcher.complete(task.id, completion);
      if ('outcome' in result) return true;
      this.options.log(`could not complete task ${task.id}: ${result.message}`);
      return false;
    } catch (error) {
      this.options.log(`could not complete task ${task.id}: ${(error as Error).message}`);
      return false;
    }
  }

  /** Waits for running handlers; each is aborted after the grace period by its own timer. */
  async #drain(): Promise<void> {
    if (this.#running.size > 0) {
      this.options.log(
        `waiting for ${this.#running.size} running task(s) to finish (up to ${this.options.shutdownGraceMs / 1000} s)`,
      );
    }
    await Promise.all([...this.#running.values()].map((running) => running.settled));
  }

  /** Waits up to `ms` (until something changes when undefined); ends early when a task finishes or the worker stops. */
  #idle(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const stopping = this.#stopping.signal;
      const done = () => {
        clearTimeout(timer);
        stopping.removeEventListener('abort', done);
        if (this.#wakeUp === done) this.#wakeUp = null;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      if (stopping.aborted) return done();
      stopping.addEventListener('abort', done, { once: true });
      this.#wakeUp = done;
    });
  }
}

/** The abort reason once a task is settled: one object, not an Error with a stack per task. */
const FINISHED = new TaskAbandoned('finished', 'the task is finished');

/** Why a handler's return value could not be stored as JSON, or null when it can. */
function unstorable(output: unknown): string | null {
  if (jsonDepth(output) > MAX_JSON_DEPTH)
    return `it nests deeper than ${MAX_JSON_DEPTH} levels (or refers to itself)`;
  try {
    JSON.stringify(output);
    return null;
  } catch (error) {
    return `it is not JSON (${(error as Error).message})`;
  }
}

function checkOptions(options: TaskWorkerOptions): void {
  const problems: string[] = [];
  const whole = (value: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
    Number.isInteger(value) && value >= min && value <= max;
  if (!whole(options.concurrency, 1, 100))
    problems.push('concurrency must be a whole number from 1 to 100');
  for (const [action, limit] of Object.entries(options.actionConcurrency)) {
    if (!whole(limit, 1))
      problems.push(`actionConcurrency.${action} must be a whole number of at least 1`);
  }
  if (!whole(options.leaseSeconds, 5, 3600))
    problems.push('leaseSeconds must be a whole number from 5 to 3600');
  if (!whole(options.waitMs, 0, 25_000))
    problems.push('waitMs must be a whole number from 0 to 25000');
  if (!(options.pollIntervalMs >= 10)) problems.push('pollIntervalMs must be at least 10');
  if (!(options.shutdownGraceMs >= 0)) problems.push('shutdownGraceMs must not be negative');
  if (!whole(options.completionBatchMs, 0, 1_000))
    problems.push('completionBatchMs must be a whole number from 0 to 1000');
  if (!(options.idleLogIntervalMs >= 1_000))
    problems.push('idleLogIntervalMs must be at least 1000');
  if (problems.length > 0) throw new ConfigError(`TaskWorker options: ${problems.join('; ')}.`);
}

/** A promise that rejects with the signal's reason once it aborts (and never settles before). */
function abandoned(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
