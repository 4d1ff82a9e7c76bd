import { z } from 'zod';
import {
  BoundedJsonObject,
  DEPTH_MESSAGE,
  IdempotencyKey,
  Identifier,
  JsonObject,
  StoredJsonObject,
  TaskId,
  Timestamp,
  WorkerId,
  isWithinJsonDepth,
} from './common.ts';

export const TaskStatus = z.enum([
  'queued',
  'waiting_approval',
  'approved',
  'running',
  'succeeded',
  'failed',
  'canceled',
]);
export type TaskStatus = z.infer<typeof TaskStatus>;

/** Statuses a task never leaves. */
export const FINAL_TASK_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'canceled'];

export const Priority = z
  .int('must be an integer from 1 to 10')
  .min(1, 'must be from 1 to 10')
  .max(10, 'must be from 1 to 10');

export const LeaseSeconds = z
  .int('must be an integer from 5 to 3600')
  .min(5, 'must be from 5 to 3600')
  .max(3600, 'must be from 5 to 3600');

export const Task = z.object({
  id: z.uuid(),
  target: z.string(),
  action: z.string(),
  params: z.object({ payload: JsonObject }),
  status: TaskStatus,
  /** 1–10, higher runs first. */
  priority: z.int(),
  /** Not claimed before this time; also set by retry backoff. */
  run_at: Timestamp.nullable(),
  require_approval: z.boolean(),
  attempts: z.int(),
  max_attempts: z.int(),
  /** Worker holding (or that last held) the lease. */
  claimed_by: z.string().nullable(),
  lease_expires_at: Timestamp.nullable(),
  /** The handler's result; `{truncated, preview}` when it was over 16 KiB. */
  output: z.unknown(),
  output_truncated: z.boolean(),
  error: z.string().nullable(),
  /** Ids of tasks that must succeed before this one is claimed. */
  depends_on: z.array(z.uuid()),
  /** The last progress a worker reported in a heartbeat. */
  progress: JsonObject.nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Task = z.infer<typeof Task>;

export const CreateTaskRequestBody = z.strictObject({
  /** The source of the integration whose workers run the task. */
  target: Identifier,
  action: Identifier,
  payload: StoredJsonObject.default({}),
  require_approval: z.boolean().default(false),
  priority: Priority.default(5),
  run_at: Timestamp.nullable().default(null),
  max_attempts: z
    .int('must be an integer from 1 to 20')
    .min(1, 'must be from 1 to 20')
    .max(20, 'must be from 1 to 20')
    .default(3),
  /** Unique per tenant: a repeat returns the original task with status `duplicate`. */
  idempotency_key: IdempotencyKey.nullable().optional(),
  depends_on: z.array(TaskId).max(100, 'must list at most 100 tasks').default([]),
});
export type CreateTaskRequestBody = z.input<typeof CreateTaskRequestBody>;

export const TaskResponse = z.object({ task: Task });
export type TaskResponse = z.infer<typeof TaskResponse>;

export const CreateTaskResponse = z.object({
  /** Present (`duplicate`) only when the idempotency key was used before. */
  status: z.literal('duplicate').optional(),
  task: Task,
});
export type CreateTaskResponse = z.infer<typeof CreateTaskResponse>;

export const ClaimTasksRequestBody = z.strictObject({
  worker_id: WorkerId,
  max_tasks: z
    .int('must be an integer from 1 to 100')
    .min(1, 'must be from 1 to 100')
    .max(100, 'must be from 1 to 100')
    .default(1),
  /** Long poll: hold the request up to this long when nothing is ready. */
  wait_ms: z
    .int('must be an integer from 0 to 25000')
    .min(0, 'must be from 0 to 25000')
    .max(25000, 'must be from 0 to 25000')
    .default(0),
  lease_seconds: LeaseSeconds.default(300),
  /** Claim only these actions. */
  actions: z.array(Identifier).min(1, 'must list at least one action').max(100).optional(),
});
export type ClaimTasksRequestBody = z.input<typeof ClaimTasksRequestBody>;

export const ClaimTasksResponse = z.object({ tasks: z.array(Task) });
export type ClaimTasksResponse = z.infer<typeof ClaimTasksResponse>;

/**
 * The attempt number the worker was handed (the claimed Task's `attempts`).
 * Optional; when sent, a delayed message about an earlier attempt cannot
 * touch a later attempt of the same task by the same worker.
 */
const Attempt = z.int('must be a whole number').min(1, 'must be at least 1');

export const HeartbeatRequestBody = z.strictObject({
  worker_id: WorkerId,
  attempt: Attempt.optional(),
  /** New lease length from now; defaults to the length used at claim. */
  lease_seconds: LeaseSeconds.optional(),
  /** Anything the worker wants shown; text Postgres cannot store is replaced with U+FFFD. */
  progress: BoundedJsonObject.optional(),
});
export type HeartbeatRequestBody = z.input<typeof HeartbeatRequestBody>;

export const HeartbeatResponse = z.object({ lease_expires_at: Timestamp });
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

export const CompleteTaskRequestBody = z.strictObject({
  worker_id: WorkerId,
  attempt: Attempt.optional(),
  status: z.enum(['succeeded', 'failed']),
  /**
   * Any JSON; over 16 KiB serialized it is stored cut, as `{truncated,
   * preview}`. Text Postgres cannot store is replaced with U+FFFD, so a
   * worker can always report its result.
   */
  output: z.unknown().refine(isWithinJsonDepth, DEPTH_MESSAGE).optional(),
  /** Why it failed; longer than 4000 characters it is stored cut (and made storable, as output is). */
  error: z.string().nullable().optional(),
  /** For `failed`: whether another attempt may run (default true). */
  retryable: z.boolean().default(true),
});
export type CompleteTaskRequestBody = z.input<typeof CompleteTaskRequestBody>;

/** Most completions one POST /tasks/complete carries (a claim's largest batch). */
export const MAX_BATCH_COMPLETIONS = 100;

/** One completion in a batch: the body of POST /tasks/{id}/complete, with the task's id and without the worker's. */
export const TaskCompletion = CompleteTaskRequestBody.omit({ worker_id: true }).extend({
  task_id: TaskId,
});
export type TaskCompletion = z.input<typeof TaskCompletion>;

export const CompleteTasksRequestBody = z.strictObject({
  worker_id: WorkerId,
  completions: z
    .array(TaskCompletion)
    .min(1, 'must hold at least one completion')
    .max(MAX_BATCH_COMPLETIONS, `must hold at most ${MAX_BATCH_COMPLETIONS} completions`)
    .refine(
      (completions) => new Set(completions.map((c) => c.task_id)).size === completions.length,
      'must name each task once',
    ),
});
export type CompleteTasksRequestBody = z.input<typeof CompleteTasksRequestBody>;

/** How one completion of a batch went: recorded (with the task's status now), or refused as the single endpoint would. */
export const TaskCompletionResult = z.union([
  z.object({
    task_id: z.uuid(),
    outcome: z.literal('completed'),
    status: TaskStatus,
  }),
  z.object({
    task_id: z.uuid(),
    error: z.enum(['lease_lost', 'not_found']),
    message: z.string(),
    /** For lease_lost: the task's status now. */
    status: TaskStatus.optional(),
  }),
]);
export type TaskCompletionResult = z.infer<typeof TaskCompletionResult>;

export const CompleteTasksResponse = z.object({ results: z.array(TaskCompletionResult) });
export type CompleteTasksResponse = z.infer<typeof CompleteTasksResponse>;

/** GET /stats: the key's target right now. */
export const StatsResponse = z.object({
  target: z.string(),
  /** Tasks of the target by status (every status present, 0 when none). */
  tasks: z.record(TaskStatus, z.int().min(0)),
  /** Tasks of the target that ended (succeeded, failed or canceled) in the last 5 minutes. */
  finished_last_5m: z.int().min(0),
  /** Age of the oldest task ready to be claimed; null when none is. */
  oldest_ready_age_seconds: z.int().min(0).nullable(),
  /** Workers of the target seen (claim or heartbeat) in the last minute, most recent first. */
  workers: z.array(
    z.object({
      worker_id: z.string(),
      last_seen_at: Timestamp,
      last_claim_at: Timestamp.nullable(),
    }),
  ),
  /** Whether an operator paused the target: claims hand out nothing until it is resumed. */
  paused: z.boolean(),
  /** Concurrency limits on the target's actions (set by admins), by action, with how many run now. */
  limits: z.array(
    z.object({
      action: z.string(),
      max_running: z.int().min(1),
      running: z.int().min(0),
    }),
  ),
  generated_at: Timestamp,
});
export type StatsResponse = z.infer<typeof StatsResponse>;
