import {
  ClaimTasksRequestBody,
  ClaimTasksResponse,
  CompleteTaskRequestBody,
  CreateTaskRequestBody,
  CreateTaskResponse,
  EmitEventBatchRequestBody,
  EmitEventBatchResponse,
  EmitEventRequestBody,
  EmitEventResponse,
  ErrorResponse,
  HealthResponse,
  HeartbeatRequestBody,
  HeartbeatResponse,
  MAX_EVENTS_PER_BATCH,
  StatsResponse,
  TaskResponse,
  WhoAmIResponse,
  type ErrorCode,
  type Task,
  type TelemetryEvent,
} from '@omnihub/contracts';
import type { z } from 'zod';
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
    const merged: EmitEventBatchResponse = { created: 0, duplicates: 0, results: [] };
    const complete = events.map((event) => this.#completeEvent(event));
    for (let start = 0; start < complete.length; start += MAX_EVENTS_PER_BATCH) {
      const body = checkRequest(EmitEventBatchRequestBody, {
        events: complete.slice(start, start + MAX_EVENTS_PER_BATCH),
      });
      const batch = await this.#call('POST', '/events', EmitEventBatchResponse, {
        ...options,
        body,
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
      } else if (error.status === 0 || RETRYABLE.has(error.code) || error.status >= 500) {
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
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await this.#fetch(`${this.portUrl}${path}`, {
        method,
        body,
        signal,
        headers: {
          authorization: `Bearer ${this.config.apiKey}`,
          'content-type': 'application/json',
          'user-agent': `${USER_AGENT} (${this.config.source ?? 'any source'}; ${this.config.workerId})`,
        },
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const reason = timeout.aborted ? 'timed out' : (error as Error).message;
      return {
        ok: false,
        error: new OmniHubError('internal', `no answer from ${this.portUrl} (${reason})`, 0),
      };
    }
    const text = await response.text().catch(() => '');
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
    // Not the port's JSON (a proxy or gateway page): judge by the status alone.
    return {
      ok: false,
      error: new OmniHubError(
        response.status >= 500 ? 'internal' : 'invalid_request',
        `HTTP ${response.status} from ${this.portUrl}${path}`,
        response.status,
      ),
    };
  }
}

function describe(error: OmniHubError): string {
  if (error.code === 'omnilink_disabled') return 'OmniLink is switched off (omnilink_disabled)';
  if (error.code === 'rate_limited') return 'rate limited (429)';
  return error.status === 0 ? error.message : `${error.code} (${error.status})`;
}

/** The same rules the port applies, checked before sending: a mistake is reported here, field by field. */
function checkRequest<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
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
