import { OmniHubConnector, TaskWorker, type TaskWorkerOptions } from '@omnihub/connector';

/** Short, so a claim whose answer died with the port (or the database) comes back within the test. */
export const LEASE_SECONDS = 8;
/** Enough that a task losing a claim or two still ends succeeded. */
const MAX_ATTEMPTS = 5;
const BATCH_SIZE = 20;
/** Tasks created but not yet run; the creator waits below it, so the workers are never far behind. */
const MAX_TASK_BACKLOG = 16;

/** One HTTP attempt a connector made (each of its retries is one more). */
export interface Attempt {
  generator: string;
  method: string;
  path: string;
  /** 0 when no answer came: refused connection, reset, timeout. */
  status: number;
  /** The port's error code, or why there was no answer. */
  error?: string;
  /** A claim's wait_ms. */
  waitMs?: number;
  /** Ended by the client itself (a worker stopping), not by a failure. */
  aborted?: boolean;
  startedAt: number;
  endedAt?: number;
}

/** What the port answered for one event key, as the connector received it. */
export interface EventAnswer {
  status: 'created' | 'duplicate';
  id: string;
}

export interface RestartLoadOptions {
  /** Prefixes every idempotency key and worker id. */
  label: string;
  portUrl: string;
  /** A key of `source` with every scope: sends the events, creates and runs the tasks. */
  apiKey: string;
  source: string;
  /** A key of another integration whose single worker sits in long polls. */
  listen: { apiKey: string; source: string };
}

/**
 * Load through real connectors while the suite breaks things underneath:
 * two loops sending single events, one sending batches, one creating tasks
 * (through the port, with idempotency keys), two TaskWorkers running them,
 * and one more worker that mostly waits in a long poll. Every loop calls
 * one request after another, so the load follows what the port can take.
 *
 * Everything a client tried and was told is kept: each key sent, the calls
 * the connector reported as done (or gave up on), and every HTTP attempt with
 * its answer (the connector is given an observing fetch; it still talks to
 * the real port).
 */
export class RestartLoad {
  readonly attempts: Attempt[] = [];
  readonly triedEvents = new Set<string>();
  /** Event key → stored id, for every call the connector reported as accepted. */
  readonly acceptedEvents = new Map<string, string>();
  /** Every answer the port gave for each event key, retries included. */
  readonly eventAnswers = new Map<string, EventAnswer[]>();
  readonly triedTasks = new Set<string>();
  /** Task idempotency key → task id the port returned. */
  readonly createdTasks = new Map<string, string>();
  /** Each handler run: a task may run twice only if its lease expired in between. */
  readonly handled: { taskId: string; attempt: number; workerId: string }[] = [];
  /** Tasks the long-polling worker ran. */
  readonly listenHandled = new Set<string>();
  /** Calls the connector gave up on (its retry budget ran out, or it refused for good). */
  readonly gaveUp: { generator: string; keys: string[]; error: string }[] = [];
  /** The connectors' and workers' own log lines ("retrying in …", "claim failed …"). */
  readonly logLines: string[] = [];
  /** Calls each loop completed (after however many retries). */
  readonly calls = new Map<string, number>();

  readonly #options: RestartLoadOptions;
  readonly #inFlight = new Set<Attempt>();
  readonly #loops: Promise<void>[] = [];
  readonly #workers: { worker: TaskWorker; run: Promise<void> }[] = [];
  readonly #handledTasks = new Set<string>();
  #stopping = false;
  /** Cuts every call short (retries included), for a test that failed midway. */
  readonly #abort = new AbortController();
  #wakeCreator: (() => void) | null = null;

  constructor(options: RestartLoadOptions) {
    this.#options = options;
  }

  start(): void {
    this.#loops.push(this.#singles('single-a'), this.#singles('single-b'));
    this.#loops.push(this.#batches('batch'), this.#creator('creator'));
    for (const name of ['worker-a', 'worker-b']) {
      this.#startWorker(name, this.#main, { concurrency: 4, waitMs: 5_000 }, (task) => {
        this.handled.push({ taskId: task.id, attempt: task.attempts, workerId: name });
        this.#handledTasks.add(task.id);
        this.#wakeCreator?.();
        return { ok: true };
      });
    }
    this.#startWorker(
      'listen-worker',
      this.#options.listen,
      { concurrency: 1, waitMs: 20_000 },
      (task) => {
        this.listenHandled.add(task.id);
        return { ok: true };
      },
    );
  }

  /** The loops' names, for "every loop made progress" checks. */
  get generators(): string[] {
    return ['single-a', 'single-b', 'batch', 'creator'];
  }

  /** The fewest calls any loop has completed. */
  minCalls(): number {
    return Math.min(...this.generators.map((name) => this.calls.get(name) ?? 0));
  }

  /** Long-poll claims of the listening worker waiting at the port right now. */
  longPollsInFlight(): number {
    return [...this.#inFlight].filter(
      (attempt) => attempt.generator === 'listen-worker' && (attempt.waitMs ?? 0) > 0,
    ).length;
  }

  /** Attempts of `generator` that got no answer or a 5xx, answered at or after `since`. */
  failedAttempts(since: number, generator: string): Attempt[] {
    return this.attempts.filter(
      (attempt) =>
        attempt.generator === generator &&
        attempt.endedAt !== undefined &&
        attempt.endedAt >= since &&
        !attempt.aborted &&
        (attempt.status === 0 || attempt.status >= 500),
    );
  }

  /** Creates a task for the long-polling worker, through the port. */
  async createListenTask(key: string): Promise<string> {
    const connector = this.#connector('listen-creator', this.#main);
    const { task } = await connector.createTask({
      target: this.#options.listen.source,
      action: 'noop',
      idempotency_key: `${this.#options.label}:${key}`,
    });
    return task.id;
  }

  /** Ends the sending loops; each finishes the call it is in (retries included). */
  async stopGenerators(): Promise<void> {
    this.#stopping = true;
    this.#wakeCreator?.();
    await Promise.all(this.#loops);
  }

  /** Stops every worker; resolves when they have stopped. */
  async stopWorkers(): Promise<void> {
    for (const { worker } of this.#workers) worker.stop();
    await Promise.allSettled(this.#workers.map(({ run }) => run));
  }

  /** Stops everything now, abandoning calls still retrying: the cleanup after a failure. */
  async abort(): Promise<void> {
    this.#stopping = true;
    this.#wakeCreator?.();
    this.#abort.abort(new Error('the test stopped the load'));
    await Promise.allSettled(this.#loops);
    await this.stopWorkers();
  }

  /** Counts for the report. */
  summary() {
    const failed = this.attempts.filter(
      (attempt) =>
        attempt.endedAt !== undefined &&
        !attempt.aborted &&
        (attempt.status === 0 || attempt.status >= 500),
    );
    const byAnswer = new Map<string, number>();
    for (const attempt of failed) {
      const answer = `${attempt.status} ${attempt.error ?? ''}`.trim();
      byAnswer.set(answer, (byAnswer.get(answer) ?? 0) + 1);
    }
    return {
      requests: this.attempts.length,
      eventsSent: this.triedEvents.size,
      tasksCreated: this.createdTasks.size,
      handlerRuns: this.handled.length,
      failedAttempts: Object.fromEntries(byAnswer),
      retryNotices: this.logLines.filter((line) => line.includes('retrying in')).length,
      /** Completions the port refused because the lease had ended meanwhile (the task then ran again). */
      completionsNotRecorded: this.logLines.filter((line) => line.includes('could not complete'))
        .length,
      gaveUp: this.gaveUp.length,
    };
  }

  async #singles(name: string): Promise<void> {
    const connector = this.#connector(name, this.#main);
    for (let n = 0; !this.#stopping; n++) {
      const key = `${this.#options.label}:${name}:${n}`;
      this.triedEvents.add(key);
      try {
        const answer = await connector.emit(
          { type: 'restart_load', idempotency_key: key, data: { n } },
          { signal: this.#abort.signal },
        );
        this.acceptedEvents.set(key, answer.id);
        this.#completed(name);
      } catch (error) {
        if (this.#abort.signal.aborted) break;
        this.gaveUp.push({ generator: name, keys: [key], error: String(error) });
      }
    }
  }

  async #batches(name: string): Promise<void> {
    const connector = this.#connector(name, this.#main);
    for (let n = 0; !this.#stopping; n++) {
      const keys = Array.from(
        { length: BATCH_SIZE },
        (_, i) => `${this.#options.label}:${name}:${n}:${i}`,
      );
      for (const key of keys) this.triedEvents.add(key);
      try {
        const answer = await connector.emitBatch(
          keys.map((key, i) => ({ type: 'restart_load', idempotency_key: key, data: { n, i } })),
          { signal: this.#abort.signal },
        );
        for (const result of answer.results)
          this.acceptedEvents.set(result.idempotency_key, result.id);
        this.#completed(name);
      } catch (error) {
        if (this.#abort.signal.aborted) break;
        this.gaveUp.push({ generator: name, keys, error: String(error) });
      }
    }
  }

  async #creator(name: string): Promise<void> {
    const connector = this.#connector(name, this.#main);
    for (let n = 0; !this.#stopping; n++) {
      await this.#roomForTasks();
      if (this.#stopping) break;
      const key = `${this.#options.label}:task:${n}`;
      this.triedTasks.add(key);
      try {
        const { task } = await connector.createTask(
          {
            target: this.#options.source,
            action: 'noop',
            payload: { n },
            max_attempts: MAX_ATTEMPTS,
            idempotency_key: key,
          },
          { signal: this.#abort.signal },
        );
        this.createdTasks.set(key, task.id);
        this.#completed(name);
      } catch (error) {
        if (this.#abort.signal.aborted) break;
        this.gaveUp.push({ generator: name, keys: [key], error: String(error) });
      }
    }
  }

  /** Resolves when the backlog of created-but-not-run tasks is small again (or the load stops). */
  #roomForTasks(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        const backlog = [...this.createdTasks.values()].filter(
          (id) => !this.#handledTasks.has(id),
        ).length;
        if (this.#stopping || backlog < MAX_TASK_BACKLOG) {
          this.#wakeCreator = null;
          resolve();
        } else {
          this.#wakeCreator = check;
        }
      };
      check();
    });
  }

  #completed(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  #startWorker(
    name: string,
    key: { apiKey: string; source: string },
    options: Pick<TaskWorkerOptions, 'concurrency' | 'waitMs'>,
    handler: (task: { id: string; attempts: number }) => unknown,
  ): void {
    const connector = this.#connector(name, key);
    const worker = new TaskWorker(
      connector,
      { noop: handler },
      {
        ...options,
        leaseSeconds: LEASE_SECONDS,
        longPoll: true,
        pollIntervalMs: 500,
        shutdownGraceMs: 5_000,
        idleLogIntervalMs: 600_000,
        log: (line) => this.logLines.push(`[${name}] ${line}`),
      },
    );
    const run = worker.run().catch((error: unknown) => {
      this.gaveUp.push({ generator: name, keys: [], error: `worker stopped: ${String(error)}` });
    });
    this.#workers.push({ worker, run });
  }

  get #main(): { apiKey: string; source: string } {
    return { apiKey: this.#options.apiKey, source: this.#options.source };
  }

  #connector(name: string, key: { apiKey: string; source: string }): OmniHubConnector {
    return new OmniHubConnector({
      baseUrl: this.#options.portUrl,
      apiKey: key.apiKey,
      source: key.source,
      workerId: `${this.#options.label}-${name}`,
      // Not the developer's .env: everything the connector needs is given here.
      env: {},
      // The shipped retry policy: what an agent would do through the same outage.
      log: (line) => this.logLines.push(`[${name}] ${line}`),
      fetch: this.#observingFetch(name),
      // The shipped waits, but cut short by abort(): a worker's completion takes no signal.
      sleep: (ms, signal) => sleepUnlessAborted(ms, [signal, this.#abort.signal]),
    });
  }

  /** The global fetch, recording each attempt and, for events, each key's answer. */
  #observingFetch(generator: string): typeof fetch {
    return async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const path = url.pathname.replace(/^.*\/omnilink-port/, '');
      const body = typeof init?.body === 'string' ? init.body : undefined;
      const attempt: Attempt = {
        generator,
        method: init?.method ?? 'GET',
        path,
        status: 0,
        startedAt: Date.now(),
      };
      if (path === '/tasks/claim' && body) attempt.waitMs = JSON.parse(body).wait_ms;
      this.attempts.push(attempt);
      this.#inFlight.add(attempt);
      try {
        const response = await fetch(input, init);
        attempt.status = response.status;
        // Read from a copy: the connector reads the original, as it would unobserved.
        const text = await response.clone().text();
        if (!response.ok) attempt.error = errorCode(text);
        else if (path === '/events' && body) this.#recordEventAnswers(body, text);
        return response;
      } catch (error) {
        attempt.aborted = init?.signal?.aborted ?? false;
        attempt.error = (error as Error).cause
          ? String(((error as Error).cause as Error).message ?? (error as Error).cause)
          : (error as Error).message;
        throw error;
      } finally {
        attempt.endedAt = Date.now();
        this.#inFlight.delete(attempt);
      }
    };
  }

  #recordEventAnswers(requestBody: string, responseText: string): void {
    const sent = JSON.parse(requestBody) as { idempotency_key?: string; events?: unknown[] };
    const answer = JSON.parse(responseText) as {
      status?: EventAnswer['status'];
      id?: string;
      results?: { idempotency_key: string; status: EventAnswer['status']; id: string }[];
    };
    const results = answer.results ?? [
      { idempotency_key: sent.idempotency_key!, status: answer.status!, id: answer.id! },
    ];
    for (const result of results) {
      const list = this.eventAnswers.get(result.idempotency_key) ?? [];
      list.push({ status: result.status, id: result.id });
      this.eventAnswers.set(result.idempotency_key, list);
    }
  }
}

function errorCode(text: string): string {
  try {
    return String((JSON.parse(text) as { error?: unknown }).error ?? 'no error code');
  } catch {
    return 'not JSON';
  }
}

/** Waits `ms`, rejecting early with the reason of whichever signal aborts first. */
function sleepUnlessAborted(ms: number, signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const live = signals.filter((signal): signal is AbortSignal => signal !== undefined);
    const aborted = live.find((signal) => signal.aborted);
    if (aborted) return reject(aborted.reason);
    const finish = (end: () => void) => {
      clearTimeout(timer);
      for (const signal of live) signal.removeEventListener('abort', onAbort);
      end();
    };
    const onAbort = (event: Event) => finish(() => reject((event.target as AbortSignal).reason));
    const timer = setTimeout(() => finish(resolve), ms);
    for (const signal of live) signal.addEventListener('abort', onAbort, { once: true });
  });
}
