import {
  ClaimTasksRequestBody,
  ClaimTasksResponse,
  CompleteTaskRequestBody,
  CompleteTasksRequestBody,
  CompleteTasksResponse,
  CreateTaskRequestBody,
  CreateTaskResponse,
  EmitEventBatchResponse,
  EmitEventRequestBody,
  EmitEventResponse,
  ERROR_STATUS,
  ErrorResponse,
  HealthResponse,
  HeartbeatRequestBody,
  HeartbeatResponse,
  MAX_BODY_BYTES,
  MAX_EVENTS_PER_BATCH,
  TelemetryEvent,
  jsonByteLength,
  StatsResponse,
  TaskResponse,
  WhoAmIResponse,
  type ErrorCode,
  type Task,
  type TaskCompletionResult,
} from '@omnihub/contracts';
import { z } from 'zod';
import { resolveConfig, type ConfigInput, type ConnectorConfig } from './config.ts';
import { OmniHubError } from './errors.ts';
import { consoleLog, type LogLine } from './log.ts';
import { DEFAULT_RETRY, backoffDelay, sleep, type RetryPolicy } from './retry.ts';

export interface ConnectorOptions extends ConfigInput {
  retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout for a request (a long-poll claim adds its wait). */
  requestTimeoutMs?: number;
  /** Where retry notices go; defaults to timestamped stdout lines. */
  log?: LogLine;
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Injectable for tests: how the connector waits between attempts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** An event as an agent writes it: the connector fills in the idempotency key and the source when absent. */
export type EventInput = Omit<TelemetryEvent, 'idempotency_key'> & { idempotency_key?: string };

export interface ClaimOptions extends CallOptions {
  maxTasks?: number;
  /** Long poll: let the port hold the request up to this long when nothing is ready. */
  waitMs?: number;
  leaseSeconds?: number;
  actions?: string[];
}

export interface CompleteInput {
  status: 'succeeded' | 'failed';
  output?: unknown;
  error?: string | null;
  retryable?: boolean;
  /** The claimed task's `attempts`; protects a later attempt from a late message. */
  attempt?: number;
}

const USER_AGENT = 'omnihub-connector/0.1.0';
const DEFAULT_TIMEOUT_MS = 30_000;

/** Codes worth another try: the port or the network will likely recover. */
const RETRYABLE = new Set<ErrorCode>(['internal', 'omnilink_disabled']);

/**
 * A typed client for the OmniLink Port: one method per endpoint, every
 * response checked against the shared contract schemas. Network errors,
 * 5xx and 503 `omnilink_disabled` are retried with exponential backoff
 * within `retry.maxElapsedMs`; 429 waits exactly `retry_after_seconds`; any
 * other refusal throws an OmniHubError at once. Writes are safe to retry: an
 * event or a task keeps one idempotency key across all its attempts.
 */
export class OmniHubConnector {
  readonly config: ConnectorConfig;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #log: LogLine;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: ConnectorOptions = {}) {
    this.config = resolveConfig(options);
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#log = options.log ?? consoleLog(this.config.workerId);
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#sleep = options.sleep ?? sleep;
  }

  /** The port's base, e.g. https://<ref>.supabase.co/functions/v1/omnilink-port. */
  get portUrl(): string {
    return `${this.config.baseUrl}/omnilink-port`;
  }

  async health(options: CallOptions = {}): Promise<HealthResponse> {
    return this.#call('GET', '/health', HealthResponse, options);
  }

  async whoami(options: CallOptions = {}): Promise<WhoAmIResponse> {
    return this.#call('GET', '/whoami', WhoAmIResponse, options);
  }

  async stats(options: CallOptions = {}): Promise<StatsResponse> {
    return this.#call('GET', '/stats', StatsResponse, options);
  }

  /** Sends one event; without an idempotency key it gets one, kept across retries. */
  async emit(event: EventInput, options: CallOptions = {}): Promise<EmitEventResponse> {
    const body = checkRequest(EmitEventRequestBody, this.#completeEvent(event));
    return this.#call('POST', '/events', EmitEventResponse, { ...options, body });
  }

  /** Sends many events, in batches of up to 500; the results keep the input order. */
  async emitBatch(
    events: EventInput[],
    options: CallOptions = {},
  ): Promise<EmitEventBatchResponse> {
    // Every event is checked before any is sent: one bad event sends nothing, as the port's own batches.
    const complete = checkRequest(
      z.array(TelemetryEvent),
      events.map((event) => this.#completeEvent(event)),
      'events',
    );
    const merged: EmitEventBatchResponse = { created: 0, duplicates: 0, results: [] };
    for (const chunk of batches(complete)) {
      const batch = await this.#call('POST', '/events', EmitEventBatchResponse, {
        ...options,
        body: { events: chunk },
      });
      merged.created += batch.created;
      merged.duplicates += batch.duplicates;
      merged.results.push(...batch.results);
    }
    return merged;
  }

  /**
   * Creates a task. Without an idempotency key it gets one, so a retry after
   * a lost response returns the same task instead of creating a second.
   */
  async createTask(
    task: z.input<typeof CreateTaskRequestBody>,
    options: CallOptions = {},
  ): Promise<{ task: Task; duplicate: boolean }> {
    const body = checkRequest(CreateTaskRequestBody, {
      ...task,
      idempotency_key:
        task.idempotency_key ?? `${this.config.source ?? 'connector'}:${crypto.randomUUID()}`,
    });
    const response = await this.#call('POST', '/tasks', CreateTaskResponse, { ...options, body });
    // A retry of our own request also comes back as "duplicate": only a key the caller chose can mean a real one.
    return {
      task: response.task,
      duplicate: response.status === 'duplicate' && task.idempotency_key !== undefined,
    };
  }

  /** Leases ready tasks of this key's source (as `worker_id` = the configured worker id). */
  async claim(options: ClaimOptions = {}): Promise<Task[]> {
    const waitMs = options.waitMs ?? 0;
    const body = checkRequest(ClaimTasksRequestBody, {
      worker_id: this.config.workerId,
      max_tasks: options.maxTasks ?? 1,
      wait_ms: waitMs,
      lease_seconds: options.leaseSeconds ?? 300,
      ...(options.actions ? { actions: options.actions } : {}),
    });
    const response = await this.#call('POST', '/tasks/claim', ClaimTasksResponse, {
      signal: options.signal,
      body,
      timeoutMs: this.#timeoutMs + waitMs,
    });
    return response.tasks;
  }

  async heartbeat(
    taskId: string,
    input: { leaseSeconds?: number; progress?: Record<string, unknown>; attempt?: number } = {},
    options: CallOptions = {},
  ): Promise<HeartbeatResponse> {
    const body = checkRequest(HeartbeatRequestBody, {
      worker_id: this.config.workerId,
      ...(input.attempt !== undefined ? { attempt: input.attempt } : {}),
      ...(input.leaseSeconds !== undefined ? { lease_seconds: input.leaseSeconds } : {}),
      ...(input.progress !== undefined ? { progress: input.progress } : {}),
    });
    return this.#call('POST', `/tasks/${encodeURIComponent(taskId)}/heartbeat`, HeartbeatResponse, {
      ...options,
      body,
    });
  }

  async complete(taskId: string, input: CompleteInput, options: CallOptions = {}): Promise<Task> {
    const body = checkRequest(CompleteTaskRequestBody, {
      worker_id: this.config.workerId,
      status: input.status,
      ...(input.attempt !== undefined ? { attempt: input.attempt } : {}),
      ...(input.output !== undefined ? { output: input.output } : {}),
      ...(input.error !== undefined ? { error: input.error } : {}),
      ...(input.retryable !== undefined ? { retryable: input.retryable } : {}),
    });
    const response = await this.#call(
      'POST',
      `/tasks/${encodeURIComponent(taskId)}/complete`,
      TaskResponse,
      {
        ...options,
        body,
      },
    );
    return response.task;
  }

  /**
   * Completes up to 100 tasks in one request (POST /tasks/complete): one
   * result per completion, in order — `completed` with the task's status, or
   * the refusal the single endpoint would give (lease_lost, not_found).
   */
  async completeMany(
    completions: (CompleteInput & { taskId: string })[],
    options: CallOptions = {},
  ): Promise<TaskCompletionResult[]> {
    const body = checkRequest(CompleteTasksRequestBody, {
      worker_id: this.config.workerId,
      completions: completions.map(({ taskId, ...input }) => ({
        task_id: taskId,
        status: input.status,
        ...(input.attempt !== undefined ? { attempt: input.attempt } : {}),
        ...(input.output !== undefined ? { output: input.output } : {}),
        ...(input.error !== undefined ? { error: input.error } : {}),
        ...(input.retryable !== undefined ? { retryable: input.retryable } : {}),
      })),
    });
    const response = await this.#call('POST', '/tasks/complete', CompleteTasksResponse, {
      ...options,
      body,
    });
    return response.results;
  }

  async getTask(taskId: string, options: CallOptions = {}): Promise<Task> {
    const response = await this.#call(
      'GET',
      `/tasks/${encodeURIComponent(taskId)}`,
      TaskResponse,
      options,
    );
    return response.task;
  }

  #completeEvent(event: EventInput): TelemetryEvent {
    return {
      ...event,
      idempotency_key:
        event.idempotency_key ?? `${this.config.source ?? 'connector'}:${crypto.randomUUID()}`,
      // Sent when known, so a key used under the wrong OMNIHUB_SOURCE is refused instead of mislabelled.
      ...((event.source ?? this.config.source)
        ? { source: event.source ?? this.config.source }
        : {}),
    };
  }

  async #call<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    options: CallOptions & { body?: unknown; timeoutMs?: number },
  ): Promise<z.output<S>> {
    const started = Date.now();
    const giveUpAt = started + this.#retry.maxElapsedMs;
    // Serialised once: every attempt sends the very same bytes (same idempotency keys).
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    for (let retry = 0; ; retry++) {
      const outcome = await this.#attempt(method, path, body, options);
      if (outcome.ok) return parseResponse(schema, outcome.body, method, path);

      const { error } = outcome;
      let waitMs: number;
      if (error.code === 'rate_limited' && error.body?.retry_after_seconds !== undefined) {
        waitMs = error.body.retry_after_seconds * 1000;
      } else if (
        error.status === 0 ||
        RETRYABLE.has(error.code) ||
        error.status >= 500 ||
        error.code === 'rate_limited'
      ) {
        waitMs = backoffDelay(this.#retry, retry);
      } else {
        throw error;
      }
      if (Date.now() + waitMs > giveUpAt) throw error;
      this.#log(
        `${method} ${path}: ${describe(error)}; retrying in ${(waitMs / 1000).toFixed(1)} s`,
      );
      await this.#sleep(waitMs, options.signal);
    }
  }

  /** One try. Never throws for a refusal or a network failure (they are returned); rethrows a caller's abort. */
  async #attempt(
    method: string,
    path: string,
    body: string | undefined,
    options: CallOptions & { timeoutMs?: number },
  ): Promise<{ ok: true; body: unknown } | { ok: false; error: OmniHubError }> {
    // Linked by hand rather than with AbortSignal.any: on Node 20 a long-lived
    // caller signal (a worker's) keeps every signal combined with it alive.
    const attempt = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort(new Error('timed out'));
    }, options.timeoutMs ?? this.#timeoutMs);
    const onAbort = () => attempt.abort(options.signal!.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let response: Response;
      let text: string;
      try {
        response = await this.#fetch(`${this.portUrl}${path}`, {
          method,
          body,
          signal: attempt.signal,
          headers: {
            authorization: `Bearer ${this.config.apiKey}`,
            'content-type': 'application/json',
            // Header values must be Latin-1; worker ids need not be.
            'user-agent': `${USER_AGENT} (${encodeURIComponent(this.config.source ?? '-')}; ${encodeURIComponent(this.config.workerId)})`,
          },
        });
        // Reading the body can fail too (a reset, the timeout): that is "no answer", not a bad answer.
        text = await response.text();
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        const reason = timedOut ? 'timed out' : (error as Error).message;
        return {
          ok: false,
          error: OmniHubError.unreachable(`no answer from ${this.portUrl} (${reason})`),
        };
      }
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (response.ok) return { ok: true, body: parsed };
      const refusal = ErrorResponse.safeParse(parsed);
      if (refusal.success) {
        return {
          ok: false,
          error: new OmniHubError(
            refusal.data.error,
            refusal.data.message,
            response.status,
            refusal.data,
          ),
        };
      }
      // Not the port's JSON (a gateway in front of it, e.g. Supabase's own JWT check): judge by the status.
      return {
        ok: false,
        error: new OmniHubError(
          codeForStatus(response.status),
          `HTTP ${response.status} from ${this.portUrl}${path}, not from the OmniLink Port`,
          response.status,
        ),
      };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}

const CODE_BY_STATUS = new Map(
  Object.entries(ERROR_STATUS).map(([code, status]) => [status as number, code as ErrorCode]),
);

function codeForStatus(status: number): ErrorCode {
  return status >= 500 ? 'internal' : (CODE_BY_STATUS.get(status) ?? 'invalid_request');
}

/** Body bytes a batch may use, leaving room under the port's 1 MiB limit for the envelope. */
const BATCH_BYTES = MAX_BODY_BYTES - 4 * 1024;

/** Splits events into requests the port accepts: at most 500 each, and under 1 MiB serialized. */
function* batches(events: TelemetryEvent[]): Generator<TelemetryEvent[]> {
  let chunk: TelemetryEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = jsonByteLength(event) + 1;
    if (chunk.length > 0 && (chunk.length === MAX_EVENTS_PER_BATCH || bytes + size > BATCH_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(event);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

function describe(error: OmniHubError): string {
  if (error.code === 'omnilink_disabled') return 'OmniLink is switched off (omnilink_disabled)';
  if (error.code === 'rate_limited') return 'rate limited (429)';
  return error.status === 0 ? error.message : `${error.code} (${error.status})`;
}

/** The same rules the port applies, checked before sending: a mistake is reported here, field by field. */
function checkRequest<S extends z.ZodType>(
  schema: S,
  value: unknown,
  pathPrefix?: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: [...(pathPrefix ? [pathPrefix] : []), ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const summary = issues
    .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
    .join('; ');
  throw new OmniHubError('invalid_request', `invalid request: ${summary}`, 0, {
    error: 'invalid_request',
    message: summary,
    issues,
  });
}

function parseResponse<S extends z.ZodType>(
  schema: S,
  body: unknown,
  method: string,
  path: string,
): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new Error(
    `${method} ${path}: the port answered with an unexpected body (${result.error.issues[0]?.message}). Is OMNIHUB_BASE_URL an OmniHub deployment?`,
  );
}
