import { z } from 'zod';
import type { ErrorCode } from './errors.ts';
import {
  EmitEventBatchRequestBody,
  EmitEventBatchResponse,
  EmitEventRequestBody,
  EmitEventResponse,
} from './events.ts';
import { HealthResponse, OpenApiDocumentResponse, WhoAmIResponse } from './health.ts';
import type { Scope } from './scopes.ts';
import {
  ClaimTasksRequestBody,
  ClaimTasksResponse,
  CompleteTaskRequestBody,
  CompleteTasksRequestBody,
  CompleteTasksResponse,
  CreateTaskRequestBody,
  CreateTaskResponse,
  HeartbeatRequestBody,
  HeartbeatResponse,
  StatsResponse,
  TaskResponse,
} from './tasks.ts';

export interface EndpointResponse {
  description: string;
  schema: z.ZodType;
  /** The response's media type; JSON unless given. */
  mediaType?: string;
}

/** GET /metrics answers in the Prometheus text exposition format, version 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** GET /metrics: Prometheus text, one sample a line (not JSON). */
export const MetricsResponse = z.string().meta({
  description:
    'Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` lines, then one `name{label="value"} number` line per sample.',
  examples: [
    '# HELP omnihub_tasks Tasks of the tenant now, by target and status.\n# TYPE omnihub_tasks gauge\nomnihub_tasks{target="apex-sales",status="queued"} 3\n',
  ],
});

/** One endpoint of the port: the single description that routing, scopes and OpenAPI all read. */
export interface Endpoint {
  method: 'get' | 'post';
  /** Relative to the port's base, in OpenAPI form (`/tasks/{id}`). */
  path: string;
  summary: string;
  /** The key must hold one of these; `null` for endpoints that need no key. */
  scopes: readonly Scope[] | null;
  /** Request body schemas; several when the body has alternative shapes. */
  body?: readonly z.ZodType[];
  responses: Record<number, EndpointResponse>;
  errors: readonly ErrorCode[];
}

const AUTHENTICATED_ERRORS: readonly ErrorCode[] = [
  'unauthorized',
  'permission_denied',
  'rate_limited',
  'omnilink_disabled',
  'internal',
];

export const ENDPOINTS = {
  health: {
    method: 'get',
    path: '/health',
    summary: 'Liveness and version; 503 when the deployment-wide kill switch is off.',
    scopes: null,
    responses: { 200: { description: 'The port is up.', schema: HealthResponse } },
    errors: ['omnilink_disabled'],
  },
  openapi: {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document.',
    scopes: null,
    responses: {
      200: { description: 'The OpenAPI 3.1 document.', schema: OpenApiDocumentResponse },
    },
    errors: ['omnilink_disabled'],
  },
  emitEvents: {
    method: 'post',
    path: '/events',
    summary: 'Store one telemetry event, or a batch of up to 500. Idempotent per integration.',
    scopes: ['events:write'],
    body: [EmitEventRequestBody, EmitEventBatchRequestBody],
    responses: {
      201: { description: 'A single event was stored.', schema: EmitEventResponse },
      200: {
        description:
          'A single event was a duplicate (`EmitEventResponse`), or a batch was processed (`EmitEventBatchResponse`).',
        schema: EmitEventBatchResponse,
      },
    },
    errors: ['invalid_request', 'payload_too_large', ...AUTHENTICATED_ERRORS],
  },
  createTask: {
    method: 'post',
    path: '/tasks',
    summary: 'Create a task for a target. Idempotent per tenant when an idempotency key is given.',
    scopes: ['tasks:create'],
    body: [CreateTaskRequestBody],
    responses: {
      201: { description: 'The task was created.', schema: CreateTaskResponse },
      200: {
        description: 'The idempotency key was used before: the original task.',
        schema: CreateTaskResponse,
      },
    },
    errors: ['invalid_request', 'payload_too_large', ...AUTHENTICATED_ERRORS],
  },
  claimTasks: {
    method: 'post',
    path: '/tasks/claim',
    summary:
      "Lease ready tasks of the key's source, highest priority first; optionally wait for one.",
    scopes: ['tasks:claim'],
    body: [ClaimTasksRequestBody],
    responses: {
      200: {
        description: 'The claimed tasks; empty when none was ready.',
        schema: ClaimTasksResponse,
      },
    },
    errors: ['invalid_request', 'payload_too_large', ...AUTHENTICATED_ERRORS],
  },
  heartbeat: {
    method: 'post',
    path: '/tasks/{id}/heartbeat',
    summary: 'Extend the lease on a running task and report progress.',
    scopes: ['tasks:claim'],
    body: [HeartbeatRequestBody],
    responses: { 200: { description: 'The new lease end.', schema: HeartbeatResponse } },
    errors: [
      'invalid_request',
      'payload_too_large',
      'not_found',
      'lease_lost',
      ...AUTHENTICATED_ERRORS,
    ],
  },
  completeTask: {
    method: 'post',
    path: '/tasks/{id}/complete',
    summary: 'Finish a claimed task: succeeded, or failed (retried with backoff when retryable).',
    scopes: ['tasks:complete'],
    body: [CompleteTaskRequestBody],
    responses: { 200: { description: 'The task after completion.', schema: TaskResponse } },
    errors: [
      'invalid_request',
      'payload_too_large',
      'not_found',
      'lease_lost',
      ...AUTHENTICATED_ERRORS,
    ],
  },
  completeTasks: {
    method: 'post',
    path: '/tasks/complete',
    summary:
      'Finish up to 100 claimed tasks of one worker in one call; each completion follows the rule of POST /tasks/{id}/complete and gets its own result, in request order.',
    scopes: ['tasks:complete'],
    body: [CompleteTasksRequestBody],
    responses: {
      200: {
        description:
          "One result per completion: `completed` with the task's status now, or the refusal the single endpoint would give (`lease_lost` with the status, `not_found`).",
        schema: CompleteTasksResponse,
      },
    },
    errors: ['invalid_request', 'payload_too_large', ...AUTHENTICATED_ERRORS],
  },
  whoami: {
    method: 'get',
    path: '/whoami',
    summary:
      'What the presented key is: its source, tenant, scopes, limit and expiry. Any valid key may ask.',
    scopes: ['events:write', 'tasks:create', 'tasks:claim', 'tasks:complete', 'metrics:read'],
    responses: { 200: { description: 'The key.', schema: WhoAmIResponse } },
    errors: AUTHENTICATED_ERRORS,
  },
  stats: {
    method: 'get',
    path: '/stats',
    summary:
      "The key's target now: tasks by status, tasks finished in the last 5 minutes, the oldest ready task's age, workers seen in the last minute.",
    scopes: ['tasks:create', 'tasks:claim', 'tasks:complete'],
    responses: { 200: { description: 'The statistics.', schema: StatsResponse } },
    errors: AUTHENTICATED_ERRORS,
  },
  metrics: {
    method: 'get',
    path: '/metrics',
    summary:
      "Prometheus metrics of the key's whole tenant: tasks by target and status, finished tasks, events by source and type, online workers, the oldest ready task's age.",
    scopes: ['metrics:read'],
    responses: {
      200: {
        description: 'The metrics, in the Prometheus text format.',
        schema: MetricsResponse,
        mediaType: METRICS_CONTENT_TYPE,
      },
    },
    errors: AUTHENTICATED_ERRORS,
  },
  getTask: {
    method: 'get',
    path: '/tasks/{id}',
    summary: "Read one task of the key's tenant.",
    scopes: ['tasks:create', 'tasks:claim', 'tasks:complete'],
    responses: { 200: { description: 'The task.', schema: TaskResponse } },
    errors: ['not_found', ...AUTHENTICATED_ERRORS],
  },
} as const satisfies Record<string, Endpoint>;

export type EndpointName = keyof typeof ENDPOINTS;
